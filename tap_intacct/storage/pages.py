"""What a well-formed listing page is, for each store, and the check every page goes through
(docs/ARCHITECTURE.md, "Listing pages").

A listing is only as complete as its pages: a page whose body never arrived, arrived empty, is not
the store's listing document, or says "more follows" without saying where, must never be read as
"the listing ends here" (the files of the pages not seen would be skipped, and a bookmark moved
past them would skip them for good). Such a page raises MalformedPage, which both stores count as
transient: the page is asked for again under the one retry policy (storage/retry.py), like a 503,
and when every attempt fails the listing, and so the run, fails naming the bucket or container and
the prefix, before anything is emitted.

S3 (ListObjectsV2, as botocore parses it; botocore gives an empty dict for an empty body or a
document that is not a ListBucketResult, and either a parse error or an HTTP 500 error for one that
is not XML or was cut): a page is well-formed when
  - it has IsTruncated (every ListBucketResult has it);
  - Name and Prefix, when present, are the bucket and prefix asked for;
  - IsTruncated true comes with a NextContinuationToken that is not empty and is not the token the
    page was asked with (else the listing would never end);
  - every Contents entry has a Key under the prefix and a LastModified.

Azure (List Blobs with a delimiter, the raw XML body of an HTTP 200 answer, checked before the SDK
reads it: the SDK takes an empty body for "no answer" and fails with an AttributeError, and a
missing NextMarker for the last page): a page is well-formed when
  - the body is XML whose root is EnumerationResults, with ContainerName the container asked for;
  - it has a Blobs element and a NextMarker element (empty on the last page; a non-empty one is
    not the marker the page was asked with);
  - every Blob has a Name under the prefix (percent-decoded when Encoded="true") and
    Properties/Last-Modified, and every BlobPrefix a Name.

Pure: no cloud SDK is imported here.
"""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET  # noqa: S405 (the store's own answer, not user input)
from collections.abc import Mapping
from typing import Any


class MalformedPage(Exception):  # noqa: N818 (a condition, not an error: it is retried)
    """A listing answer that is not a complete, well-formed page; retried like a 503."""

    def __init__(self, operation: str, why: str) -> None:
        super().__init__(f"the {operation} answer is not a complete listing page ({why})")


def check_s3(page: Mapping[str, Any], *, bucket: str, prefix: str,
             token_sent: str | None) -> None:
    """Raise MalformedPage unless `page` (botocore's parsed ListObjectsV2 answer) is
    well-formed (module docstring)."""
    def malformed(why: str) -> MalformedPage:
        return MalformedPage("ListObjectsV2", why)

    if not isinstance(page.get("IsTruncated"), bool):
        raise malformed("no IsTruncated: an empty body, or not a ListBucketResult")
    if page.get("Name") not in (None, bucket):
        raise malformed(f"it lists bucket {page.get('Name')!r}")
    if page.get("Prefix") not in (None, prefix):
        raise malformed(f"it lists prefix {page.get('Prefix')!r}")
    if page["IsTruncated"]:
        token = page.get("NextContinuationToken")
        if not token:
            raise malformed("IsTruncated without a NextContinuationToken")
        if token == token_sent:
            raise malformed("the NextContinuationToken it was asked with")
    for item in page.get("Contents") or ():
        key = item.get("Key")
        if not isinstance(key, str) or not key.startswith(prefix):
            raise malformed(f"a Contents entry whose Key {key!r} is not under the prefix")
        if item.get("LastModified") is None:
            raise malformed(f"no LastModified for {key!r}")


def check_azure(body: bytes, *, container: str, prefix: str, marker_sent: str) -> None:
    """Raise MalformedPage unless `body` (the raw answer to a List Blobs request) is a
    well-formed page (module docstring)."""
    def malformed(why: str) -> MalformedPage:
        return MalformedPage("List Blobs", why)

    if not body.strip():
        raise malformed("an empty body")
    try:
        root = ET.fromstring(body)  # noqa: S314 (the store's own answer)
    except ET.ParseError as exc:
        raise malformed(f"not XML: {exc}") from None
    if root.tag != "EnumerationResults":
        raise malformed(f"its root element is {root.tag!r}, not EnumerationResults")
    if root.get("ContainerName") != container:
        raise malformed(f"it lists container {root.get('ContainerName')!r}")
    blobs = root.find("Blobs")
    if blobs is None:
        raise malformed("no Blobs element")
    next_marker = root.find("NextMarker")
    if next_marker is None:
        raise malformed("no NextMarker element")
    if next_marker.text and next_marker.text == marker_sent:
        raise malformed("the NextMarker it was asked with")
    for blob in blobs.iter("Blob"):
        name = _name(blob)
        if not name.startswith(prefix):
            raise malformed(f"a Blob whose Name {name!r} is not under the prefix")
        if not blob.findtext("Properties/Last-Modified"):
            raise malformed(f"no Last-Modified for {name!r}")
    for blob_prefix in blobs.iter("BlobPrefix"):
        if not _name(blob_prefix):
            raise malformed("a BlobPrefix without a Name")


def _name(element: ET.Element) -> str:
    name = element.find("Name")
    if name is None or not name.text:
        return ""
    if name.get("Encoded") == "true":
        return urllib.parse.unquote(name.text)
    return name.text
