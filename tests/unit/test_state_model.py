"""A model of bookmarks and STATE (README, "Sync, state and bookmarks"): generated histories of
files landing in a store and of runs of the sync loop, some killed after any line they wrote and
resumed from the last STATE they wrote.

Files land in bursts that share one LastModified second (a DDS job's parts), with the store's
clock running ahead of this machine's by 0 s to an hour, or (with lookback_seconds) behind it by
up to the window; keys are random, so key order is not landing order. Runs happen at chosen
clock times (the sync loop's `now`). The sync loop, bookmarks, checkpoints and candidates run as
the tap runs them; only the store is an in-memory dict and stdout a buffer.

Invariant: every file's records are emitted, and exactly once as far as the STATE that follows
them is concerned: a file is emitted again only if it was emitted after the last STATE of a
killed run, and after a run's STATE records it, never again.
"""

import copy
import datetime
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_intacct import sync
from tap_intacct.dds import candidates
from tap_intacct.dds.catalog import selected_streams, stream_entry
from tap_intacct.dds.files import StoredFile
from tap_intacct.listing import Sources
from tap_intacct.output.messages import RecordSinks, SingerWriter
from tap_intacct.settings import config as config_module
from tap_intacct.settings.knobs import Knobs
from tests.support import examples

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
PREFIX = "dds/ACME/"
STREAMS = ["A", "B"]
SCHEMA = {"type": ["null", "string"]}


def catalog():
    entries = [stream_entry(name, {"RECORDNO": SCHEMA, "NAME": SCHEMA}) for name in STREAMS]
    for entry in entries:
        entry["metadata"][0]["metadata"]["selected"] = True
    return selected_streams({"streams": entries})


SELECTED = catalog()


class Killed(BaseException):
    """The run was killed (SIGKILL): nothing more reaches the target."""


class Stdout(io.StringIO):
    """A run's stdout, killed right after its `kill_after`-th line."""

    def __init__(self, kill_after):
        super().__init__()
        self.kill_after = kill_after
        self.lines = 0

    def write(self, text):
        if self.kill_after is not None and self.lines >= self.kill_after:
            raise Killed
        written = super().write(text)
        self.lines += text.count("\n")
        if self.kill_after is not None and self.lines >= self.kill_after:
            raise Killed
        return written


class MemoryStore:
    """The store as sync sees it (tap_intacct/storage/store.py), in memory."""

    name = "bucket"
    kind = "S3"

    def __init__(self):
        self.objects = {}  # key -> (body, LastModified)

    def location(self, prefix=""):
        return f"memory://bucket/{prefix}"

    def list(self, prefix):
        for key in sorted(self.objects):
            body, moment = self.objects[key]
            yield StoredFile(key, len(body), moment, etag=f'"{key}"')

    def open(self, stored):
        return io.BufferedReader(io.BytesIO(self.objects[stored.key][0]))


def run(store, state, clock, lookback, kill_after):
    """(messages, whether the run ended by itself) of one sync at `clock` seconds past T0."""
    out = Stdout(kill_after)
    writer = SingerWriter(out)
    config = config_module.validate({"start_date": "2024-01-01T00:00:00Z", "bucket": "bucket",
                                     "company_id": "ACME", "lookback_seconds": lookback})
    listing = candidates.data_files(store.list(PREFIX), lambda stored, reason: None)
    try:
        sync.sync(store, Sources(listing), SELECTED,
                  sync.Run(copy.deepcopy(state), config, writer, RecordSinks(writer),
                           knobs=Knobs(engine="rows"), now=T0 + datetime.timedelta(seconds=clock)))
        ended = True
    except Killed:
        ended = False
    return [json.loads(line) for line in out.getvalue().splitlines()], ended


def landing(lookback):
    """A burst of files of one stream sharing one LastModified: (stream, files, seconds the
    store's clock is ahead of this machine's; negative: behind, within lookback)."""
    skews = st.sampled_from([0, 0, 1, 3, 8, 3600])
    if lookback:
        skews = skews | st.integers(-lookback, 0)
    return st.tuples(st.just("land"), st.sampled_from(STREAMS),
                     st.integers(1, 3) | st.integers(33, 45), skews)


def a_run():
    """(seconds the clock moves on, the line after which the run is killed, or None)."""
    return st.tuples(st.just("run"), st.integers(0, 10), st.none() | st.integers(1, 120))


@st.composite
def histories(draw):
    lookback = draw(st.sampled_from([0, 0, 5]))
    steps = draw(st.lists(landing(lookback) | a_run(), min_size=1, max_size=14))
    return lookback, steps


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), names=st.randoms(use_true_random=False))
def test_every_file_is_emitted_and_once_per_state_whatever_the_kills(history, names):
    lookback, steps = history
    store, state, clock = MemoryStore(), {}, 0
    emitted = {}  # key -> [emitted before the STATE that records it?] per run that emitted it
    for step in [*steps, ("run", 1, None)]:  # a last run that nothing kills
        if step[0] == "land":
            _, stream, count, skew = step
            moment = T0 + datetime.timedelta(seconds=clock + skew)
            for _ in range(count):
                key = f"{PREFIX}{stream}.change.{names.randrange(10**6):06d}.csv"
                if key not in store.objects:
                    store.objects[key] = (f"RECORDNO,NAME\n1,{key}\n2,x\n".encode(), moment)
            continue
        _, advance, kill_after = step
        clock += advance
        messages, ended = run(store, state, clock, lookback, kill_after)
        last_state = max((n for n, m in enumerate(messages) if m["type"] == "STATE"), default=-1)
        files = {}
        for position, message in enumerate(messages):
            if message["type"] == "RECORD":
                recorded = ended or position < last_state
                files[message["record"]["_sdc_source_file"]] = recorded
        for key, recorded in files.items():
            emitted.setdefault(key, []).append(recorded)
        if last_state >= 0:
            state = messages[last_state]["value"]

    assert set(emitted) == set(store.objects), "a file was never read"
    for key, runs in emitted.items():
        assert runs.count(True) == 1 and runs[-1], (key, runs, state)
