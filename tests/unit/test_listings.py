"""Several prefixes listed at once (tap_intacct/storage/listings.py): every object of every
prefix, at most `in_flight` listings at a time, the first failure raised and the other listings
stopped, and listings that stop when the caller stops reading. (The stores themselves are
exercised by tests/e2e/test_listing_modes.py.)"""

import datetime
import threading
import time

import pytest

from tap_intacct.dds.files import StoredFile
from tap_intacct.storage.listings import BLOCK, listed_together, mapped_together

T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


class Lister:
    """A list(prefix) that yields `per_prefix` objects with a pause every page, and records
    how many listings ran at once."""

    def __init__(self, per_prefix, pause=0.002, fail=None):
        self.per_prefix = per_prefix
        self.pause = pause
        self.fail = fail
        self.running = 0
        self.most = 0
        self.stopped = []
        self.lock = threading.Lock()

    def __call__(self, prefix):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            for n in range(self.per_prefix):
                if n % 100 == 0:
                    time.sleep(self.pause)
                if prefix == self.fail and n == self.per_prefix // 2:
                    raise RuntimeError(f"listing {prefix} failed")
                yield StoredFile(f"{prefix}{n}.csv", 1, T0)
        finally:
            with self.lock:
                self.running -= 1
                self.stopped.append(prefix)


@pytest.mark.parametrize("prefixes", [0, 1, 3, 20])
def test_every_object_of_every_prefix_once(prefixes):
    lister = Lister(per_prefix=2 * BLOCK + 7)
    names = [f"P{n}." for n in range(prefixes)]
    keys = [stored.key for stored in listed_together(lister, names, in_flight=4)]
    assert sorted(keys) == sorted(f"{p}{n}.csv" for p in names for n in range(2 * BLOCK + 7))
    assert lister.most <= 4


def test_listings_run_at_the_same_time():
    lister = Lister(per_prefix=500, pause=0.02)
    started = time.monotonic()
    assert len(list(listed_together(lister, [f"P{n}." for n in range(8)], in_flight=8))) == 4000
    assert lister.most > 1
    assert time.monotonic() - started < 8 * 5 * 0.02  # not one listing after another


def test_the_first_failure_is_raised_and_the_other_listings_stop():
    lister = Lister(per_prefix=50 * BLOCK, fail="P1.")
    with pytest.raises(RuntimeError, match=r"listing P1\. failed"):
        list(listed_together(lister, ["P0.", "P1.", "P2."], in_flight=3))
    deadline = time.monotonic() + 5
    while len(lister.stopped) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(lister.stopped) == ["P0.", "P1.", "P2."]


def test_listings_stop_when_the_caller_stops_reading():
    lister = Lister(per_prefix=100 * BLOCK)
    listing = listed_together(lister, ["P0.", "P1."], in_flight=2)
    next(listing)
    listing.close()
    deadline = time.monotonic() + 5
    while len(lister.stopped) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(lister.stopped) == ["P0.", "P1."]


def test_mapped_together_keeps_the_order_and_raises_the_first_failure():
    assert mapped_together(lambda n: n * n, list(range(50)), in_flight=5) == [
        n * n for n in range(50)]

    def fails_on_seven(n):
        if n == 7:
            raise ValueError("seven")
        return n

    with pytest.raises(ValueError, match="seven"):
        mapped_together(fails_on_seven, list(range(20)), in_flight=5)
