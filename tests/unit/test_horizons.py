"""The event mode's rules (tap_intacct/dds/horizons.py): which streams a run lists in full, the
horizon each stream's bookmark holds at, what becomes of each message, and that a file whose
event was lost is still read by the next full listing while files read from events are not
read twice."""

import datetime

import pytest

from tap_intacct.dds import horizons
from tap_intacct.dds.bookmarks import Bookmark, Position
from tap_intacct.dds.candidates import for_sync
from tap_intacct.dds.files import StoredFile
from tap_intacct.errors import ConfigError

UTC = datetime.timezone.utc
START = datetime.datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime.datetime(2024, 6, 1, 12, tzinfo=UTC)
DAY = datetime.timedelta(hours=24)
PREFIX = "dds/ACME/"


def at(hours):
    return NOW + datetime.timedelta(hours=hours)


def stored(name, hours, size=10, storage_class="STANDARD"):
    return StoredFile(PREFIX + name, size, at(hours), '"e"', storage_class)


def plan(state, streams=("GLENTRY",), now=NOW):
    return horizons.plan(state, list(streams), now, every=DAY, start_date=START)


def test_the_first_run_and_a_stale_listing_list_in_full():
    assert plan({}).listed == ["GLENTRY"]
    state = {"listed_at": {"GLENTRY": at(-24).isoformat(), "VENDOR": at(-23).isoformat()}}
    result = plan(state, ["GLENTRY", "VENDOR", "CUSTOMER"])
    assert result.listed == ["GLENTRY", "CUSTOMER"]
    assert result.from_events == ["VENDOR"]
    assert result.horizons == {"VENDOR": at(-23)}


def test_a_listing_time_later_than_now_lists_in_full():
    assert plan({"listed_at": {"GLENTRY": at(1).isoformat()}}).listed == ["GLENTRY"]


def test_the_horizon_is_the_bookmark_when_a_listing_run_moved_it_later():
    state = {"listed_at": {"GLENTRY": at(-5).isoformat()},
             "bookmarks": {"GLENTRY": {"modified_since": at(-2).isoformat()}}}
    assert plan(state).horizons == {"GLENTRY": at(-2)}


@pytest.mark.parametrize("value", [[], "x", {"GLENTRY": "yesterday"}, {"GLENTRY": 5}])
def test_a_bad_listing_time_is_one_line_naming_it(value):
    with pytest.raises(ConfigError, match="listed_at"):
        plan({"listed_at": value})


def judge(key, file, bookmarks, from_events=("GLENTRY",)):
    return horizons.judge(PREFIX + key, file, PREFIX, bookmarks, list(from_events))


def test_each_message_is_judged_against_the_state_the_run_started_with():
    bookmark = Bookmark(START, 0, Position(at(-3), at(-3), {PREFIX + "GLENTRY.2.csv": at(-3)}))
    bookmarks = {"GLENTRY": bookmark}
    Verdict = horizons.Verdict
    assert judge("GLENTRY.2.csv", stored("GLENTRY.2.csv", -3), bookmarks).verdict \
        is Verdict.DELETE  # read: in synced_keys
    assert judge("GLENTRY.1.csv", stored("GLENTRY.1.csv", -4), bookmarks).verdict \
        is Verdict.DELETE  # older than the bookmark
    assert judge("GLENTRY.3.csv", stored("GLENTRY.3.csv", -1), bookmarks) == horizons.Judged(
        Verdict.READ, "GLENTRY")
    assert judge("GLENTRY.3.csv", stored("GLENTRY.3.csv", -1), bookmarks, ()).verdict \
        is Verdict.KEEP  # its stream is listed in full this run: the listing yields it
    assert judge("GLENTRY.3.csv", None, bookmarks).verdict is Verdict.DELETE  # gone
    assert judge("VENDOR.1.csv", stored("VENDOR.1.csv", -1), bookmarks).verdict \
        is Verdict.DELETE  # not selected
    assert judge("old/GLENTRY.9.csv", stored("old/GLENTRY.9.csv", -1), bookmarks).verdict \
        is Verdict.DELETE  # a sub-folder
    assert judge("GLENTRY.9.txt", stored("GLENTRY.9.txt", -1), bookmarks).verdict \
        is Verdict.DELETE  # not an export file
    empty = judge("GLENTRY.4.csv", stored("GLENTRY.4.csv", -1, size=0), bookmarks)
    assert (empty.verdict, empty.skipped) == (Verdict.DELETE, "it is empty (0 bytes)")


def test_a_file_whose_event_was_lost_is_read_by_the_next_full_listing_and_no_file_twice():
    """Listed in full at -10 h; then events name files at -6 h and -2 h but not the one at
    -4 h; the bookmark holds at the horizon, so the full listing 24 h later still wants the
    lost file and none of the others."""
    horizon = at(-10)
    files = [stored(f"GLENTRY.{n}.csv", hours) for n, hours in enumerate((-12, -6, -4, -2))]
    bookmark = Bookmark(START, now=horizon)
    bookmark.advance(files[0])  # read by the full listing at -10 h
    for read_from_events in (files[1], files[3]):
        assert bookmark.wants(read_from_events)
        bookmark.advance(read_from_events)
    assert bookmark.modified_since == at(-12)  # held at the horizon: nothing after it known
    state = {"bookmarks": {"GLENTRY": bookmark.to_state()},
             "listed_at": {"GLENTRY": horizon.isoformat()}}
    later = at(14)
    assert plan(state, now=later).listed == ["GLENTRY"]
    listing = Bookmark.from_state(state, "GLENTRY", START, now=later)
    found = for_sync([("GLENTRY", stored_file) for stored_file in files], {"GLENTRY": listing})
    assert found["GLENTRY"].wanted == [files[2]]
    listing.settle(files[2].last_modified)
    listing.advance(files[2])
    assert listing.modified_since == at(-4)  # the -2 h file stays a key until a later settle
    assert sorted(listing.synced_keys) == [files[2].key, files[3].key]
    assert horizons.complete(state, "GLENTRY", found["GLENTRY"], listing, later)
    assert state["listed_at"] == {"GLENTRY": later.isoformat()}


def test_a_stream_with_a_file_still_wanted_keeps_its_horizon():
    bookmark = Bookmark(START, now=NOW)
    files = for_sync([("GLENTRY", stored("GLENTRY.1.csv", -1))], {"GLENTRY": bookmark})
    state = {"listed_at": {"GLENTRY": at(-30).isoformat()}}
    assert not horizons.complete(state, "GLENTRY", files["GLENTRY"], bookmark, NOW)
    assert state["listed_at"] == {"GLENTRY": at(-30).isoformat()}
    assert horizons.complete(state, "VENDOR", None, bookmark, NOW)  # no file at all
    assert state["listed_at"]["VENDOR"] == NOW.isoformat()
