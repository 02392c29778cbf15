"""full_exports: replace into a real PostgreSQL through MeltanoLabs target-postgres, directly and
under `meltano run`, with soft and hard deletes: after each run the table holds exactly the rows
of Intacct's last full export plus the changes after it.

The target's hard_delete is not the tap's business: each tap run (or `meltano run`) is loaded
into two schemas, soft and hard, and the test of each asserts on its own; the tap's runs of a
store serve both tests below (their streams apart in one company; one xdist group, so that the
runs are made once)."""

import uuid

import pytest

from tests.e2e.conftest import company_in
from tests.integration.conftest import meltano_project
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


@pytest.fixture(scope="module")
def schemas(postgres_url):
    """A new schema's name on each call; all of them dropped after the module."""
    names = []

    def new_schema():
        names.append(f"fe_{uuid.uuid4().hex[:10]}")
        return names[-1]
    yield new_schema
    for name in names:
        sql(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="module")
def made():
    """What a case's first test made, for its others: {key: value}."""
    return {}


def loaded(schema):
    """{hard_delete: the schema it was loaded into}"""
    return {False: schema(), True: schema()}


# issue 26: files landing interleaved with other jobs' (oldest first), and the rows Intacct holds
INTERLEAVED = {
    # change job 14 creates contact 7 between the two parts of full job 13
    "CONTACT": ([("CONTACT.all.13.p1.csv", full((1, "v1"), (2, "v2"), (3, "v3"))),
                 ("CONTACT.change.14.a.csv", CHANGE + "7,v7,create,2024-03-02 10:00:00\n"),
                 ("CONTACT.all.13.p2.csv", full((4, "v4"), (5, "v5"), (6, "v6")))],
                {1: "v1", 2: "v2", 3: "v3", 4: "v4", 5: "v5", 6: "v6", 7: "v7"}),
    # full jobs 11 and 13 interleaved
    "CUSTOMER": ([("CUSTOMER.all.11.p1.csv", full((1, "old"), (2, "old"))),
                  ("CUSTOMER.all.13.p1.csv", full((1, "c1"), (2, "c2"), (3, "c3"))),
                  ("CUSTOMER.all.11.p2.csv", full((3, "old"))),
                  ("CUSTOMER.all.13.p2.csv", full((4, "c4")))],
                 {1: "c1", 2: "c2", 3: "c3", 4: "c4"}),
}


def tap_into_target_postgres(company, postgres_url, schemas):
    """One company: VENDOR's DELIVERIES one after the other and, before the first, INTERLEAVED's
    files of the other streams; each delivery synced once with full_exports replace and loaded
    into both schemas. {hard_delete: (VENDOR's live rows after each run, VENDOR's rows in all,
    {INTERLEAVED's table: its live rows after the first run})}"""
    seconds = 0
    for files, _rows in INTERLEAVED.values():
        for name, body in files:
            company.put(name, body, modified=seconds)
            seconds += 60
    targets = loaded(schemas)
    live = {hard_delete: [] for hard_delete in targets}
    interleaved = {}
    states = dict.fromkeys(targets)
    catalog = None
    for files, _expected in DELIVERIES:
        for name, body, seconds in files:
            company.put(name, body, modified=seconds)
        catalog = catalog or company.selected_catalog()
        run = company.sync(catalog, state=states[False],
                           config=company.config(full_exports="replace"))
        assert run.returncode == 0, run.stderr
        for hard_delete, schema in targets.items():
            states[hard_delete] = load(company, postgres_url, schema, run.stdout,
                                       hard_delete=hard_delete)
            live[hard_delete].append(live_rows(postgres_url, f'"{schema}"."VENDOR"'))
            interleaved.setdefault(hard_delete, {
                table: live_rows(postgres_url, f'"{schema}"."{table}"') for table in INTERLEAVED})
    assert states[False] == states[True]
    return {hard_delete: (live[hard_delete],
                          all_rows(postgres_url, f'"{schema}"."VENDOR"'), interleaved[hard_delete])
            for hard_delete, schema in targets.items()}


def loads(made, company, postgres_url, schemas):
    """tap_into_target_postgres in this store, made by the first test asking."""
    if company.kind not in made:
        made[company.kind] = tap_into_target_postgres(company, postgres_url, schemas)
    return made[company.kind]


@pytest.mark.xdist_group("full exports into postgres")
@pytest.mark.stores("s3", "azure")
@pytest.mark.parametrize("hard_delete", [False, True])
def test_tap_into_target_postgres(company, postgres_url, schemas, made, hard_delete):
    live, rows, _interleaved = loads(made, company, postgres_url, schemas)[hard_delete]
    for number, (_files, expected) in enumerate(DELIVERIES):
        assert live[number] == expected, f"after run {number}"
    # soft: the rows gone from Intacct stay, marked; hard: they are gone (3 deleted by a change
    # export is only marked: per-record deletes are soft in target-postgres)
    assert rows == ("3" if hard_delete else "6")


@pytest.mark.xdist_group("full exports into postgres")
@pytest.mark.stores("s3", "azure")
@pytest.mark.parametrize("hard_delete", [False, True])
def test_jobs_landing_interleaved_end_equal_to_intacct(company, postgres_url, schemas, made,
                                                        hard_delete):
    _live, _rows, interleaved = loads(made, company, postgres_url, schemas)[hard_delete]
    for table, (_files, rows) in INTERLEAVED.items():
        assert interleaved[table] == rows, table


@pytest.fixture(scope="module")
def meltano_runs(s3, tmp_path_factory, postgres_url, schemas, meltano_install):
    """DELIVERIES one after the other, each followed by one `meltano run` of two pipelines: the
    tap into a target-postgres with soft deletes, and into one with hard deletes (each with its
    own state): {hard_delete: the live rows after each run}."""
    workdir = tmp_path_factory.mktemp("full-exports-meltano")
    company = company_in(s3, workdir)
    targets = {False: ("target-postgres--soft", schemas()),
               True: ("target-postgres--hard", schemas())}
    project = workdir / "project"
    meltano_project(meltano_install, project, postgres_project(
        postgres_url, workdir / "batches",
        [(name, schema, hard_delete) for hard_delete, (name, schema) in targets.items()],
        config={"full_exports": "replace"}))
    meltano_cli = meltano_runner(project, meltano_env(company))
    live = {hard_delete: [] for hard_delete in targets}
    for files, _expected in DELIVERIES:
        for name, body, seconds in files:
            company.put(name, body, modified=seconds)
        meltano_cli("run", *(plugin for name, _schema in targets.values()
                             for plugin in ("tap-intacct", name)))
        for hard_delete, (_name, schema) in targets.items():
            live[hard_delete].append({int(n): name for n, name in (line.split("|") for line in psql(
                postgres_url, f'SELECT "RECORDNO" || \'|\' || "NAME" FROM "{schema}"."VENDOR" '
                              'WHERE "_sdc_deleted_at" IS NULL'))})
    return live


@pytest.mark.xdist_group("meltano")
@pytest.mark.parametrize("hard_delete", [False, True])
def test_meltano_run_into_target_postgres(meltano_runs, hard_delete):
    for number, (_files, expected) in enumerate(DELIVERIES):
        assert meltano_runs[hard_delete][number] == expected, f"after run {number}"
