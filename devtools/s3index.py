"""An index for the embedded S3 server's listings, for benchmarks over a million objects.

moto answers each ListObjectsV2 page by scanning and sorting every key of the bucket, then
walking to the continuation token: a page of a 1,000,000-object bucket costs the server seconds,
so a benchmark would measure moto, not the tap. With `install()`, the server keeps each bucket's
key names sorted (rebuilt when the bucket's size changes) and answers a page from the part of
that list under the prefix, by bisection. What the tap sees is unchanged: the same keys, pages,
continuation tokens and XML (moto's own template renders them). Only prefixes without
sub-folders take this path (the benchmarks' folders have none); anything else is moto's own.
"""

import bisect
import threading

from moto.s3.models import S3Backend
from moto.s3.responses import S3Response

_lock = threading.Lock()
_sorted = {}  # bucket name -> (number of keys, sorted key names, {(prefix, delimiter): nested})
_original_list = S3Backend.list_objects_v2
_original_from_token = S3Response._get_results_from_token


class SortedView:
    """Keys names[lo:hi] of a bucket as moto's listing code uses its list of keys."""

    def __init__(self, bucket, names, lo, hi):
        self.bucket, self.names, self.lo, self.hi = bucket, names, lo, hi

    def __len__(self):
        return self.hi - self.lo

    def _key(self, name):
        return self.bucket.keys[name]

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return [self._key(self.names[self.lo + n]) for n in range(start, stop, step)]
        if index < 0:
            index += len(self)
        return self._key(self.names[self.lo + index])

    def __iter__(self):
        for n in range(self.lo, self.hi):
            yield self._key(self.names[n])

    def after(self, token):
        return SortedView(self.bucket, self.names,
                          bisect.bisect_right(self.names, token, self.lo, self.hi), self.hi)


def _names(bucket):
    with _lock:
        count = len(bucket.keys)
        cached = _sorted.get(bucket.name)
        if cached is None or cached[0] != count:
            cached = (count, sorted(bucket.keys.keys()), {})
            _sorted[bucket.name] = cached
        return cached[1], cached[2]


def _list_objects_v2(self, bucket, prefix, delimiter):
    names, nested = _names(bucket)
    prefix = prefix or ""
    lo = bisect.bisect_left(names, prefix)
    hi = bisect.bisect_left(names, prefix + "\U0010ffff")
    if (prefix, delimiter) not in nested:  # once per prefix while the bucket is unchanged
        nested[prefix, delimiter] = bool(delimiter) and any(
            delimiter in names[n][len(prefix):] for n in range(lo, hi))
    if nested[prefix, delimiter] or bucket.is_versioned:
        return _original_list(self, bucket, prefix, delimiter)  # moto's own way
    return SortedView(bucket, names, lo, hi)


def _get_results_from_token(self, result_keys, token):
    if isinstance(result_keys, SortedView):
        return result_keys.after(token)
    return _original_from_token(self, result_keys, token)


def install():
    """Index the listings of every embedded S3 server of this process (idempotent)."""
    S3Backend.list_objects_v2 = _list_objects_v2
    S3Response._get_results_from_token = _get_results_from_token
