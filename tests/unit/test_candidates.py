import datetime

from tap_intacct.dds import candidates
from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.files import StoredFile

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
START = datetime.datetime(2024, 1, 1, tzinfo=UTC)


def stored(key, seconds, **kwargs):
    return StoredFile(key=f"dds/ACME/{key}", size=kwargs.pop("size", 10),
                      last_modified=T0 + datetime.timedelta(seconds=seconds), **kwargs)


def test_data_files_name_their_table_and_skip_what_cannot_be_read():
    skipped = []
    listing = [stored("GLENTRY.1.csv", 0), stored("manifest.json", 0),
               stored("EMPTY.csv", 0, size=0), stored("VENDOR.2.csv.gz", 1),
               stored("COLD.csv", 0, storage_class="GLACIER")]
    found = list(candidates.data_files(iter(listing), lambda f, why: skipped.append(f.name)))
    assert [(table, f.name) for table, f in found] == [("GLENTRY", "GLENTRY.1.csv"),
                                                      ("VENDOR", "VENDOR.2.csv.gz")]
    assert skipped == ["EMPTY.csv", "COLD.csv"]


def _listing(*files):
    return ((f.name.split(".")[0], f) for f in files)


def test_sync_keeps_only_the_wanted_files_of_selected_streams_oldest_first():
    bookmark = Bookmark.from_state(
        {"bookmarks": {"A": {"modified_since": (T0 + datetime.timedelta(seconds=50)).isoformat()}}},
        "A", START)
    listing = _listing(stored("A.late.csv", 40), stored("A.3.csv", 70), stored("B.1.csv", 90),
                       stored("A.2.csv", 60), stored("A.same.csv", 60), stored("A.old.csv", 10))
    found = candidates.for_sync(listing, {"A": bookmark})
    assert list(found) == ["A"]  # B is not selected: none of its files is kept
    assert [f.name for f in found["A"].wanted] == ["A.2.csv", "A.same.csv", "A.3.csv"]
    assert found["A"].newest.name == "A.3.csv"
    assert found["A"].covered == []


def test_sync_keeps_the_newest_file_even_when_nothing_is_wanted():
    bookmark = Bookmark.from_state(
        {"bookmarks": {"A": {"modified_since": "2999-01-01T00:00:00+00:00"}}}, "A", START)
    found = candidates.for_sync(_listing(stored("A.2.csv", 2), stored("A.1.csv", 1)),
                                {"A": bookmark})
    assert found["A"].wanted == [] and found["A"].newest.name == "A.2.csv"
    assert bookmark.position is not None and bookmark.position.later_than(found["A"].newest)


def test_a_raised_lookback_keeps_the_files_of_the_widened_window_for_cover_window():
    bookmark = Bookmark(START)
    bookmark.advance(stored("A.now.csv", 0))
    state = {"bookmarks": {"A": bookmark.to_state()}}
    raised = Bookmark.from_state(state, "A", START, lookback_seconds=100)
    listing = _listing(stored("A.old.csv", -200), stored("A.in.csv", -50), stored("A.now.csv", 0),
                       stored("A.new.csv", 5))
    found = candidates.for_sync(listing, {"A": raised})
    assert [f.name for f in found["A"].covered] == ["A.in.csv"]
    assert [f.name for f in found["A"].wanted] == ["A.new.csv"]


def test_discovery_reads_the_files_in_range_or_else_the_newest():
    start = T0 + datetime.timedelta(seconds=5)
    listing = _listing(stored("A.9.csv", 9), stored("A.1.csv", 1), stored("A.7.csv", 7),
                       stored("B.2.csv", 2), stored("B.3.csv", 3), stored("B.1.csv", 1))
    found = candidates.for_discovery(listing, start)
    assert list(found) == ["A", "B"]
    assert [f.name for f in found["A"]] == ["A.7.csv", "A.9.csv"]
    assert [f.name for f in found["B"]] == ["B.3.csv"]
