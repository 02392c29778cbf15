"""MeltanoLabs' target-postgres loads the tap's output into a real PostgreSQL; SQL checks it."""

import csv
import io
import json
import subprocess
import uuid

import pytest

from devtools import intacct_exports
from tests.integration.conftest import tool

GL = ("RECORDNO,ACCOUNTNO,AMOUNT,TR_TYPE,WHENCREATED,MEMO\n"
      "1,0100,1234.50,1,2024-01-02T03:04:05Z,petty cash\n"
      "2,1000,100000000000000000000.01,-1,2024-01-03 10:00:00,\"big, exact\"\n"
      "3,2000,-0.10,1,2024-01-04,\n")
VENDOR = ("RECORDNO,NAME,ddsChangeType,ddsReadTime\n"
          "7,Acme,update,2024-01-06 10:05:00\n"
          "8,Globex,delete,2024-01-06 10:06:00\n")


@pytest.fixture
def schema_name(postgres_url):
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    sql(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def sql(url, query):
    result = subprocess.run(["psql", url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", query],
                            capture_output=True, text=True, check=True)
    return [line.split("|") for line in result.stdout.splitlines()]


def load(company, postgres_url, schema, singer_output, *, hard_delete=False, use_copy=False):
    host_port = postgres_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    config = company.write(f"target-{uuid.uuid4().hex[:6]}.json", {
        "host": host, "port": int(port), "user": "postgres", "password": "unused",
        "database": "postgres", "default_target_schema": schema, "hard_delete": hard_delete,
        "use_copy": use_copy})
    result = subprocess.run([tool("target-postgres", "target-postgres"), "--config", config],
                            input=singer_output, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # the state it confirms


@pytest.mark.stores("s3", "azure")
def test_rows_types_deletes_and_redelivery(company, postgres_url, schema_name):
    company.put("GLENTRY.all.1.csv", GL, modified=1)
    company.put("VENDOR.change.1.csv", VENDOR, modified=1)
    catalog = company.selected_catalog()
    first = company.sync(catalog)
    assert first.returncode == 0, first.stderr
    state = load(company, postgres_url, schema_name, first.stdout)
    assert state == first.last_state

    gl = f'"{schema_name}"."GLENTRY"'
    assert sql(postgres_url, f"SELECT count(*) FROM {gl}") == [["3"]]
    assert sql(postgres_url, f'SELECT "ACCOUNTNO" FROM {gl} ORDER BY "RECORDNO"') == [
        ["0100"], ["1000"], ["2000"]]
    # exact decimals: the stored value is the CSV text, and equal to it as numeric
    amounts = sql(postgres_url, f'SELECT "AMOUNT", "AMOUNT"::numeric = '
                                f"'100000000000000000000.01'::numeric FROM {gl} "
                                'ORDER BY "RECORDNO"')
    assert amounts == [["1234.50", "f"], ["100000000000000000000.01", "t"], ["-0.10", "f"]]
    assert sql(postgres_url, f"SELECT sum(\"AMOUNT\"::numeric * \"TR_TYPE\"::int) FROM {gl}") == [
        ["-99999999999999998765.61"]]
    # timestamps: a real timestamp column, in UTC
    assert sql(postgres_url, f"SELECT data_type FROM information_schema.columns WHERE "
                             f"table_schema = '{schema_name}' AND table_name = 'GLENTRY' AND "
                             "column_name = 'WHENCREATED'") == [["timestamp without time zone"]]
    assert sql(postgres_url, f'SELECT "WHENCREATED"::text FROM {gl} ORDER BY "RECORDNO"') == [
        ["2024-01-02 03:04:05"], ["2024-01-03 10:00:00"], ["2024-01-04 00:00:00"]]
    # deletes (soft, the target's default): the delete row carries _sdc_deleted_at
    vendor = f'"{schema_name}"."VENDOR"'
    assert sql(postgres_url, f'SELECT "RECORDNO", "_sdc_deleted_at"::text FROM {vendor} '
                             'ORDER BY "RECORDNO"') == [["7", ""], ["8", "2024-01-06 10:06:00"]]

    # DDS delivers the same rows again (a re-run job): upserted by RECORDNO, not duplicated
    company.put("GLENTRY.all.2.csv", GL.replace("petty cash", "petty cash (restated)"),
                modified=2)
    second = company.sync(catalog, state=first.last_state)
    assert len(second.records()) == 3
    load(company, postgres_url, schema_name, second.stdout)
    assert sql(postgres_url, f"SELECT count(*) FROM {gl}") == [["3"]]
    assert sql(postgres_url, f'SELECT "MEMO" FROM {gl} WHERE "RECORDNO" = \'1\'') == [
        ["petty cash (restated)"]]


def test_a_later_delete_marks_the_loaded_row(company, postgres_url, schema_name):
    """target-postgres applies _sdc_deleted_at as a soft delete on the row with that key."""
    company.put("VENDOR.change.1.csv", VENDOR.replace("8,Globex,delete", "8,Globex,update"),
                modified=1)
    catalog = company.selected_catalog()
    first = company.sync(catalog)
    load(company, postgres_url, schema_name, first.stdout)
    vendor = f'"{schema_name}"."VENDOR"'
    assert sql(postgres_url, f'SELECT count(*) FROM {vendor} WHERE "_sdc_deleted_at" IS NULL'
               ) == [["2"]]
    company.put("VENDOR.change.2.csv", VENDOR.split("\n", 1)[0] + "\n8,Globex,delete,"
                "2024-01-07 00:00:00\n", modified=2)
    second = company.sync(catalog, state=first.last_state)
    load(company, postgres_url, schema_name, second.stdout)
    assert sql(postgres_url, f'SELECT "RECORDNO", "NAME", "_sdc_deleted_at"::text FROM {vendor} '
                             'ORDER BY "RECORDNO"') == [
        ["7", "Acme", ""], ["8", "Globex", "2024-01-07 00:00:00"]]


def test_without_string_fallback_columns_are_numeric_and_timestamps(company, postgres_url,
                                                                    schema_name):
    company.put("GLENTRY.all.1.csv", GL, modified=1)
    catalog = company.selected_catalog(company.discover(string_fallback=False))
    run = company.sync(catalog)
    assert run.returncode == 0, run.stderr
    load(company, postgres_url, schema_name, run.stdout)
    types = dict(sql(postgres_url, "SELECT column_name, data_type FROM information_schema.columns "
                                   f"WHERE table_schema = '{schema_name}' AND "
                                   "table_name = 'GLENTRY'"))
    assert types["RECORDNO"] == "bigint" and types["ACCOUNTNO"] == "text"
    assert types["AMOUNT"] == "numeric" and types["WHENCREATED"].startswith("timestamp")
    gl = f'"{schema_name}"."GLENTRY"'
    # numeric equals the CSV text, digit for digit (scale kept)
    assert sql(postgres_url, f'SELECT "AMOUNT"::text, "ACCOUNTNO" FROM {gl} ORDER BY "RECORDNO"'
               ) == [["1234.50", "0100"], ["100000000000000000000.01", "1000"], ["-0.10", "2000"]]


def tap_columns(url, schema, table):
    return sql(url, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                    f"table_schema = '{schema}' AND table_name = '{table}' AND "
                    "column_name NOT IN ('_sdc_extracted_at', '_sdc_received_at', "
                    "'_sdc_batched_at', '_sdc_sequence', '_sdc_table_version', "
                    "'_sdc_sync_started_at') ORDER BY column_name")


def same_rows(url, first, second, table, columns):
    names = ", ".join(f'"{name}"' for name, _ in columns)
    difference = (f'SELECT {names} FROM "{first}"."{table}" EXCEPT ALL '
                  f'SELECT {names} FROM "{second}"."{table}"')
    return sql(url, f"SELECT count(*) FROM ({difference}) AS d") == [["0"]]


@pytest.fixture
def batch_schema(postgres_url):
    name = f"b_{uuid.uuid4().hex[:10]}"
    yield name
    sql(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="module")
def made(postgres_url):
    """What a case's first test made, for its others: {key: value}; the schemas listed under
    "schemas" are dropped after the module."""
    made = {"schemas": []}
    yield made
    for name in made["schemas"]:
        sql(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def record_and_batch_runs(company, postgres_url, schema, batch_root):
    """GL and VENDOR synced in RECORD mode (loaded into `schema`) and in BATCH mode, then a new
    GLENTRY file synced in BATCH mode: (the BATCH run, the incremental one)."""
    company.put("GLENTRY.all.1.csv", GL, modified=1)
    company.put("VENDOR.change.1.csv", VENDOR, modified=1)
    catalog = company.selected_catalog()
    records = company.sync(catalog)

    def batch_config():
        return company.config(batch_config={
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": batch_root.as_uri(), "prefix": "it-"}, "batch_size": 2})
    batches = company.sync(catalog, config=batch_config())
    company.put("GLENTRY.change.2.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n4,0400,4.00\n", modified=2)
    second = company.sync(catalog, state=batches.last_state, config=batch_config())
    load(company, postgres_url, schema, records.stdout)
    return batches, second


@pytest.mark.xdist_group("postgres batch mode")  # the tap's runs are made once, for both
@pytest.mark.parametrize("use_copy", [False, True])
def test_batch_mode_loads_the_same_table_as_record_mode(company, postgres_url, made,
                                                        batch_schema, tmp_path, use_copy):
    if "batch" not in made:
        made["schemas"].append(f"t_{uuid.uuid4().hex[:10]}")
        made["batch"] = made["schemas"][-1], *record_and_batch_runs(
            company, postgres_url, made["schemas"][-1], tmp_path / "batches")
    schema_name, batches, second = made["batch"]
    assert batches.returncode == 0, batches.stderr
    assert batches.of_type("BATCH") and not batches.records()
    state = load(company, postgres_url, batch_schema, batches.stdout, use_copy=use_copy)
    assert state == batches.last_state
    for table in ("GLENTRY", "VENDOR"):
        columns = tap_columns(postgres_url, schema_name, table)
        assert columns == tap_columns(postgres_url, batch_schema, table)  # same types
        assert same_rows(postgres_url, schema_name, batch_schema, table, columns)
        assert same_rows(postgres_url, batch_schema, schema_name, table, columns)
    assert sql(postgres_url, f'SELECT "RECORDNO", "_sdc_deleted_at"::text FROM '
                             f'"{batch_schema}"."VENDOR" ORDER BY "RECORDNO"') == [
        ["7", ""], ["8", "2024-01-06 10:06:00"]]
    assert sql(postgres_url, f'SELECT "AMOUNT"::text FROM "{batch_schema}"."GLENTRY" '
                             'ORDER BY "RECORDNO"') == [
        ["1234.50"], ["100000000000000000000.01"], ["-0.10"]]

    # an incremental run adds only the new file's rows
    assert len(second.of_type("BATCH")) == 1
    load(company, postgres_url, batch_schema, second.stdout, use_copy=use_copy)
    assert sql(postgres_url, f'SELECT "RECORDNO", "ACCOUNTNO" FROM "{batch_schema}"."GLENTRY" '
                             'ORDER BY "RECORDNO"') == [
        ["1", "0100"], ["2", "1000"], ["3", "2000"], ["4", "0400"]]


@pytest.mark.parametrize("engine", ["rows", "fast"])
def test_customer_and_vendor_exports_with_dotted_field_names_load_in_full(
        company, postgres_url, schema_name, engine):
    """Real CUSTOMER and VENDOR headers (tests/fixtures/dds-facts): every row arrives, and the
    dotted fields under their names as written."""
    exports = {"CUSTOMER": range(1, 26), "VENDOR": range(1, 16)}
    for name, recordnos in exports.items():
        company.put(f"{name}.all.3.2024-03-01T11:00:00.csv",
                    intacct_exports.object_export(name, recordnos))
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    run = company.tap("--catalog", company.selected_catalog(), env=env)
    assert run.returncode == 0, run.stderr
    load(company, postgres_url, schema_name, run.stdout)
    for name, recordnos in exports.items():
        table = f'"{schema_name}"."{name}"'
        rows = list(csv.DictReader(io.StringIO(
            intacct_exports.object_export(name, recordnos))))
        assert sql(postgres_url, f"SELECT count(*) FROM {table}") == [[str(len(rows))]]
        for field in ("DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.MAILADDRESS.ZIP"):
            loaded = sql(postgres_url, f'SELECT "{field}" FROM {table} '
                                         'ORDER BY "RECORDNO"::bigint')
            assert loaded == [[row[field]] for row in rows]
