"""A stream's cursor (tap_intacct/dds/cursor.py): which files the loop reads, in which order, and
what it emits after each (ACTIVATE_VERSION, STATE). Pure: no store, no files read."""

import datetime
import json

import pytest

from tap_intacct.dds.checkpoints import KEYS_PER_FILE
from tap_intacct.dds.cursor import Cursors, Rules, Step
from tap_intacct.dds.files import StoredFile
from tap_intacct.dds.versions import version_of
from tap_intacct.errors import ConfigError, DataError, FileGone

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
START = datetime.datetime(2024, 1, 1, tzinfo=UTC)
LATER = T0 + datetime.timedelta(days=1)
REPLACE = Rules(START, LATER, job_order=True, quiet=datetime.timedelta(hours=1))


class Collect:
    """The STATE messages written, as a target reads them."""

    def __init__(self):
        self.states = []

    def state(self, value):
        self.states.append(json.loads(json.dumps(value)))


def at(name, minutes):
    return StoredFile(f"dds/ACME/{name}", 10, T0 + datetime.timedelta(minutes=minutes))


def listing(*files):
    return [(f.name.split(".")[0], f) for f in files]


def test_the_files_come_oldest_first_and_each_one_done_moves_the_bookmark():
    files = [at("A.2.csv", 2), at("A.1.csv", 1), at("B.1.csv", 0)]
    writer = Collect()
    cursor = Cursors({}, ["A"], listing(*files), Rules(START, LATER), writer).of("A")
    assert cursor.files_to_sync() == [files[1], files[0]]
    assert cursor.version_for(files[1]) is None  # append: records carry no version
    step = cursor.done(files[1])
    assert step == Step(None, changed=True)
    assert cursor.state_due(step) and writer.states == []  # the loop writes it
    cursor.write_state()
    bookmark = writer.states[-1]["bookmarks"]["A"]
    assert bookmark["modified_since"] == files[1].last_modified.isoformat()
    cursor.write_state()  # nothing changed since: no STATE
    assert len(writer.states) == 1


def test_a_stream_the_listing_found_no_file_of_has_none_to_sync():
    writer = Collect()
    cursor = Cursors({}, ["A"], listing(at("B.1.csv", 0)), Rules(START, LATER), writer).of("A")
    assert cursor.files_to_sync() is None
    cursor.end()
    cursor.write_state()
    assert writer.states == []


def test_every_bookmark_is_checked_before_the_listing_is_read():
    read = []

    def files():
        read.append(True)
        yield "A", at("A.1.csv", 0)

    state = {"bookmarks": {"B": {"modified_since": "soon"}}}
    with pytest.raises(ConfigError, match="bookmarks.B.modified_since"):
        Cursors(state, ["A", "B"], files(), Rules(START, LATER), Collect())
    assert read == []


def test_full_exports_come_in_job_order_and_the_last_part_activates_its_version():
    files = [at("V.all.12.p1.csv", 0), at("V.change.13.a.csv", 1), at("V.all.12.p2.csv", 2)]
    writer = Collect()
    cursor = Cursors({}, ["V"], listing(*files), REPLACE, writer).of("V")
    assert cursor.files_to_sync() == [files[0], files[2], files[1]]
    version = version_of([files[0], files[2]])
    assert cursor.version_for(files[0]) == version
    assert cursor.done(files[0]) == Step(None, changed=True)
    assert cursor.version_for(files[2]) == version
    assert cursor.done(files[2]) == Step(version, changed=True)
    assert cursor.version_for(files[1]) == version  # a change job after it: the table's


def test_an_activation_makes_a_state_due_whatever_the_state_costs():
    others = {"OTHER": {"modified_since": T0.isoformat(), "synced_keys": {
        f"k{n}": T0.isoformat() for n in range(4 * KEYS_PER_FILE)}}}
    first, second = at("V.all.12.p1.csv", 0), at("V.all.12.p2.csv", 2)
    cursor = Cursors({"bookmarks": others}, ["V"], listing(first, second), REPLACE,
                     Collect()).of("V")
    cursor.files_to_sync()
    cursor.version_for(first)
    assert not cursor.state_due(cursor.done(first))  # many keys: not after every file
    cursor.version_for(second)
    step = cursor.done(second)
    assert step.activate is not None and cursor.state_due(step)


def test_what_a_newer_full_job_supersedes_is_passed_unread_and_the_state_says_so_first(caplog):
    files = [at("V.change.11.a.csv", 0), at("V.all.12.p1.csv", 1), at("V.change.13.a.csv", 2)]
    writer = Collect()
    cursor = Cursors({}, ["V"], listing(*files), REPLACE, writer).of("V")
    with caplog.at_level("INFO", logger="tap_intacct"):
        assert cursor.files_to_sync() == files[1:]
    assert "V: not read: 1 change job(s) (11): 1 file(s), superseded by full export job 12" in (
        caplog.text)
    assert "V: 2 new file(s) since " in caplog.text
    bookmark = writer.states[-1]["bookmarks"]["V"]  # before any file is read
    assert bookmark["synced_keys"] == {files[0].key: files[0].last_modified.isoformat()}


def test_a_vanished_file_is_skipped_and_in_job_order_passed(caplog):
    change = at("A.change.5.a.csv", 0)
    gone = FileGone(change.key, "it was deleted after the listing")
    plain = Cursors({}, ["A"], listing(change), Rules(START, LATER), Collect()).of("A")
    plain.files_to_sync()
    with caplog.at_level("WARNING", logger="tap_intacct"):
        assert plain.gone(change, gone) == Step()
    assert f"A: skipped {change.key}: it was deleted after the listing" in caplog.text
    in_order = Cursors({}, ["A"], listing(change), REPLACE, Collect()).of("A")
    in_order.files_to_sync()
    step = in_order.gone(change, gone)
    assert step == Step(None, changed=True) and in_order.state_due(step)


def test_a_vanished_part_of_a_full_export_stops_the_stream():
    part = at("V.all.12.p1.csv", 0)
    cursor = Cursors({}, ["V"], listing(part), REPLACE, Collect()).of("V")
    cursor.files_to_sync()
    cursor.version_for(part)
    with pytest.raises(DataError, match=r"V.all.12.p1.csv: this part of full export job 12 "
                                        r"cannot be read \(it was replaced"):
        cursor.gone(part, FileGone(part.key, "it was replaced after the listing"))


def test_a_stream_listed_in_full_moves_its_horizon_once_all_is_read():
    rules = Rules(START, LATER, listed_in_full={"A", "B"})
    first = at("A.1.csv", 0)
    writer = Collect()
    cursors = Cursors({}, ["A", "B"], listing(first), rules, writer)
    stream = cursors.of("A")
    stream.files_to_sync()
    stream.end()  # the file is still wanted: no horizon yet
    stream.write_state()
    assert writer.states == []
    assert stream.state_due(stream.done(first))
    stream.end()
    stream.write_state()
    assert writer.states[-1]["listed_at"] == {"A": LATER.isoformat()}
    # nothing read of B (no file): its horizon moves, and the state holds no bookmark of it
    empty = cursors.of("B")
    assert empty.files_to_sync() is None
    empty.end()
    empty.write_state()
    assert writer.states[-1]["listed_at"] == {"A": LATER.isoformat(), "B": LATER.isoformat()}
    assert list(writer.states[-1]["bookmarks"]) == ["A"]


def test_a_stream_read_from_events_holds_its_bookmark_at_its_horizon():
    horizon = T0 + datetime.timedelta(minutes=1)
    files = [at("A.1.csv", 0), at("A.2.csv", 5)]
    writer = Collect()
    cursor = Cursors({}, ["A"], listing(*files), Rules(START, LATER, horizons={"A": horizon}),
                     writer).of("A")
    for stored in cursor.files_to_sync():
        cursor.state_due(cursor.done(stored))
    cursor.write_state()
    bookmark = writer.states[-1]["bookmarks"]["A"]
    assert bookmark["modified_since"] == files[0].last_modified.isoformat()
    assert files[1].key in bookmark["synced_keys"]  # after the horizon: kept by key


def test_the_bookmark_notices_keep_their_text(caplog):
    state = {"bookmarks": {"A": {"modified_since": "2024-03-06T08:00:00+00:00"},
                           "Z": {"modified_since": T0.isoformat()}}}
    ahead = at("A.1.csv", 60 * 24 + 3)  # 3 minutes after the run's start
    with caplog.at_level("INFO", logger="tap_intacct"):
        Cursors(json.loads(json.dumps(state)), ["B"], [], Rules(START, LATER), Collect())
        cursor = Cursors(state, ["A"], listing(ahead), Rules(START, LATER), Collect()).of("A")
        assert cursor.files_to_sync() == []
        fresh = Cursors({}, ["A"], listing(ahead), Rules(START, LATER), Collect()).of("A")
        assert fresh.files_to_sync() == [ahead]
    assert ("the state holds bookmarks only for A, Z, none for the selected stream(s) B: they "
            "are read from start_date") in caplog.text
    assert "A: the bookmark 2024-03-06T08:00:00+00:00 is 24.0 h ahead of this machine's clock" in (
        caplog.text)
    assert ("A: the bookmark 2024-03-06T08:00:00+00:00 is later than every file of this stream "
            f"(newest: {ahead.last_modified.isoformat()})") in caplog.text
    assert "A: 1 file(s) were modified after this run started (dds/ACME/A.1.csv the latest, " \
           "up to 3 min ahead" in caplog.text
