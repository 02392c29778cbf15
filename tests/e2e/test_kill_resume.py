"""SIGKILL at random points of a multi-file sync, then resume from the last STATE it emitted.

`make test` kills at a fixed, seeded sample of three points, one in each third of the run's
output; `make fuzz` at FUZZ_SCALE times as many, drawn afresh (tests/support.py)."""

import gzip
import itertools
import json
import random
import signal
import subprocess
import urllib.parse

import pytest

from devtools import ddsdata
from tests.e2e.conftest import TAP
from tests.support import examples, sample_seed

FILES, ROWS = 4, 1000  # BATCH mode: four batch files a file (batch_size 250)
KILL_POINTS = examples(3)


def parse(lines):
    messages = []
    for line in lines:
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the line cut by the kill
    return messages


def kill_points(count, messages):
    """`count` numbers of lines read before the kill, one drawn in each of `count` equal parts
    of 1..messages-1 (so that the sample spans the run: the first file, before any STATE, as
    well as its middle and end)."""
    rng = random.Random(sample_seed(20261125))
    bounds = [1 + (messages - 1) * part // count for part in range(count + 1)]
    return [rng.randrange(low, max(high, low + 1)) for low, high in itertools.pairwise(bounds)]


def row_ids(messages):
    """(file, line) of every record the messages deliver: RECORD messages, or the records in
    the batch files BATCH messages announce (a file is announced only once it is complete)."""
    ids = []
    for message in messages:
        if message["type"] == "RECORD":
            ids.append((message["record"]["_sdc_source_file"],
                        message["record"]["_sdc_source_lineno"]))
        elif message["type"] == "BATCH":
            for url in message["manifest"]:
                with gzip.open(urllib.parse.urlsplit(url).path, "rt") as lines:
                    records = [json.loads(line) for line in lines]
                ids += [(r["_sdc_source_file"], r["_sdc_source_lineno"]) for r in records]
    return ids


@pytest.mark.stores("s3", "azure")
@pytest.mark.parametrize("mode", ["records", "batches"])
def test_killed_runs_resume_without_losing_rows(company, tmp_path, mode):
    for n in range(FILES):
        company.put(f"GLENTRY.change.{n}.csv", ddsdata.glentry_csv(ROWS, 1 + ROWS * n, seed=n),
                    modified=n)
    catalog = company.selected_catalog()
    batch = {"encoding": {"format": "jsonl", "compression": "gzip"},
             "storage": {"root": (tmp_path / "batches").as_uri()}, "batch_size": 250}
    config = company.config(batch_config=batch if mode == "batches" else None)
    clean = company.sync(catalog, config=config)
    everything = set(row_ids(clean.messages))
    assert len(everything) == FILES * ROWS
    outcomes = set()

    for kill_after in kill_points(KILL_POINTS, len(clean.messages)):
        process = subprocess.Popen([TAP, "--config", config, "--catalog", catalog],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                   env=company.server.tap_environment())
        lines = []
        try:
            for line in process.stdout:
                lines.append(line)
                if len(lines) >= kill_after:
                    process.send_signal(signal.SIGKILL)
                    break
            lines += process.stdout.read().splitlines(keepends=True)
        finally:
            process.kill()
            process.wait(timeout=30)
        first = parse(lines)
        states = [i for i, m in enumerate(first) if m["type"] == "STATE"]
        cut = states[-1] if states else -1
        done = set(row_ids(first[:cut + 1]))
        in_flight = set(row_ids(first[cut + 1:]))
        state = first[cut]["value"] if states else None

        second = company.sync(catalog, state=state, config=config)
        assert second.returncode == 0, second.stderr
        resumed = row_ids(second.messages)
        assert len(resumed) == len(set(resumed))  # nothing twice within a run
        assert done | in_flight | set(resumed) == everything  # nothing lost
        assert not done & set(resumed)  # finished files are never read again
        repeated_files = {key for key, _ in in_flight & set(resumed)}
        assert len(repeated_files) <= 1  # repeats only from the file being read at the kill
        outcomes.add((bool(states), bool(in_flight)))
    assert (True, True) in outcomes  # at least one kill landed mid-file after a STATE
