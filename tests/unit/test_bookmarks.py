import datetime
import json

import pytest

from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.files import StoredFile
from tap_intacct.errors import ConfigError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
START = datetime.datetime(2024, 1, 1, tzinfo=UTC)


def stored(key, seconds):
    return StoredFile(key=key, size=10, last_modified=T0 + datetime.timedelta(seconds=seconds))


def test_start_date_is_exclusive():
    bookmark = Bookmark(START)
    assert not bookmark.wants(StoredFile("a", 1, START))
    assert bookmark.wants(StoredFile("a", 1, START + datetime.timedelta(seconds=1)))


def test_two_files_in_the_same_second_are_both_read():
    bookmark = Bookmark(START)
    first, second = stored("A.1.csv", 0), stored("A.2.csv", 0)
    bookmark.advance(first)
    assert not bookmark.wants(first)
    assert bookmark.wants(second)
    state = bookmark.to_state()
    resumed = Bookmark.from_state({"bookmarks": {"A": state}}, "A", START)
    assert resumed.wants(second) and not resumed.wants(first)


def test_original_tap_state_is_accepted():
    state = {"bookmarks": {"A": {"modified_since": T0.isoformat()}}}
    bookmark = Bookmark.from_state(state, "A", START)
    at_bookmark, after = stored("x", 0), stored("y", 1)
    assert not bookmark.wants(at_bookmark)  # the original read files at exactly it
    assert bookmark.wants(after)
    assert bookmark.cover_window([at_bookmark, after])
    assert bookmark.to_state() == {"modified_since": T0.isoformat(),
                                   "synced_keys": {"x": T0.isoformat()},
                                   "synced_keys_since": T0.isoformat()}


def test_by_default_only_the_keys_at_the_bookmark_are_kept():
    bookmark = Bookmark(START)
    for key, seconds in (("a", 0), ("b", 5), ("c", 5)):
        bookmark.advance(stored(key, seconds))
    state = bookmark.to_state()
    assert sorted(state["synced_keys"]) == ["b", "c"]  # same second: both needed
    assert state["synced_keys_since"] == (T0 + datetime.timedelta(seconds=5)).isoformat()
    bookmark.advance(stored("d", 86405))
    assert sorted(bookmark.to_state()["synced_keys"]) == ["d"]


def test_lookback_keeps_the_keys_inside_the_window_and_nothing_older():
    bookmark = Bookmark(START, lookback_seconds=60)
    for key, seconds in (("a", 0), ("b", 50), ("c", 100)):
        bookmark.advance(stored(key, seconds))
    state = bookmark.to_state()
    assert sorted(state["synced_keys"]) == ["b", "c"]
    assert state["synced_keys_since"] == (T0 + datetime.timedelta(seconds=40)).isoformat()


@pytest.mark.parametrize("lookback", [0, 3600])
def test_the_state_does_not_grow_with_the_files_read(lookback):
    bookmark = Bookmark(START, lookback_seconds=lookback)
    sizes = []
    for n in range(2000):
        bookmark.advance(stored(f"dds/ACME/GLENTRY.change.{n:05d}.csv", 60 * n))
        sizes.append(len(json.dumps(bookmark.to_state())))
    assert sizes[-1] == sizes[999]  # a window of 61 keys (lookback) or 1 key, filled long ago
    assert len(bookmark.synced_keys) == (61 if lookback else 1)


def test_state_of_an_earlier_version_shrinks_and_reads_the_same_files():
    files = [stored(f"k{n}", 600 * n) for n in range(100)] + [stored("same", 600 * 99)]
    day = {"modified_since": files[-1].last_modified.isoformat(),
           "synced_keys": {f.key: f.last_modified.isoformat() for f in files[:-1]},
           "synced_keys_since": files[0].last_modified.isoformat()}
    bookmark = Bookmark.from_state({"bookmarks": {"A": day}}, "A", START)
    wanted = [f.key for f in files if bookmark.wants(f)]
    assert wanted == ["same"]  # at the bookmark's second, not read yet
    assert bookmark.prune() and not bookmark.prune()
    assert bookmark.to_state()["synced_keys"] == {"k99": files[-1].last_modified.isoformat()}
    assert [f.key for f in files if bookmark.wants(f)] == wanted


def test_cover_window_records_exactly_the_files_it_would_cover():
    bookmark = Bookmark(START)
    bookmark.advance(stored("now", 0))
    bookmark.lookback = datetime.timedelta(seconds=100)
    listed = [stored(name, seconds) for name, seconds in
              (("too-old", -101), ("edge", -100), ("inside", -50), ("now", 0), ("new", 1))]
    covered = [f for f in listed if bookmark.would_cover(f)]
    assert [f.key for f in covered] == ["edge", "inside"]
    assert bookmark.cover_window(covered)
    assert sorted(bookmark.synced_keys) == ["edge", "inside", "now"]
    assert [f.key for f in listed if bookmark.wants(f)] == ["new"]


def test_raising_lookback_rereads_nothing_and_then_catches_late_files():
    first = Bookmark(START)
    old = [stored(f"old-{n}", -90_000 + n * 20_000) for n in range(6)]  # 25 h back to now
    for item in old:
        first.advance(item)
    state = {"bookmarks": {"A": first.to_state()}}
    raised = Bookmark.from_state(state, "A", START, lookback_seconds=3 * 86400)
    assert [f.key for f in old if raised.wants(f)] == []
    assert raised.cover_window(old)
    late = stored("late", -80_000)  # appears after the raise, inside the new window
    resumed = Bookmark.from_state({"bookmarks": {"A": raised.to_state()}}, "A", START,
                                  lookback_seconds=3 * 86400)
    assert [f.key for f in [*old, late] if resumed.wants(f)] == ["late"]
    assert not resumed.cover_window(old)  # already covered


def test_state_of_earlier_versions_trusts_its_keys_from_the_oldest():
    value = {"modified_since": stored("b", 10).last_modified.isoformat(),
             "synced_keys": {"a": stored("a", 0).last_modified.isoformat(),
                             "b": stored("b", 10).last_modified.isoformat()}}
    bookmark = Bookmark.from_state({"bookmarks": {"A": value}}, "A", START, lookback_seconds=60)
    assert not bookmark.wants(stored("a", 0)) and not bookmark.wants(stored("b", 10))
    assert bookmark.wants(stored("late", 5)) and not bookmark.wants(stored("older", -5))


def test_a_bookmark_later_than_every_file_is_noticed():
    bookmark = Bookmark.from_state(
        {"bookmarks": {"A": {"modified_since": "2999-01-01T00:00:00+00:00"}}}, "A", START)
    assert bookmark.position is not None and bookmark.position.later_than(stored("a", 0))
    assert Bookmark(START).position is None


def test_lookback_reads_late_files_once():
    bookmark = Bookmark(START, lookback_seconds=60)
    bookmark.advance(stored("new", 100))
    late = stored("late", 50)
    too_late = stored("too-late", 30)
    assert bookmark.wants(late) and not bookmark.wants(too_late)
    bookmark.advance(late)
    assert bookmark.modified_since == stored("new", 100).last_modified  # never moves back
    resumed = Bookmark.from_state({"bookmarks": {"A": bookmark.to_state()}}, "A", START,
                                  lookback_seconds=60)
    assert not resumed.wants(late) and not resumed.wants(stored("new", 100))


def test_a_replaced_file_is_read_again():
    bookmark = Bookmark(START)
    bookmark.advance(stored("a", 0))
    assert bookmark.wants(stored("a", 1))


@pytest.mark.parametrize("value, message", [
    ({"modified_since": "soon"}, "modified_since is not an ISO 8601"),
    ("2024-01-01", "must be an object"),
    ({"modified_since": T0.isoformat(), "synced_keys": ["a"]}, "synced_keys must be an object"),
    ({"modified_since": T0.isoformat(), "synced_keys_since": 5}, "synced_keys_since is not"),
])
def test_bad_state_is_a_config_error(value, message):
    with pytest.raises(ConfigError, match=message):
        Bookmark.from_state({"bookmarks": {"A": value}}, "A", START)


def test_bookmarks_must_be_an_object():
    assert Bookmark.from_state({"bookmarks": None}, "A", START).modified_since is None
    with pytest.raises(ConfigError, match="'bookmarks' must be an object"):
        Bookmark.from_state({"bookmarks": ["A"]}, "A", START)
    with pytest.raises(ConfigError, match="'bookmarks' must be an object"):
        Bookmark.from_state({"bookmarks": []}, "A", START)


def test_bookmark_arithmetic_stops_at_the_ends_of_the_calendar():
    earliest = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    state = {"bookmarks": {"GL": {"modified_since": "0001-01-01T00:00:00Z",
                                  "synced_keys": {"a": "0001-01-01T00:00:00+01:00"}}}}
    mark = Bookmark.from_state(state, "GL", earliest, lookback_seconds=86400)
    assert mark.keys_since == earliest
    listed = StoredFile("b", 1, earliest + datetime.timedelta(hours=1))
    assert mark.wants(listed) and not mark.cover_window([listed])
    mark.advance(listed)
    assert mark.to_state()["synced_keys_since"] == earliest.isoformat()


def test_a_file_in_the_future_is_remembered_and_moves_the_bookmark_no_further_than_now():
    now = T0 + datetime.timedelta(seconds=10)
    bookmark = Bookmark(START, now=now)
    past, ahead = stored("past", 5), stored("ahead", 7200)
    bookmark.advance(past)
    bookmark.advance(ahead)
    assert bookmark.modified_since == past.last_modified
    assert not bookmark.wants(ahead) and not bookmark.wants(past)
    later = [stored("arrived", 11), stored("soon", 3600), stored("same", 7200)]
    assert all(bookmark.wants(f) for f in later)
    resumed = Bookmark.from_state({"bookmarks": {"A": bookmark.to_state()}}, "A", START,
                                  now=now + datetime.timedelta(seconds=5))
    assert [f.key for f in [past, ahead, *later] if resumed.wants(f)] == [f.key for f in later]


def test_a_first_file_in_the_future_leaves_the_bookmark_at_start_date():
    bookmark = Bookmark(START, now=T0)
    ahead = stored("ahead", 60)
    bookmark.advance(ahead)
    assert bookmark.to_state() == {"modified_since": START.isoformat(),
                                   "synced_keys": {"ahead": ahead.last_modified.isoformat()},
                                   "synced_keys_since": "2024-01-01T00:00:00.000001+00:00"}
    assert not bookmark.wants(ahead)
    assert bookmark.wants(stored("any", -86400)) and not bookmark.wants(StoredFile("old", 1, START))


@pytest.mark.parametrize("lookback", [0, 60])
def test_settle_moves_the_bookmark_to_files_no_longer_in_the_future(lookback):
    bookmark = Bookmark(START, lookback, now=T0)
    bookmark.advance(stored("past", -100))
    for key, seconds in (("a", 10), ("b", 20), ("c", 30)):
        bookmark.advance(stored(key, seconds))
    assert bookmark.modified_since == stored("past", -100).last_modified
    bookmark.now = T0 + datetime.timedelta(seconds=25)
    assert not bookmark.settle(stored("waiting", 5).last_modified)  # an unread file before them
    assert bookmark.settle(stored("next", 20).last_modified)
    assert bookmark.modified_since == stored("b", 20).last_modified
    assert sorted(bookmark.synced_keys) == (["a", "b", "c"] if lookback else ["b", "c"])
    assert bookmark.settle(None) is False  # c is still in the future
    bookmark.now = T0 + datetime.timedelta(seconds=40)
    assert bookmark.settle(None)
    assert sorted(bookmark.synced_keys) == (["a", "b", "c"] if lookback else ["c"])
    assert not any(bookmark.wants(stored(key, s)) for key, s in (("b", 20), ("c", 30)))


def test_files_of_one_second_later_than_the_keys_are_wanted_once_listed():
    """A file at the bookmark's second whose key sorts before those read (listed late) is read."""
    bookmark = Bookmark(START, now=T0)
    for key in ("k5", "k7"):
        bookmark.advance(stored(key, 0))
    assert bookmark.wants(stored("k1", 0)) and bookmark.wants(stored("k6", 0))
    assert not bookmark.wants(stored("k5", 0))
