import datetime
import json

import pytest

from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.checkpoints import KEYS_PER_FILE, Checkpoints
from tap_intacct.dds.files import StoredFile

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
START = datetime.datetime(2024, 1, 1, tzinfo=UTC)


class Collect:
    def __init__(self):
        self.sizes = []
        self.last = None

    def state(self, value):
        text = json.dumps(value)
        self.sizes.append(len(text))
        self.last = json.loads(text)


def read_files(streams, files_each, lookback, state=None):
    """Sync `files_each` one-minute-apart files into each stream; the STATEs written."""
    state = state if state is not None else {"bookmarks": {}}
    bookmarks = {name: Bookmark(START, lookback) for name in streams}
    writer = Collect()
    checkpoints = Checkpoints(writer, state, bookmarks)
    for name in streams:
        for n in range(files_each):
            stored = StoredFile(f"dds/ACME/{name}.change.{n:05d}.csv", 10,
                                T0 + datetime.timedelta(minutes=n))
            bookmarks[name].advance(stored)
            checkpoints.changed(name)
        checkpoints.write()  # the stream's end
    return writer


def test_by_default_a_state_follows_every_file_and_keeps_its_size():
    writer = read_files(["A", "B"], 300, lookback=0)
    assert len(writer.sizes) == 600
    assert max(writer.sizes) == writer.sizes[-1] < 400


def test_with_lookback_the_state_output_grows_linearly():
    small = read_files([f"T{n:02d}" for n in range(10)], 100, lookback=86400)
    large = read_files([f"T{n:02d}" for n in range(10)], 200, lookback=86400)
    assert len(large.last["bookmarks"]["T00"]["synced_keys"]) == 200  # the whole window kept
    assert sum(large.sizes) <= 2.2 * sum(small.sizes)


def test_with_lookback_a_state_is_written_at_least_every_keys_over_keys_per_file_files():
    writer = read_files(["A"], 1000, lookback=86400)
    # before KEYS_PER_FILE keys: after every file; then at most held/KEYS_PER_FILE files apart
    assert len(writer.sizes) >= KEYS_PER_FILE
    assert len(writer.sizes) < 1000
    assert len(writer.last["bookmarks"]["A"]["synced_keys"]) == 1000


def test_write_flushes_only_when_something_changed():
    writer = Collect()
    state = {"bookmarks": {"OTHER": {"modified_since": T0.isoformat()}}}
    bookmark = Bookmark(START, 3600)
    checkpoints = Checkpoints(writer, state, {"A": bookmark})
    checkpoints.write()
    assert writer.sizes == []
    bookmark.advance(StoredFile("a", 1, T0))
    checkpoints.changed("A")
    checkpoints.write()
    assert len(writer.sizes) == 1
    assert list(writer.last["bookmarks"]) == ["OTHER", "A"]


def test_other_streams_bookmarks_are_carried_whatever_they_hold():
    writer = Collect()
    state = {"bookmarks": {"ODD": {"synced_keys": 5}, "LIST": ["x"], "KEYS": {
        "synced_keys": {f"k{n}": T0.isoformat() for n in range(100)}}}}
    bookmark = Bookmark(START, 3600)
    checkpoints = Checkpoints(writer, state, {"A": bookmark})
    bookmark.advance(StoredFile("a", 1, T0))
    checkpoints.changed("A")  # 99 keys beyond one per stream: a STATE only every 4th file
    assert writer.sizes == []
    checkpoints.write()
    assert writer.last["bookmarks"]["ODD"] == {"synced_keys": 5}


def one_second(files, lookback=0):
    """Sync `files` files that share one LastModified second into one stream; the STATEs."""
    bookmark = Bookmark(START, lookback)
    writer = Collect()
    checkpoints = Checkpoints(writer, {"bookmarks": {}}, {"A": bookmark})
    for n in range(files):
        bookmark.advance(StoredFile(f"dds/ACME/A.change.{n:05d}.csv", 10, T0))
        checkpoints.changed("A")
    checkpoints.write()
    return writer


@pytest.mark.parametrize("lookback", [0, 3600])
def test_files_in_one_second_write_state_linear_in_the_files(lookback):
    """Every key of the second must be kept; a STATE after every file would grow with the
    square of the files (1,000 files: 500,000 keys written)."""
    small, large = one_second(250, lookback), one_second(1000, lookback)
    assert len(large.last["bookmarks"]["A"]["synced_keys"]) == 1000
    assert sum(large.sizes) <= 5 * sum(small.sizes)  # the square: 16 times
    entry = len('"dds/ACME/A.change.00000.csv":"2024-03-01T12:00:00+00:00",')
    assert sum(large.sizes) <= 1000 * 1.5 * KEYS_PER_FILE * entry


def test_many_streams_with_one_key_each_still_write_a_state_after_every_file():
    writer = read_files([f"T{n:03d}" for n in range(100)], 3, lookback=0)
    assert len(writer.sizes) == 300
