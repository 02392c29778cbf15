"""State and bookmarks end to end: files modified in the future, many files in one second, and
the shapes of state files users hand over (README, "Sync, state and bookmarks")."""

import copy
import datetime
import json
import time
from dataclasses import dataclass

import pytest

from tap_intacct.dds.checkpoints import KEYS_PER_FILE
from tests.e2e.conftest import T0, Company, Run, assert_clean_failure, company_in

UTC = datetime.timezone.utc


def read_files(run):
    """The files whose records the run emitted, in order, each once."""
    return list(dict.fromkeys(r["_sdc_source_file"] for r in run.records()))


def now():
    return datetime.datetime.now(UTC).replace(microsecond=0)


_catalogs = {}


def glentry_catalog(company):
    """The path of the catalog (GLENTRY selected) of a company whose only stream, GLENTRY,
    holds RECORDNO,NAME files: discovered by the first test of this process and store, then
    reused (the same headers discover the same catalog; these tests vary the files' times and
    the state, not what discovery sees)."""
    if company.kind not in _catalogs:
        _catalogs[company.kind] = company.discover()
    return company.selected_catalog(copy.deepcopy(_catalogs[company.kind]))


@pytest.mark.stores("s3", "azure")
def test_a_file_from_the_future_is_read_once_and_no_later_file_is_skipped(company):
    """A store whose clock runs two hours ahead: its file is read, the bookmark stays before
    the run's start, files arriving afterwards (modified before it) are read, it is not read
    again, and once the clock has passed it the state forgets it."""
    past = company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,past\n", modified=T0)
    ahead = company.put("GLENTRY.change.2.csv", "RECORDNO,NAME\n2,ahead\n",
                        modified=now() + datetime.timedelta(hours=2))
    catalog = glentry_catalog(company)
    first = company.sync(catalog)
    assert first.returncode == 0, first.stderr
    assert read_files(first) == [past, ahead]
    assert "were modified after this run started" in first.stderr
    assert "WARNING" in next(line for line in first.stderr.splitlines()
                             if "were modified after this run started" in line)
    bookmark = first.last_state["bookmarks"]["GLENTRY"]
    assert bookmark["modified_since"] == T0.isoformat()
    assert set(bookmark["synced_keys"]) == {past, ahead}

    # files land after that run, modified before the file from the future
    arrived = company.put("GLENTRY.change.3.csv", "RECORDNO,NAME\n3,arrived\n", modified=now())
    soon = company.put("GLENTRY.change.4.csv", "RECORDNO,NAME\n4,soon\n",
                       modified=now() + datetime.timedelta(hours=1))
    second = company.sync(catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert read_files(second) == [arrived, soon]
    bookmark = second.last_state["bookmarks"]["GLENTRY"]
    assert datetime.datetime.fromisoformat(bookmark["modified_since"]) <= now()
    assert set(bookmark["synced_keys"]) == {arrived, ahead, soon}

    third = company.sync(catalog, state=second.last_state)
    assert third.returncode == 0, third.stderr
    assert read_files(third) == []
    assert "0 new file(s)" in third.stderr



@pytest.mark.stores("s3", "azure")
def test_once_the_clock_has_passed_a_file_from_the_future_the_bookmark_moves_there(company):
    """The state keeps only the keys of files still in the future: once this machine's clock
    has passed them, the bookmark moves to them (else a store always ahead would keep every
    key)."""
    company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,x\n", modified=T0)
    catalog = glentry_catalog(company)
    moment = now() + datetime.timedelta(seconds=3)
    ahead = company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,x\n", modified=moment)
    first = company.sync(catalog)
    assert read_files(first) == [ahead]
    assert first.last_state["bookmarks"]["GLENTRY"]["modified_since"] < moment.isoformat()
    while now() <= moment:
        time.sleep(0.2)
    second = company.sync(catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr
    assert read_files(second) == []
    assert second.last_state["bookmarks"]["GLENTRY"] == {
        "modified_since": moment.isoformat(), "synced_keys": {ahead: moment.isoformat()},
        "synced_keys_since": moment.isoformat()}


def test_a_file_a_few_seconds_ahead_is_handled_the_same_without_a_warning(company):
    ahead = company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,x\n",
                        modified=now() + datetime.timedelta(seconds=90))
    catalog = glentry_catalog(company)
    first = company.sync(catalog)
    assert read_files(first) == [ahead]
    line = next(line for line in first.stderr.splitlines()
                if "were modified after this run started" in line)
    assert line.startswith("INFO")
    assert first.last_state["bookmarks"]["GLENTRY"]["modified_since"] == "2024-01-01T00:00:00+00:00"
    arrived = company.put("GLENTRY.change.0.csv", "RECORDNO,NAME\n0,y\n", modified=now())
    second = company.sync(catalog, state=first.last_state)
    assert read_files(second) == [arrived]


def test_a_bookmark_in_the_future_is_named(company):
    """A state an earlier build left in the future: files before it are not read, and the log
    says so and what to do."""
    company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,x\n", modified=now())
    catalog = glentry_catalog(company)
    future = (now() + datetime.timedelta(days=3)).isoformat()
    run = company.sync(catalog, state={"bookmarks": {"GLENTRY": {"modified_since": future}}})
    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert f"the bookmark {future} is 3.0 days ahead of this machine's clock" in run.stderr
    assert "bookmarks.GLENTRY.modified_since" in run.stderr


def state_bytes(run):
    return sum(len(line) for line in run.stdout.splitlines() if line.startswith('{"type":"STATE"'))


@pytest.mark.stores("s3", "azure")
def test_files_in_one_second_cost_state_linear_in_files_and_resume_exactly(company):
    """150 files with the same LastModified (a bulk copy; a DDS job's parts): the state must
    list every key of that second, and a STATE after each file would write 150 x 75 keys.
    STATE is paced instead, and every STATE still resumes exactly: nothing skipped, no file
    read again."""
    files = [company.put(f"GLENTRY.change.{n:04d}.csv", f"RECORDNO,NAME\n{n},x\n", modified=T0)
             for n in range(150)]
    catalog = glentry_catalog(company)
    run = company.sync(catalog)
    assert run.returncode == 0, run.stderr
    assert read_files(run) == files
    entry = len(json.dumps({files[0]: T0.isoformat()})) - 1  # one key in synced_keys
    assert state_bytes(run) < len(files) * 1.5 * KEYS_PER_FILE * entry  # quadratic: 2.5x that
    assert len(run.last_state["bookmarks"]["GLENTRY"]["synced_keys"]) == len(files)

    states = [(position, m["value"]) for position, m in enumerate(run.messages)
              if m["type"] == "STATE"]
    assert len(states) < len(files) / 2
    for position, value in (states[len(states) // 2], states[-2]):
        emitted = {m["record"]["_sdc_source_file"] for m in run.messages[:position]
                   if m["type"] == "RECORD"}
        resumed = company.sync(catalog, state=value)
        assert resumed.returncode == 0, resumed.stderr
        assert set(read_files(resumed)) == set(files) - emitted
        assert len(read_files(resumed)) == len(resumed.records())


@dataclass
class TwoFiles:
    company: Company
    catalog: str
    first: Run  # the run that read GLENTRY.change.1.csv, before GLENTRY.change.2.csv landed


_two_files = {}


@pytest.fixture
def two_files(store, tmp_path_factory):
    """GLENTRY.change.1.csv (modified T0+1s), a run that read it, then GLENTRY.change.2.csv
    (T0+2s): made once per test process and store for the tests below, which each start one
    more run from a state of their own (the cases are one xdist group)."""
    if store not in _two_files:
        company = company_in(store, tmp_path_factory.mktemp("two-files"))
        company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,x\n", modified=1)
        catalog = glentry_catalog(company)
        first = company.sync(catalog)
        assert first.returncode == 0, first.stderr
        company.put("GLENTRY.change.2.csv", "RECORDNO,NAME\n2,y\n", modified=2)
        _two_files[store] = TwoFiles(company, catalog, first)
    return _two_files[store]


@pytest.mark.xdist_group("state two files")
def test_a_whole_state_message_is_taken_as_its_value(two_files):
    company, catalog = two_files.company, two_files.catalog
    message = [m for m in two_files.first.messages if m["type"] == "STATE"][-1]
    again = company.sync(catalog, state=message)
    assert again.returncode == 0, again.stderr
    assert [r["RECORDNO"] for r in again.records()] == [2]
    assert "is a whole STATE message" in again.stderr
    assert set(again.last_state) == {"bookmarks"}  # not {"type", "value", "bookmarks"}


@pytest.mark.xdist_group("state two files")
def test_meltano_state_get_output_is_taken_as_its_singer_state(two_files):
    company, catalog = two_files.company, two_files.catalog
    again = company.sync(catalog, state={"singer_state": two_files.first.last_state})
    assert again.returncode == 0, again.stderr
    assert [r["RECORDNO"] for r in again.records()] == [2]
    assert "`meltano state get` output" in again.stderr
    assert set(again.last_state) == {"bookmarks"}


@pytest.mark.xdist_group("state two files")
def test_currently_syncing_is_cleared_and_the_bookmarks_count(two_files):
    company, catalog = two_files.company, two_files.catalog
    state = {"currently_syncing": "GLENTRY", "bookmarks": {"GLENTRY": {
        "modified_since": (T0 + datetime.timedelta(seconds=1)).isoformat()}}}
    run = company.sync(catalog, state=state)
    assert run.returncode == 0, run.stderr
    assert [r["RECORDNO"] for r in run.records()] == [2]
    assert run.last_state["currently_syncing"] is None
    assert "currently_syncing ('GLENTRY') is cleared" in run.stderr


@pytest.mark.parametrize("state, fragment", [
    ({"GLENTRY": {"modified_since": "2024-03-01T12:00:00+00:00"}},
     'GLENTRY look like stream bookmarks but are not under "bookmarks"'),
    ({"type": "RECORD", "stream": "GLENTRY", "record": {}},
     "this is a Singer RECORD message, not a state"),
    ({"type": "STATE", "value": {"bookmarks": {}}, "bookmarks": {}},
     "holds both 'bookmarks' and 'value'"),
    ({"singer_state": "x"}, "'singer_state' must be a JSON object"),
    ({"type": "STATE", "value": []}, "'value' must be a JSON object"),
])
@pytest.mark.xdist_group("state two files")
def test_state_shapes_that_would_read_everything_again_are_refused(two_files, state, fragment):
    company, catalog = two_files.company, two_files.catalog
    run = company.sync(catalog, state=state)
    assert_clean_failure(run, "state ", fragment, code=2)
    assert run.stdout == ""


@pytest.mark.xdist_group("state two files")
def test_a_state_for_other_streams_only_is_named(two_files):
    company, catalog = two_files.company, two_files.catalog
    run = company.sync(catalog, state={"bookmarks": {"glentry": {
        "modified_since": T0.isoformat()}}})
    assert run.returncode == 0, run.stderr
    assert "the state holds bookmarks only for glentry, none for the selected stream(s) " \
           "GLENTRY" in run.stderr
