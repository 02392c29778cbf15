"""full_exports: replace into a real PostgreSQL through MeltanoLabs target-postgres, directly and
under `meltano run`, with soft and hard deletes: after each run the table holds exactly the rows
of Intacct's last full export plus the changes after it."""

import uuid

import pytest

from tests.integration.test_meltano import meltano_env, meltano_runner, postgres_project, psql
from tests.integration.test_postgres import load, sql

CHANGE = "RECORDNO,NAME,ddsChangeType,ddsReadTime\n"
FULL = "RECORDNO,NAME,ddsReadTime\n"


def full(*rows):
    return FULL + "".join(f"{n},{name},2024-03-01 10:00:00\n" for n, name in rows)


# (files DDS delivers before the run, the rows the table must hold after it)
DELIVERIES = [
    ([("VENDOR.change.10.a.csv", CHANGE + "1,v1,create,2024-02-28 10:00:00\n", 0),
      ("VENDOR.all.11.part1.csv", full((1, "v1"), (2, "v2"), (3, "v3"), (4, "v4")), 60),
      ("VENDOR.all.11.part2.csv", full((5, "v5"), (6, "v6")), 61)],
     {1: "v1", 2: "v2", 3: "v3", 4: "v4", 5: "v5", 6: "v6"}),
    ([("VENDOR.change.12.a.csv", CHANGE + "2,renamed,update,2024-03-02 10:00:00\n"
       "3,v3,delete,2024-03-02 10:00:00\n", 3600)],
     {1: "v1", 2: "renamed", 4: "v4", 5: "v5", 6: "v6"}),
    ([("VENDOR.all.13.part1.csv", full((1, "w1"), (2, "w2"), (5, "w5")), 7200)],
     {1: "w1", 2: "w2", 5: "w5"}),
]


def live_rows(url, table):
    return {int(n): name for n, name in sql(
        url, f'SELECT "RECORDNO", "NAME" FROM {table} WHERE "_sdc_deleted_at" IS NULL')}


def all_rows(url, table):
    return sql(url, f"SELECT count(*) FROM {table}")[0][0]


@pytest.fixture
def schema_name(postgres_url):
    name = f"fe_{uuid.uuid4().hex[:10]}"
    yield name
    sql(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.mark.stores("s3", "azure")
@pytest.mark.parametrize("hard_delete", [False, True])
def test_tap_into_target_postgres(company, postgres_url, schema_name, hard_delete):
    table = f'"{schema_name}"."VENDOR"'
    state = None
    catalog = None
    for number, (files, expected) in enumerate(DELIVERIES):
        for name, body, seconds in files:
            company.put(name, body, modified=seconds)
        catalog = catalog or company.selected_catalog()
        run = company.sync(catalog, state=state, config=company.config(full_exports="replace"))
        assert run.returncode == 0, run.stderr
        state = load(company, postgres_url, schema_name, run.stdout, hard_delete=hard_delete)
        assert live_rows(postgres_url, table) == expected, f"after run {number}"
    # soft: the rows gone from Intacct stay, marked; hard: they are gone (3 deleted by a change
    # export is only marked: per-record deletes are soft in target-postgres)
    assert all_rows(postgres_url, table) == ("3" if hard_delete else "6")


# issue 26: files landing interleaved with other jobs' (oldest first), and the rows Intacct holds
INTERLEAVED = {
    # change job 14 creates vendor 7 between the two parts of full job 13
    "VENDOR": ([("VENDOR.all.13.p1.csv", full((1, "v1"), (2, "v2"), (3, "v3"))),
                ("VENDOR.change.14.a.csv", CHANGE + "7,v7,create,2024-03-02 10:00:00\n"),
                ("VENDOR.all.13.p2.csv", full((4, "v4"), (5, "v5"), (6, "v6")))],
               {1: "v1", 2: "v2", 3: "v3", 4: "v4", 5: "v5", 6: "v6", 7: "v7"}),
    # full jobs 11 and 13 interleaved
    "CUSTOMER": ([("CUSTOMER.all.11.p1.csv", full((1, "old"), (2, "old"))),
                  ("CUSTOMER.all.13.p1.csv", full((1, "c1"), (2, "c2"), (3, "c3"))),
                  ("CUSTOMER.all.11.p2.csv", full((3, "old"))),
                  ("CUSTOMER.all.13.p2.csv", full((4, "c4")))],
                 {1: "c1", 2: "c2", 3: "c3", 4: "c4"}),
}


@pytest.mark.stores("s3", "azure")
@pytest.mark.parametrize("hard_delete", [False, True])
def test_jobs_landing_interleaved_end_equal_to_intacct(company, postgres_url, schema_name,
                                                        hard_delete):
    seconds = 0
    for files, _rows in INTERLEAVED.values():
        for name, body in files:
            company.put(name, body, modified=seconds)
            seconds += 60
    run = company.sync(company.selected_catalog(), config=company.config(full_exports="replace"))
    assert run.returncode == 0, run.stderr
    load(company, postgres_url, schema_name, run.stdout, hard_delete=hard_delete)
    for table, (_files, rows) in INTERLEAVED.items():
        assert live_rows(postgres_url, f'"{schema_name}"."{table}"') == rows, table


@pytest.mark.parametrize("hard_delete", [False, True])
def test_meltano_run_into_target_postgres(company, tmp_path, postgres_url, schema_name,
                                          hard_delete):
    project = tmp_path / "project"
    project.mkdir()
    postgres_project(project, postgres_url, schema_name, tmp_path / "batches",
                     config={"full_exports": "replace"}, hard_delete=hard_delete)
    meltano_cli = meltano_runner(project, meltano_env(company))
    table = f'"{schema_name}"."VENDOR"'
    for number, (files, expected) in enumerate(DELIVERIES):
        for name, body, seconds in files:
            company.put(name, body, modified=seconds)
        meltano_cli("run", "tap-intacct", "target-postgres")
        assert {int(n): name for n, name in (line.split("|") for line in psql(
            postgres_url, f'SELECT "RECORDNO" || \'|\' || "NAME" FROM {table} '
                          'WHERE "_sdc_deleted_at" IS NULL'))} == expected, f"after run {number}"
