"""Real Meltano: `meltano run tap-intacct target-jsonl` against the embedded S3, twice, resuming
from the state Meltano stored."""

import json
import subprocess

import yaml

from tests.integration.conftest import ROOT, tool


def meltano_project(folder):
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    extractor["pip_url"] = str(ROOT)  # this checkout, as a user would `pip install` it
    [loader] = project["plugins"]["loaders"]
    loader["config"]["destination_path"] = str(folder / "output")
    (folder / "output").mkdir()
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))


def test_meltano_run_then_resume(company, tmp_path):
    meltano = tool("meltano", "meltano")
    project = tmp_path / "project"
    project.mkdir()
    meltano_project(project)
    env = company.s3.tap_environment()
    env.update(TAP_INTACCT_START_DATE="2024-01-01T00:00:00Z", TAP_INTACCT_BUCKET=company.bucket,
               TAP_INTACCT_PATH=company.path, TAP_INTACCT_COMPANY_ID=company.company_id,
               TAP_INTACCT_ENDPOINT_URL=company.s3.url, TAP_INTACCT_STS_ENDPOINT_URL=company.s3.url,
               MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")

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
