"""A model of `full_exports: replace` (README "Full exports"): generated DDS histories, the tap's
sync loop run over them at arbitrary moments (some runs killed after any line they wrote and
resumed from their last STATE), and a reference target applying what the tap wrote.

A history: a truth table (Intacct's VENDOR rows) mutated between jobs. A full job writes the
truth in 1-3 parts; a change job writes the rows changed since the job before (ddsChangeType
create, update, delete), the deletes sometimes in a file of their own. Jobs start landing in job
order, but their later parts land up to the quiet period after the previous one, interleaved
with later jobs' files. Jobs are named by job number or by job timestamp. The sync loop,
bookmarks, checkpoints, candidates and job order run as the tap runs them, with either engine;
only the store is an in-memory dict (tests/unit/test_state_model.py's) and stdout a buffer.

The reference target: upsert by key, each row keeping the version of the RECORD that wrote it;
ACTIVATE_VERSION drops (hard delete) or marks deleted (soft) every row of an older version or
none; a RECORD with _sdc_deleted_at drops or marks its row.

Invariants:
- after a run that ended by itself, a row whose newest job (the newest job that wrote it, or the
  newest full job, which writes every row there is) is complete, with every job before it, is in
  the target as that job left it (live with its values, or not live);
- after the last run, once every job is past the quiet period, the live rows are the truth;
- no file's records are emitted again once a STATE after them was written.
"""

import copy
import datetime
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_intacct import sync
from tap_intacct.dds import candidates
from tap_intacct.dds.catalog import selected_streams, stream_entry
from tap_intacct.listing import Sources
from tap_intacct.output.messages import RecordSinks, SingerWriter
from tap_intacct.settings import config as config_module
from tap_intacct.settings.knobs import Knobs
from tests.support import examples
from tests.unit.test_state_model import Killed, MemoryStore, Stdout

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
PREFIX = "dds/ACME/"
QUIET = 60  # full_export_quiet_seconds (its minimum)
KEYS = range(1, 5)
TEXT = {"type": ["null", "string"]}
READ_TIME = "2024-03-01 10:00:00"


def catalog():
    entry = stream_entry("VENDOR", {"RECORDNO": TEXT, "NAME": TEXT, "ddsChangeType": TEXT,
                                    "ddsReadTime": TEXT})
    entry["metadata"][0]["metadata"]["selected"] = True
    return selected_streams({"streams": [entry]})


SELECTED = catalog()
CONFIG = config_module.validate({"start_date": "2024-01-01T00:00:00Z", "bucket": "bucket",
                                 "company_id": "ACME", "full_exports": "replace",
                                 "full_export_quiet_seconds": QUIET})


def full_file(rows):
    return "RECORDNO,NAME,ddsReadTime\n" + "".join(
        f"{key},{name},{READ_TIME}\n" for key, name in rows)


def change_file(rows):
    return "RECORDNO,NAME,ddsChangeType,ddsReadTime\n" + "".join(
        f"{key},{name},{kind},{READ_TIME}\n" for key, name, kind in rows)


def seconds(most):
    """A gap between two landings: often none or a second (files in the same second, then
    only key order separates them), else up to `most`."""
    return st.sampled_from([0, 1, most]) | st.integers(0, most)


@st.composite
def histories(draw):
    """(jobs, the truth after each, runs): a job is (full, mentioned keys, [(name, body,
    landing second)]); a run is (second, the line after which it is killed, or None)."""
    named_by = draw(st.sampled_from(["number", "timestamp"]))
    number = draw(st.integers(1, 30))
    truth, before, start = {}, {}, 0
    jobs, truths = [], []
    for position in range(draw(st.integers(1, 6))):
        for key, kind in draw(st.lists(st.tuples(st.sampled_from(KEYS),
                                                 st.sampled_from(["upsert", "delete"])),
                                       min_size=1, max_size=3)):
            if kind == "upsert":
                truth[key] = f"j{position}k{key}"
            else:
                truth.pop(key, None)
        full = draw(st.booleans())
        if full:
            rows = sorted(truth.items())
            cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=2)))
            bodies = [full_file(rows[a:b]) for a, b in zip([0, *cuts], [*cuts, len(rows)],
                                                                   strict=True)]
            mentioned = set(KEYS)
        else:
            changed = sorted(key for key in set(truth) | set(before)
                             if truth.get(key) != before.get(key))
            rows = [(key, truth[key], "create" if key not in before else "update")
                    if key in truth else (key, before[key], "delete") for key in changed]
            if draw(st.booleans()):  # the deletes in a file of their own
                bodies = [change_file([r for r in rows if r[2] != "delete"]),
                          change_file([r for r in rows if r[2] == "delete"])]
            else:
                bodies = [change_file(rows)]
            mentioned = set(changed)
        number += draw(st.integers(1, 3))
        ident = (str(number) if named_by == "number" else
                 (T0 + datetime.timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        start += draw(seconds(2 * QUIET)) if position else 0
        landed, files = start, []
        for part, body in enumerate(bodies):
            landed += draw(seconds(QUIET - 1)) if part else 0
            kind = "all" if full else "change"
            files.append((f"VENDOR.{kind}.{ident}.part{part}.csv", body, landed))
        jobs.append((full, mentioned, files))
        truths.append(dict(truth))
        before = dict(truth)
    end = max(landed for _, _, files in jobs for _, _, landed in files)
    runs = draw(st.lists(st.tuples(st.integers(0, end + QUIET),
                                   st.none() | st.integers(1, 40)), max_size=8))
    return jobs, truths, sorted(runs, key=lambda run: run[0])


def run(store, state, clock, kill_after, engine):
    """(messages, whether the run ended by itself) of one sync at `clock` seconds past T0."""
    out = Stdout(kill_after)
    writer = SingerWriter(out)
    listing = candidates.data_files(store.list(PREFIX), lambda stored, reason: None)
    try:
        sync.sync(store, Sources(listing), SELECTED,
                  sync.Run(copy.deepcopy(state), CONFIG, writer, RecordSinks(writer),
                           knobs=Knobs(engine=engine), now=T0 + datetime.timedelta(seconds=clock)))
        ended = True
    except Killed:
        ended = False
    return [json.loads(line) for line in out.getvalue().splitlines()], ended


class Target:
    """A target honouring versions and deletes: {RECORDNO: [version, NAME, deleted]}."""

    def __init__(self, hard_delete):
        self.hard_delete = hard_delete
        self.rows = {}

    def apply(self, message):
        if message["type"] == "RECORD":
            record = message["record"]
            key = int(record["RECORDNO"])
            if record.get("_sdc_deleted_at") and self.hard_delete:
                self.rows.pop(key, None)
            else:
                self.rows[key] = [message.get("version"), record["NAME"],
                                  bool(record.get("_sdc_deleted_at"))]
        elif message["type"] == "ACTIVATE_VERSION":
            for key, row in list(self.rows.items()):
                if row[0] is None or row[0] < message["version"]:
                    if self.hard_delete:
                        del self.rows[key]
                    else:
                        row[2] = True

    def live(self):
        return {key: name for key, (_version, name, deleted) in self.rows.items() if not deleted}


def expected_rows(jobs, truths, clock):
    """{key: its NAME or None (not live)} for the keys whose newest job, at `clock`, is complete
    with every job before it."""
    complete = 0  # jobs[:complete] are complete
    for _full, _mentioned, files in jobs:
        if max(landed for _, _, landed in files) + QUIET > clock:
            break
        complete += 1
    landed = [n for n, (_, _, files) in enumerate(jobs) if files[0][2] <= clock]
    expected = {}
    for key in KEYS:
        newest = max((n for n in landed if key in jobs[n][1]), default=None)
        if newest is not None and newest < complete:
            expected[key] = truths[newest].get(key)
    return expected


def check_history(history, engine, hard_delete):
    jobs, truths, runs = history
    end = max(landed for _, _, files in jobs for _, _, landed in files)
    store, state, target = MemoryStore(), {}, Target(hard_delete)
    recorded = {}  # file -> the runs that emitted it before a STATE that followed
    # the last run: every job complete
    for number, (clock, kill_after) in enumerate([*runs, (end + QUIET, None)]):
        for _full, _mentioned, files in jobs:
            for name, body, landed in files:
                if landed <= clock:
                    store.objects[PREFIX + name] = (body.encode(),
                                                    T0 + datetime.timedelta(seconds=landed))
        messages, ended = run(store, state, clock, kill_after, engine)
        states = [n for n, m in enumerate(messages) if m["type"] == "STATE"]
        for position, message in enumerate(messages):
            target.apply(message)
            if message["type"] == "RECORD" and (ended or (states and position < states[-1])):
                recorded.setdefault(message["record"]["_sdc_source_file"], set()).add(number)
        if states:
            state = messages[states[-1]]["value"]
        if ended:
            live = target.live()
            for key, name in expected_rows(jobs, truths, clock).items():
                assert live.get(key) == name, (clock, key, live, messages)
    assert target.live() == truths[-1]
    emitted_twice = {name: runs for name, runs in recorded.items() if len(runs) > 1}
    assert not emitted_twice, emitted_twice
    # every file done: the frontier passed them all, and only the newest second's keys stay
    bookmark = state["bookmarks"]["VENDOR"]
    newest = (T0 + datetime.timedelta(seconds=end)).isoformat()
    assert bookmark["modified_since"] == newest
    assert set(bookmark.get("synced_keys", {}).values()) <= {newest}, bookmark


@pytest.mark.parametrize("engine", ["rows", "fast"])
@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), hard_delete=st.booleans())
def test_the_target_holds_the_truth_whatever_the_landing_order_and_the_kills(
        history, hard_delete, engine):
    if engine == "fast":
        pytest.importorskip("pyarrow")
    check_history(history, engine, hard_delete)
