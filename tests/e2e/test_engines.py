"""The differential test: the installed command with TAP_INTACCT_ENGINE=rows and =fast on every
edge-case file of the suite (one stream each, so one run covers them all), with discovered,
strict and annotated schemas, in RECORD and BATCH mode. Required: identical stdout bytes, exit
code and warning/error lines (INFO lines carry timings)."""

import gzip
import json
import pathlib
import re

import pytest

from tests.support import CORPUS

pytest.importorskip("pyarrow")

SUFFIXES = {"gzip": ".csv.gz", "truncated gzip": ".csv.gz", "zip": ".zip"}


@pytest.fixture
def corpus(company):
    for number, name in enumerate(sorted(CORPUS)):
        stream = "E" + re.sub(r"[^A-Z0-9]", "_", name.upper())
        company.put(stream + SUFFIXES.get(name, ".csv"), CORPUS[name], modified=number)
    return company


def problems(stderr):
    return [line for line in stderr.splitlines() if not line.startswith("INFO ")]


def run_both(company, catalog_path, config=None):
    runs = {}
    for engine in ("rows", "fast"):
        env = company.s3.tap_environment()
        env["TAP_INTACCT_ENGINE"] = engine
        runs[engine] = company.tap("--catalog", catalog_path, config=config, env=env)
    rows, fast = runs["rows"], runs["fast"]
    assert fast.returncode == rows.returncode
    assert problems(fast.stderr) == problems(rows.stderr)
    return rows, fast


def annotate(catalog):
    for stream in catalog["streams"]:
        for schema in stream["schema"]["properties"].values():
            if isinstance(schema, dict):
                schema["description"] = "annotated"
    return catalog


@pytest.mark.parametrize("schemas", ["discovered", "strict", "annotated"])
def test_both_engines_write_the_same_records(corpus, schemas):
    catalog = corpus.discover(shared=True, string_fallback=schemas != "strict")
    config = corpus.config(string_fallback=schemas != "strict")
    if schemas == "annotated":
        catalog = annotate(catalog)
    rows, fast = run_both(corpus, corpus.selected_catalog(catalog), config=config)
    assert fast.stdout == rows.stdout
    assert rows.returncode != 0  # the corpus has unreadable files: their streams stop
    assert len(rows.records()) > 300
    assert fast_engine_records(fast.stderr) >= 250  # most records were the fast engine's own


def fast_engine_records(stderr):
    """How many records the fast engine assembled itself (not handed to the row path)."""
    return sum(int(count) for count in re.findall(
        r"fast engine: (?:all )?([0-9]+) record\(s\)", stderr))


def batch_lines(run):
    """The stdout with batch file URLs replaced by their records (run ids differ)."""
    lines = []
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "BATCH":
            path = pathlib.Path(message["manifest"][0].removeprefix("file://"))
            lines.append(message["stream"] + ": " + gzip.decompress(path.read_bytes()).decode())
        else:
            lines.append(line)
    return lines


def test_both_engines_write_the_same_batches(corpus, tmp_path):
    batch = {"encoding": {"format": "jsonl", "compression": "gzip"},
             "storage": {"root": (tmp_path / "batches").as_uri()}, "batch_size": 7}
    catalog = corpus.selected_catalog(shared=True)
    config = corpus.config(batch_config=batch)  # after discovery, which writes its own
    rows, fast = run_both(corpus, catalog, config=config)
    assert batch_lines(fast) == batch_lines(rows)
    assert sum(line.count("\n") for line in batch_lines(rows)) > 300
    assert fast_engine_records(fast.stderr) >= 250
