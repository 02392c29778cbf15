"""Exports with the header rows of real Intacct objects (tests/fixtures/dds-facts: dotted field
names such as DISPLAYCONTACT.MAILADDRESS.CITY, PAYTO.TAXGROUP.RECORDNO) are discovered, checked
and synced in full under their names as written: both stores, both engines, RECORD and BATCH."""

import csv
import gzip
import io
import json
import urllib.parse

import pytest

from devtools import intacct_exports
from tap_intacct.settings import knobs
from tests.e2e.conftest import T0

pytestmark = pytest.mark.stores("s3", "azure")
ENGINES = ["rows", "fast"] if knobs.fast_engine_installed() else ["rows"]
OBJECTS = {"CUSTOMER": range(1, 41), "VENDOR": range(1, 31), "APBILL": range(100, 120)}


def run_engine(company, engine, *args, config=None):
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    return company.tap(*args, config=config, env=env)


def written(name):
    """{RECORDNO: {field: cell text}} of the export the test wrote for object `name`."""
    text = intacct_exports.object_export(name, OBJECTS[name])
    reader = csv.DictReader(io.StringIO(text))
    return {int(row["RECORDNO"]): row for row in reader}


def test_real_headers_are_synced_in_full_under_their_own_names(company, tmp_path):
    headers = intacct_exports.real_headers()
    assert any("." in name for name in headers["CUSTOMER"])
    assert any("." in name for name in headers["VENDOR"])
    for offset, name in enumerate(OBJECTS):
        company.put(f"{name}.all.{7 + offset}.2024-03-01T11:00:00.csv",
                    intacct_exports.object_export(name, OBJECTS[name]), modified=offset)

    catalog = company.discover(shared=True)
    for stream in catalog["streams"]:
        columns = [c for c in stream["schema"]["properties"] if not c.startswith("_sdc_")]
        assert sorted(columns) == sorted(headers[stream["tap_stream_id"]])

    check = company.tap("--test")
    assert check.returncode == 0, check.stderr
    assert "test: all checks passed (3 object(s))" in check.stderr

    catalog_path = company.selected_catalog(catalog)
    batch_config = {"encoding": {"format": "jsonl", "compression": "gzip"},
                    "storage": {"root": tmp_path.as_uri()}}
    outputs = set()
    for engine in ENGINES:
        run = run_engine(company, engine, "--catalog", catalog_path)
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
        for name in OBJECTS:
            rows = written(name)
            records = run.records(name)
            assert [r["RECORDNO"] for r in records] == list(rows)
            for record in records:
                row = rows[record["RECORDNO"]]
                dotted = [field for field in row if "." in field]
                assert dotted and {f: record[f] for f in dotted} == {f: row[f] for f in dotted}
                assert set(row) <= set(record)
        batched = run_engine(company, engine, "--catalog", catalog_path,
                             config=company.config(batch_config=batch_config))
        assert batched.returncode == 0, batched.stderr
        for message in batched.of_type("BATCH"):
            path = urllib.parse.urlsplit(message["manifest"][0]).path
            with gzip.open(path, "rt") as lines:
                assert [json.loads(line) for line in lines] == run.records(message["stream"])
        assert {m["stream"] for m in batched.of_type("BATCH")} == set(OBJECTS)
    assert len(outputs) == 1  # both engines, byte for byte
    assert T0.isoformat()[:10] in run.last_state["bookmarks"]["VENDOR"]["modified_since"]
