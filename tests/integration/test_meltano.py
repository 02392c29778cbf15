"""Real Meltano against the embedded S3 (and Azurite): `meltano run tap-intacct target-jsonl`,
resuming from the state Meltano stored; BATCH messages into target-postgres; streams split across
parallel runs.

The tap is installed once per test process from its pip_url (conftest `meltano_install`); each
test has a project of its own using those virtualenvs. The Meltano tests are one xdist group:
that install is made once."""

import json
import subprocess
import uuid
from dataclasses import dataclass

import pytest
import yaml

from tests.e2e.conftest import company_in
from tests.integration.conftest import ROOT, meltano_environment, meltano_project, tool

pytestmark = pytest.mark.xdist_group("meltano")


def jsonl_project(output):
    """The repository's meltano.yml: the tap (pip_url this checkout, as `meltano_install`
    installed it) into target-jsonl writing to the folder `output` (made here), if given."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    extractor["pip_url"] = f"{ROOT}[azure]"  # this checkout, as a user would `pip install` it
    if output:
        [loader] = project["plugins"]["loaders"]
        loader["config"]["destination_path"] = str(output)
        output.mkdir()
    return project


def store_settings(company):
    """The tap's store settings as Meltano's TAP_INTACCT_* environment variables."""
    if company.kind == "azure":
        return {"TAP_INTACCT_STORAGE": "azure", "TAP_INTACCT_CONTAINER": company.bucket,
                "TAP_INTACCT_AZURE_CONNECTION_STRING": company.server.connection_string}
    return {"TAP_INTACCT_BUCKET": company.bucket, "TAP_INTACCT_ENDPOINT_URL": company.s3.url,
            "TAP_INTACCT_STS_ENDPOINT_URL": company.s3.url}


@pytest.mark.stores("s3", "azure")
def test_meltano_run_then_resume(company, tmp_path, meltano_install):
    project = tmp_path / "project"
    meltano_project(meltano_install, project, jsonl_project(tmp_path / "output"))
    env = company.server.tap_environment()
    env.update(TAP_INTACCT_START_DATE="2024-01-01T00:00:00Z", TAP_INTACCT_PATH=company.path,
               TAP_INTACCT_COMPANY_ID=company.company_id, **store_settings(company))
    meltano_cli = meltano_runner(project, env)

    company.put("GLENTRY.all.1.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n1,0100,1234.50\n2,1000,-5.00\n",
                modified=1)
    company.put("VENDOR.all.1.csv", "RECORDNO,NAME\n7,Acme\n", modified=1)
    meltano_cli("run", "tap-intacct", "target-jsonl")
    output = tmp_path / "output" / "GLENTRY.jsonl"
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["RECORDNO"], r["ACCOUNTNO"], r["AMOUNT"]) for r in rows] == [
        (1, "0100", 1234.5), (2, "1000", -5)]
    assert (tmp_path / "output" / "VENDOR.jsonl").exists()

    # resumed from the state Meltano stored: the new file's row is added (target-jsonl appends),
    # the two already read are not repeated
    company.put("GLENTRY.change.2.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n3,2000,7.25\n", modified=2)
    meltano_cli("run", "tap-intacct", "target-jsonl")
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["RECORDNO"] for r in rows] == [1, 2, 3]
    state = json.loads(meltano_cli("state", "get", "dev:tap-intacct-to-target-jsonl").stdout)
    assert state["singer_state"]["bookmarks"]["GLENTRY"]["modified_since"] == (
        "2024-03-01T12:00:02+00:00")


# ---- BATCH messages into PostgreSQL, and streams split across parallel runs -----------------

def postgres_project(postgres_url, batch_root, loaders, extractors=(), *, config=None):
    """meltano.yml: tap-intacct (BATCH messages, gzip JSONL under batch_root, unless `config`
    gives the extractor's config) and MeltanoLabs target-postgres, one loader per (name, schema,
    hard_delete) of `loaders`; `extractors`: (name, select) plugins inheriting from the tap (and
    its virtualenv). The tap as `meltano_install` installed it, the target as `make
    integration-tools` did."""
    project = jsonl_project(None)
    [extractor] = project["plugins"]["extractors"]
    extractor["config"] = config or {"batch_config": {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": batch_root.as_uri(), "prefix": "meltano-"}, "batch_size": 2}}
    for name, select in extractors:
        project["plugins"]["extractors"].append(
            {"name": name, "inherit_from": "tap-intacct", "select": select})
    host, port = postgres_url.split("@", 1)[1].split("/", 1)[0].split(":")
    target = tool("target-postgres", "target-postgres")  # the one `make integration-tools` made
    project["plugins"]["loaders"] = [{
        "name": name, "namespace": "target_postgres", "executable": target,
        "config": {"host": host, "port": int(port), "user": "postgres", "password": "unused",
                   "database": "postgres", "default_target_schema": schema, "use_copy": True,
                   "hard_delete": hard_delete}} for name, schema, hard_delete in loaders]
    return project


def meltano_env(company):
    env = company.s3.tap_environment()
    env.update(TAP_INTACCT_START_DATE="2024-01-01T00:00:00Z", TAP_INTACCT_BUCKET=company.bucket,
               TAP_INTACCT_PATH=company.path, TAP_INTACCT_COMPANY_ID=company.company_id,
               TAP_INTACCT_ENDPOINT_URL=company.s3.url)
    return env


def psql(url, query):
    result = subprocess.run(["psql", url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", query],
                            capture_output=True, text=True, check=True)
    return result.stdout.split()


def meltano_runner(project, env):
    """A function running `meltano ARGS` in the project, checking that it succeeded."""
    meltano = tool("meltano", "meltano")
    env = meltano_environment(env)

    def meltano_cli(*args):
        result = subprocess.run([meltano, *args], cwd=project, env=env, capture_output=True,
                                text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-4000:]
        return result
    return meltano_cli


SPLIT = [("tap-intacct--gl", ["GLENTRY.*"]), ("tap-intacct--others", ["VENDOR.*", "CUSTOMER.*"])]
TABLES = ("GLENTRY", "VENDOR", "CUSTOMER")


@dataclass
class Round:
    """What one round of parallel `meltano run`s left behind."""
    counts: list  # rows of GLENTRY, VENDOR, CUSTOMER
    glentry: list  # ACCOUNTNO=AMOUNT of each GLENTRY row, by RECORDNO
    batch_files: int
    bookmarks: dict  # an extractor's name: the bookmarks of its state (those asked for)


@pytest.fixture(scope="module")
def split_rounds(s3, tmp_path_factory, postgres_url, meltano_install):
    """Two `meltano run` at once (BATCH messages into target-postgres), each with its own
    inherited extractor and `select`, twice: GLENTRY (3 rows) with the one, VENDOR and CUSTOMER
    (2 rows each) with the other; then a new file of GLENTRY and of VENDOR. One scenario for both
    tests below: what each round left behind."""
    workdir = tmp_path_factory.mktemp("split")
    company = company_in(s3, workdir)
    schema = f"m_{uuid.uuid4().hex[:10]}"
    batches = workdir / "batches"
    project = workdir / "project"
    meltano_project(meltano_install, project, postgres_project(
        postgres_url, batches, [("target-postgres", schema, False)], SPLIT))
    meltano = tool("meltano", "meltano")
    env = meltano_environment(meltano_env(company))
    meltano_cli = meltano_runner(project, meltano_env(company))
    company.put("GLENTRY.all.1.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n1,0100,1234.50\n2,1000,-5.00\n"
                "3,2000,0.10\n", modified=1)
    for table in ("VENDOR", "CUSTOMER"):
        company.put(f"{table}.all.1.csv", "RECORDNO,NAME\n1,a\n2,b\n", modified=1)

    def round_of_runs(*states):
        runs = [subprocess.Popen([meltano, "run", name, "target-postgres"], cwd=project, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name, _ in SPLIT]
        for run in runs:
            _, stderr = run.communicate(timeout=600)
            assert run.returncode == 0, stderr[-4000:]
        return Round(
            [psql(postgres_url, f'SELECT count(*) FROM "{schema}"."{table}"')[0]
             for table in TABLES],
            psql(postgres_url, f'SELECT "ACCOUNTNO" || \'=\' || "AMOUNT" FROM '
                               f'"{schema}"."GLENTRY" ORDER BY "RECORDNO"'),
            len(list(batches.iterdir())),
            {name: json.loads(meltano_cli("state", "get", f"dev:{name}-to-target-postgres")
                              .stdout)["singer_state"]["bookmarks"] for name in states})

    try:
        first = round_of_runs()
        company.put("GLENTRY.change.2.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n4,4000,7.25\n",
                    modified=2)
        company.put("VENDOR.change.2.csv", "RECORDNO,NAME\n3,c\n4,d\n", modified=2)
        yield first, round_of_runs("tap-intacct--gl", "tap-intacct--others")
    finally:
        psql(postgres_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_meltano_run_with_batch_messages_into_postgres(split_rounds):
    """The rows go through batch files, exact; a second run adds the new file's row."""
    first, second = split_rounds
    assert first.batch_files  # the rows went through batch files
    assert first.glentry == ["0100=1234.50", "1000=-5.00", "2000=0.10"]
    assert second.counts[0] == "4"


def test_parallel_meltano_runs_split_the_streams(split_rounds):
    """Each state holds only its own streams' bookmarks, and a second round reads only new
    files."""
    first, second = split_rounds
    # (states are merged: what the first round stored is still there)
    assert set(second.bookmarks["tap-intacct--gl"]) == {"GLENTRY"}
    assert set(second.bookmarks["tap-intacct--others"]) == {"VENDOR", "CUSTOMER"}
    assert first.counts == ["3", "2", "2"]
    assert second.counts == ["4", "4", "2"]
    assert second.batch_files == first.batch_files + 2  # only the new files
    assert second.bookmarks["tap-intacct--gl"]["GLENTRY"]["modified_since"] == (
        "2024-03-01T12:00:02+00:00")
