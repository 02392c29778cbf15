import datetime

import pytest

from tap_intacct.bookmarks import Bookmark
from tap_intacct.errors import ConfigError
from tap_intacct.files import StoredFile

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
START = datetime.datetime(2024, 1, 1, tzinfo=UTC)


def stored(key, seconds):
    return StoredFile(key=key, size=10, last_modified=T0 + datetime.timedelta(seconds=seconds))


def test_start_date_is_exclusive():
    bookmark = Bookmark()
    assert not bookmark.wants(StoredFile("a", 1, START), START)
    assert bookmark.wants(StoredFile("a", 1, START + datetime.timedelta(seconds=1)), START)


def test_two_files_in_the_same_second_are_both_read():
    bookmark = Bookmark()
    first, second = stored("A.1.csv", 0), stored("A.2.csv", 0)
    bookmark.advance(first)
    assert not bookmark.wants(first, START)
    assert bookmark.wants(second, START)
    state = bookmark.to_state()
    resumed = Bookmark.from_state({"bookmarks": {"A": state}}, "A")
    assert resumed.wants(second, START) and not resumed.wants(first, START)


def test_original_tap_state_is_accepted():
    state = {"bookmarks": {"A": {"modified_since": T0.isoformat()}}}
    bookmark = Bookmark.from_state(state, "A")
    assert not bookmark.wants(stored("x", 0), START)  # the original read files at exactly it
    assert bookmark.wants(stored("y", 1), START)
    assert bookmark.to_state() == {"modified_since": T0.isoformat()}


def test_state_value_keeps_only_keys_at_the_bookmark():
    bookmark = Bookmark()
    for key, seconds in (("a", 0), ("b", 5), ("c", 5)):
        bookmark.advance(stored(key, seconds))
    later = (T0 + datetime.timedelta(seconds=5)).isoformat()
    assert bookmark.to_state() == {"modified_since": later, "synced_keys": {"b": later, "c": later}}


def test_lookback_reads_late_files_once():
    bookmark = Bookmark(lookback_seconds=60)
    bookmark.advance(stored("new", 100))
    late = stored("late", 50)
    too_late = stored("too-late", 30)
    assert bookmark.wants(late, START) and not bookmark.wants(too_late, START)
    bookmark.advance(late)
    assert bookmark.modified_since == stored("new", 100).last_modified  # never moves back
    resumed = Bookmark.from_state({"bookmarks": {"A": bookmark.to_state()}}, "A",
                                  lookback_seconds=60)
    assert not resumed.wants(late, START) and not resumed.wants(stored("new", 100), START)


def test_a_replaced_file_is_read_again():
    bookmark = Bookmark()
    bookmark.advance(stored("a", 0))
    assert bookmark.wants(stored("a", 1), START)


@pytest.mark.parametrize("value, message", [
    ({"modified_since": "soon"}, "modified_since is not an ISO 8601"),
    ("2024-01-01", "must be an object"),
    ({"modified_since": T0.isoformat(), "synced_keys": ["a"]}, "synced_keys must be an object"),
])
def test_bad_state_is_a_config_error(value, message):
    with pytest.raises(ConfigError, match=message):
        Bookmark.from_state({"bookmarks": {"A": value}}, "A")


def test_bookmarks_must_be_an_object():
    assert Bookmark.from_state({"bookmarks": None}, "A").modified_since is None
    with pytest.raises(ConfigError, match="'bookmarks' must be an object"):
        Bookmark.from_state({"bookmarks": ["A"]}, "A")
