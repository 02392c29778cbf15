"""Sync against real S3 and Azure Blob APIs: records and their types, selection, bookmarks and
state."""

import datetime
import json

import pytest

from tests.e2e.conftest import T0, shared_layout

pytestmark = pytest.mark.stores("s3", "azure")

GL = ("RECORDNO,ACCOUNTNO,AMOUNT,ENTRY_DATE,MEMO,LINE_NO\n"
      "1,0100,1234.50,2024-01-02,\"two\nlines\",1\n"
      "2,1000,-0.10,,plain,\n"
      "3,2000,100000000000000000000.01,2024-01-03,\"say \"\"hi\"\"\",3,EXTRA1,EXTRA2\n"
      "4,2100\n")


def synced(company):
    """One stream per case, discovered and synced together (exit 0): (company, catalog, the
    catalog's path, the run). NEWCOL's second file lands after discovery."""
    company.put("GLENTRY.all.1.csv", GL)
    company.put("ORIGINAL.old.csv", "RECORDNO\n1\n", modified=0)
    company.put("ORIGINAL.new.csv", "RECORDNO\n2\n", modified=5)
    company.put("START.old.csv", "RECORDNO\n1\n", modified=-3600)
    company.put("START.new.csv", "RECORDNO\n2\n", modified=0)
    company.put("NEWCOL.1.csv", "RECORDNO,A\n1,x\n", modified=1)
    company.put("DUP.1.csv", "RECORDNO,AMOUNT,AMOUNT\n1,1.00,2.00\n")
    company.put("ORDER.1.csv", "RECORDNO,A\n1,x\n", modified=1)
    company.put("ORDER.2.csv", "RECORDNO,A\n2,y\n", modified=2)
    company.put("ORDERV.1.csv", "RECORDNO,B\n1,z\n", modified=1)
    catalog = company.discover()
    company.put("NEWCOL.2.csv", "RECORDNO,A,SURPRISE\n2,y,z\n", modified=2)
    path = company.write("synced.json", json.loads(open(company.selected_catalog(
        json.loads(json.dumps(catalog)))).read()))
    run = company.sync(path)
    assert run.returncode == 0, run.stderr
    return company, catalog, path, run


SYNCED = pytest.mark.xdist_group("synced streams")


def record_lines(run, stream):
    return "\n".join(line for line in run.stdout.splitlines()
                     if line.startswith(f'{{"type":"RECORD","stream":"{stream}"'))


@SYNCED
def test_records_types_and_exact_values(store, tmp_path_factory):
    company, _catalog, _path, run = shared_layout(store, tmp_path_factory, synced)
    key = company.prefix + "GLENTRY.all.1.csv"
    records = run.records("GLENTRY")
    assert [r["RECORDNO"] for r in records] == [1, 2, 3, 4]
    first, second, third, short = records
    assert first["ACCOUNTNO"] == "0100"
    assert first["ENTRY_DATE"] == "2024-01-02T00:00:00.000000Z"
    assert first["MEMO"] == "two\nlines"
    assert (first["_sdc_source_bucket"], first["_sdc_source_file"]) == (company.bucket, key)
    assert [r["_sdc_source_lineno"] for r in records] == [2, 4, 5, 6]
    assert second["ENTRY_DATE"] is None and second["LINE_NO"] is None  # empty typed cells
    assert third["MEMO"] == 'say "hi"' and third["_sdc_extra"] == ["EXTRA1", "EXTRA2"]
    assert "_sdc_extra" not in first
    assert short["AMOUNT"] is None and short["MEMO"] is None  # short row: missing is null
    # exact decimal digits on the wire, no float rounding
    lines = record_lines(run, "GLENTRY")
    assert '"AMOUNT":1234.50' in lines
    assert '"AMOUNT":-0.10' in lines
    assert '"AMOUNT":100000000000000000000.01' in lines


@SYNCED
def test_catalog_and_properties_give_the_same_output(store, tmp_path_factory):
    company, _catalog, path, by_catalog = shared_layout(store, tmp_path_factory, synced)
    by_properties = company.sync(path, flag="--properties")
    assert by_catalog.returncode == by_properties.returncode == 0
    assert by_catalog.stdout == by_properties.stdout and by_catalog.records()


@SYNCED
def test_unselected_streams_and_columns_are_not_emitted(store, tmp_path_factory):
    company, catalog, _path, _run = shared_layout(store, tmp_path_factory, synced)
    run = company.sync(company.selected_catalog(json.loads(json.dumps(catalog)),
                                                streams={"GLENTRY"}, deselect={"MEMO", "RECORDNO"}))
    assert {m["stream"] for m in run.of_type("RECORD")} == {"GLENTRY"}
    schema = run.of_type("SCHEMA")[0]["schema"]["properties"]
    assert "MEMO" not in schema and "RECORDNO" in schema  # the key is automatic
    assert all("MEMO" not in r and "RECORDNO" in r for r in run.records())


@SYNCED
def test_state_written_by_the_original_tap_is_accepted(store, tmp_path_factory):
    company, _catalog, path, _run = shared_layout(store, tmp_path_factory, synced)
    original_state = {"bookmarks": {"ORIGINAL": {"modified_since": T0.isoformat()}},
                      "currently_syncing": None}
    run = company.sync(path, state=original_state)
    assert run.returncode == 0, run.stderr
    assert [r["RECORDNO"] for r in run.records("ORIGINAL")] == [2]
    assert run.last_state["currently_syncing"] is None  # other keys kept


@SYNCED
def test_start_date_bounds_the_first_sync(store, tmp_path_factory):
    company, _catalog, path, _run = shared_layout(store, tmp_path_factory, synced)
    config = company.config(start_date=T0.replace(minute=0, hour=11, second=30).isoformat())
    run = company.sync(path, config=config)
    assert [r["RECORDNO"] for r in run.records("START")] == [2]


@SYNCED
def test_vanished_stream_keeps_its_state(store, tmp_path_factory):
    company, catalog, _path, _run = shared_layout(store, tmp_path_factory, synced)
    catalog = json.loads(open(company.selected_catalog(json.loads(json.dumps(catalog)),
                                                       streams={"GLENTRY"})).read())
    catalog["streams"] = [s for s in catalog["streams"] if s["tap_stream_id"] == "GLENTRY"]
    catalog["streams"][0]["tap_stream_id"] = catalog["streams"][0]["stream"] = "GONE"
    state = {"bookmarks": {"GONE": {"modified_since": T0.isoformat()}}}
    run = company.sync(company.write("gone.json", catalog), state=state)
    assert run.returncode == 0
    assert run.records() == [] and "GONE: no files for this stream" in run.stderr
    assert run.of_type("STATE") == []


@SYNCED
def test_new_columns_not_in_catalog_are_dropped_with_a_warning(store, tmp_path_factory):
    _company, _catalog, _path, run = shared_layout(store, tmp_path_factory, synced)
    assert [r.get("SURPRISE") for r in run.records("NEWCOL")] == [None, None]
    assert "SURPRISE are not in the catalog" in run.stderr


@SYNCED
def test_duplicate_header_names_keep_every_value(store, tmp_path_factory):
    _company, _catalog, _path, run = shared_layout(store, tmp_path_factory, synced)
    [record] = run.records("DUP")
    assert record["AMOUNT"] == 1.0 and record["AMOUNT__2"] == 2.0


@SYNCED
def test_message_order_schema_then_records_then_state(store, tmp_path_factory):
    _company, _catalog, _path, run = shared_layout(store, tmp_path_factory, synced)
    kinds = [(m["type"], m.get("stream")) for m in run.messages]
    # streams in catalog order (by name): ORDER and ORDERV come between NEWCOL and ORIGINAL
    first, after = kinds.index(("SCHEMA", "ORDER")), kinds.index(("SCHEMA", "ORIGINAL"))
    assert kinds[0] == ("SCHEMA", "DUP") and kinds[first - 1] == ("STATE", None)
    assert kinds[first:after] == [("SCHEMA", "ORDER"), ("RECORD", "ORDER"), ("STATE", None),
                                  ("RECORD", "ORDER"), ("STATE", None), ("SCHEMA", "ORDERV"),
                                  ("RECORD", "ORDERV"), ("STATE", None)]
    schema = run.messages[first]
    assert schema["key_properties"] == ["RECORDNO"]
    state = run.last_state["bookmarks"]
    assert state["ORDER"]["modified_since"] == "2024-03-01T12:00:02+00:00"
    assert state["ORDERV"]["modified_since"] == "2024-03-01T12:00:01+00:00"


def test_bookmark_resume_and_files_in_the_same_second(company):
    company.put("GLENTRY.a.csv", "RECORDNO\n1\n", modified=10)
    company.put("GLENTRY.b.csv", "RECORDNO\n2\n", modified=10)  # same second as a
    catalog = company.selected_catalog()
    first = company.sync(catalog)
    assert sorted(r["RECORDNO"] for r in first.records()) == [1, 2]

    again = company.sync(catalog, state=first.last_state)
    assert again.returncode == 0 and again.records() == []

    company.put("GLENTRY.c.csv", "RECORDNO\n3\n", modified=10)  # arrives late, same second
    company.put("GLENTRY.d.csv", "RECORDNO\n4\n", modified=11)
    third = company.sync(catalog, state=first.last_state)
    assert [r["RECORDNO"] for r in third.records()] == [3, 4]
    fourth = company.sync(catalog, state=third.last_state)
    assert fourth.records() == []


def test_without_string_fallback_types_are_plain_and_misfits_stop_the_stream(company):
    company.put("GLENTRY.1.csv", "RECORDNO,AMOUNT,WHEN\n1,1.50,2024-01-02\n", modified=1)
    catalog = company.discover(string_fallback=False)
    properties = catalog["streams"][0]["schema"]["properties"]
    assert properties["RECORDNO"] == {"type": ["null", "integer"]}
    assert properties["AMOUNT"] == {"type": ["null", "number"]}
    assert properties["WHEN"] == {"type": ["null", "string"], "format": "date-time"}
    path = company.selected_catalog(catalog)
    bad = company.put("GLENTRY.2.csv", "RECORDNO,AMOUNT,WHEN\n2,2.00,2024-01-03\n3,n/a,\n",
                      modified=2)
    run = company.sync(path)
    assert run.returncode == 1
    assert f"{bad}: line 3, column AMOUNT: 'n/a' is not a plain decimal number" in run.stderr
    assert "Traceback" not in run.stderr
    assert [r["AMOUNT"] for r in run.records()][0] == 1.5
    assert run.last_state["bookmarks"]["GLENTRY"]["modified_since"].endswith("12:00:01+00:00")


@pytest.mark.stores("s3")
def test_state_stays_small_and_lookback_state_is_written_less_often(company):
    keys = [company.put(f"GLENTRY.change.{n:03d}.csv", f"RECORDNO\n{n}\n", modified=60 * n)
            for n in range(120)]
    catalog = company.selected_catalog()
    run = company.sync(catalog)
    states = [json.dumps(m["value"]) for m in run.of_type("STATE")]
    assert len(states) == 120  # one after every file
    assert len(states[-1]) == len(states[10])  # the keys at the bookmark only
    assert json.loads(states[-1])["bookmarks"]["GLENTRY"]["synced_keys"] == {
        keys[-1]: (T0 + datetime.timedelta(seconds=60 * 119)).isoformat()}

    paced = company.sync(catalog, config=company.config(lookback_seconds=86400))
    assert [r["RECORDNO"] for r in paced.records()] == list(range(120))
    assert 32 <= len(paced.of_type("STATE")) < 120  # every file up to 32 keys, then fewer
    assert len(paced.last_state["bookmarks"]["GLENTRY"]["synced_keys"]) == 120
    # resuming from a STATE written mid-run repeats nothing before it and loses nothing after
    middle = paced.of_type("STATE")[40]["value"]
    rerun = company.sync(catalog, state=middle, config=company.config(lookback_seconds=86400))
    done = len(middle["bookmarks"]["GLENTRY"]["synced_keys"])
    assert [r["RECORDNO"] for r in rerun.records()] == list(range(done, 120))
