"""MeltanoLabs' target-postgres loads the tap's output into a real PostgreSQL; SQL checks it."""

import json
import subprocess
import uuid

import pytest

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


def load(company, postgres_url, schema, singer_output, hard_delete=False):
    host_port = postgres_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    config = company.write(f"target-{uuid.uuid4().hex[:6]}.json", {
        "host": host, "port": int(port), "user": "postgres", "password": "unused",
        "database": "postgres", "default_target_schema": schema, "hard_delete": hard_delete})
    result = subprocess.run([tool("target-postgres", "target-postgres"), "--config", config],
                            input=singer_output, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # the state it confirms


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
