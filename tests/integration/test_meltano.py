"""Real Meltano against the embedded S3 (and Azurite): `meltano run tap-intacct target-jsonl`,
resuming from the state Meltano stored; BATCH messages into target-postgres; streams split across
parallel runs."""

import json
import subprocess
import uuid

import pytest
import yaml

from tests.e2e.conftest import TAP
from tests.integration.conftest import ROOT, tool


def meltano_project(folder):
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    extractor["pip_url"] = f"{ROOT}[azure]"  # this checkout, as a user would `pip install` it
    [loader] = project["plugins"]["loaders"]
    loader["config"]["destination_path"] = str(folder / "output")
    (folder / "output").mkdir()
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))


def store_settings(company):
    """The tap's store settings as Meltano's TAP_INTACCT_* environment variables."""
    if company.kind == "azure":
        return {"TAP_INTACCT_STORAGE": "azure", "TAP_INTACCT_CONTAINER": company.bucket,
                "TAP_INTACCT_AZURE_CONNECTION_STRING": company.server.connection_string}
    return {"TAP_INTACCT_BUCKET": company.bucket, "TAP_INTACCT_ENDPOINT_URL": company.s3.url,
            "TAP_INTACCT_STS_ENDPOINT_URL": company.s3.url}


@pytest.mark.stores("s3", "azure")
def test_meltano_run_then_resume(company, tmp_path):
    meltano = tool("meltano", "meltano")
    project = tmp_path / "project"
    project.mkdir()
    meltano_project(project)
    env = company.server.tap_environment()
    env.update(TAP_INTACCT_START_DATE="2024-01-01T00:00:00Z", TAP_INTACCT_PATH=company.path,
               TAP_INTACCT_COMPANY_ID=company.company_id,
               MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", **store_settings(company))

    def meltano_cli(*args):
        result = subprocess.run([meltano, *args], cwd=project, env=env, capture_output=True,
                                text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-4000:]
        return result

    meltano_cli("install")
    company.put("GLENTRY.all.1.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n1,0100,1234.50\n2,1000,-5.00\n",
                modified=1)
    company.put("VENDOR.all.1.csv", "RECORDNO,NAME\n7,Acme\n", modified=1)
    meltano_cli("run", "tap-intacct", "target-jsonl")
    output = project / "output" / "GLENTRY.jsonl"
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["RECORDNO"], r["ACCOUNTNO"], r["AMOUNT"]) for r in rows] == [
        (1, "0100", 1234.5), (2, "1000", -5)]
    assert (project / "output" / "VENDOR.jsonl").exists()

    meltano_cli("run", "tap-intacct", "target-jsonl")  # nothing new: nothing repeated
    assert len(output.read_text().splitlines()) == 2

    company.put("GLENTRY.change.2.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n3,2000,7.25\n", modified=2)
    meltano_cli("run", "tap-intacct", "target-jsonl")
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["RECORDNO"] for r in rows] == [1, 2, 3]
    state = json.loads(meltano_cli("state", "get", "dev:tap-intacct-to-target-jsonl").stdout)
    assert state["singer_state"]["bookmarks"]["GLENTRY"]["modified_since"] == (
        "2024-03-01T12:00:02+00:00")


# ---- BATCH messages into PostgreSQL, and streams split across parallel runs -----------------

def postgres_project(folder, postgres_url, schema, batch_root, extractors=(), *, config=None,
                     hard_delete=False):
    """A Meltano project with tap-intacct (BATCH messages, gzip JSONL under batch_root, unless
    `config` gives the extractor's config) and MeltanoLabs target-postgres; `extractors`:
    (name, select) plugins inheriting from it. Both plugins are the commands already installed
    (the tap: this checkout's; test_meltano_run_then_resume installs it from pip_url)."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    del extractor["pip_url"]
    extractor["executable"] = TAP
    extractor["config"] = config or {"batch_config": {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": batch_root.as_uri(), "prefix": "meltano-"}, "batch_size": 2}}
    for name, select in extractors:
        project["plugins"]["extractors"].append(
            {"name": name, "inherit_from": "tap-intacct", "select": select})
    host, port = postgres_url.split("@", 1)[1].split("/", 1)[0].split(":")
    target = tool("target-postgres", "target-postgres")  # the one `make integration-tools` made
    project["plugins"]["loaders"] = [{
        "name": "target-postgres", "namespace": "target_postgres", "executable": target,
        "config": {"host": host, "port": int(port), "user": "postgres", "password": "unused",
                   "database": "postgres", "default_target_schema": schema, "use_copy": True,
                   "hard_delete": hard_delete}}]
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))


def meltano_env(company):
    env = company.s3.tap_environment()
    env.update(TAP_INTACCT_START_DATE="2024-01-01T00:00:00Z", TAP_INTACCT_BUCKET=company.bucket,
               TAP_INTACCT_PATH=company.path, TAP_INTACCT_COMPANY_ID=company.company_id,
               TAP_INTACCT_ENDPOINT_URL=company.s3.url, MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")
    return env


def psql(url, query):
    result = subprocess.run(["psql", url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", query],
                            capture_output=True, text=True, check=True)
    return result.stdout.split()


@pytest.fixture
def pg_schema(postgres_url):
    name = f"m_{uuid.uuid4().hex[:10]}"
    yield name
    psql(postgres_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def meltano_runner(project, env):
    """A function running `meltano ARGS` in the project, checking that it succeeded."""
    meltano = tool("meltano", "meltano")

    def meltano_cli(*args):
        result = subprocess.run([meltano, *args], cwd=project, env=env, capture_output=True,
                                text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-4000:]
        return result
    return meltano_cli


def test_meltano_run_with_batch_messages_into_postgres(company, tmp_path, postgres_url,
                                                       pg_schema):
    project = tmp_path / "project"
    project.mkdir()
    postgres_project(project, postgres_url, pg_schema, tmp_path / "batches")
    meltano_cli = meltano_runner(project, meltano_env(company))
    company.put("GLENTRY.all.1.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n1,0100,1234.50\n2,1000,-5.00\n"
                "3,2000,0.10\n", modified=1)
    meltano_cli("run", "tap-intacct", "target-postgres")
    assert list((tmp_path / "batches").iterdir())  # the rows went through batch files
    table = f'"{pg_schema}"."GLENTRY"'
    assert psql(postgres_url, f'SELECT "ACCOUNTNO" || \'=\' || "AMOUNT" FROM {table} '
                              'ORDER BY "RECORDNO"') == ["0100=1234.50", "1000=-5.00", "2000=0.10"]
    company.put("GLENTRY.change.2.csv", "RECORDNO,ACCOUNTNO,AMOUNT\n4,4000,7.25\n", modified=2)
    meltano_cli("run", "tap-intacct", "target-postgres")
    assert psql(postgres_url, f'SELECT count(*) FROM {table}') == ["4"]


def test_parallel_meltano_runs_split_the_streams(company, tmp_path, postgres_url, pg_schema):
    """Two `meltano run` at once, each with its own inherited extractor and `select`: each state
    holds only its own streams' bookmarks, and a second round reads only new files."""
    meltano = tool("meltano", "meltano")
    project = tmp_path / "project"
    project.mkdir()
    split = [("tap-intacct--gl", ["GLENTRY.*"]), ("tap-intacct--others", ["VENDOR.*",
                                                                         "CUSTOMER.*"])]
    postgres_project(project, postgres_url, pg_schema, tmp_path / "batches", split)
    env = meltano_env(company)
    # the project's system database is made by the first command: not by two at once
    subprocess.run([meltano, "state", "list"], cwd=project, env=env, check=True,
                   capture_output=True, timeout=600)
    for table in ("GLENTRY", "VENDOR", "CUSTOMER"):
        company.put(f"{table}.all.1.csv", "RECORDNO,NAME\n1,a\n2,b\n", modified=1)

    def round_of_runs():
        runs = [subprocess.Popen([meltano, "run", name, "target-postgres"], cwd=project, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name, _ in split]
        for run in runs:
            _, stderr = run.communicate(timeout=600)
            assert run.returncode == 0, stderr[-4000:]

    def bookmarks(name):
        result = subprocess.run([meltano, "state", "get", f"dev:{name}-to-target-postgres"],
                                cwd=project, env=env, capture_output=True, text=True,
                                check=True)
        return json.loads(result.stdout)["singer_state"]["bookmarks"]

    def counts():
        return [psql(postgres_url, f'SELECT count(*) FROM "{pg_schema}"."{table}"')[0]
                for table in ("GLENTRY", "VENDOR", "CUSTOMER")]

    round_of_runs()
    assert set(bookmarks("tap-intacct--gl")) == {"GLENTRY"}
    assert set(bookmarks("tap-intacct--others")) == {"VENDOR", "CUSTOMER"}
    assert counts() == ["2", "2", "2"]
    company.put("GLENTRY.change.2.csv", "RECORDNO,NAME\n3,c\n", modified=2)
    company.put("VENDOR.change.2.csv", "RECORDNO,NAME\n3,c\n4,d\n", modified=2)
    batch_files = len(list((tmp_path / "batches").iterdir()))
    round_of_runs()
    assert counts() == ["3", "4", "2"]
    assert len(list((tmp_path / "batches").iterdir())) == batch_files + 2  # only the new files
    assert bookmarks("tap-intacct--gl")["GLENTRY"]["modified_since"] == (
        "2024-03-01T12:00:02+00:00")
