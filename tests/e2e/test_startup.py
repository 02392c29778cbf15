"""What a run imports, since imports are most of a small run's CPU: Arrow (the fast engine) only
once a file is read (engines.engine._ColumnarOnFirstFile), singer-python only for a catalog
schema shape discovery never writes (values/conversion.py), and then without changing the log
level."""

import json


def imported(run):
    """Top-level package names the run imported."""
    return {name.split(".")[0] for name in run.imported}


def profiled_sync(company, catalog, state=None, **env_settings):
    env = company.server.tap_environment()
    env.update(PYTHONPROFILEIMPORTTIME="1", TAP_INTACCT_ENGINE="auto", **env_settings)
    args = ["--catalog", catalog]
    if state is not None:
        args += ["--state", company.write("state.json", state)]
    run = company.tap(*args, env=env)
    assert run.returncode == 0, run.stderr
    return run


def test_arrow_is_imported_when_a_file_is_read_and_singer_never(company):
    company.put("GLENTRY.change.1.csv", "RECORDNO,AMOUNT\n1,2.50\n")
    catalog = company.selected_catalog(shared=True)
    first = profiled_sync(company, catalog)
    assert first.records() == [{"RECORDNO": 1, "AMOUNT": 2.5, **{
        key: value for key, value in first.records()[0].items() if key.startswith("_sdc_")}}]
    assert "pyarrow" in imported(first)  # the check sees the imports
    assert "boto3" in imported(first)
    assert "singer" not in imported(first)
    again = profiled_sync(company, catalog, state=first.last_state)  # nothing new
    assert again.records() == []
    assert "boto3" in imported(again)
    assert not imported(again) & {"pyarrow", "numpy", "singer"}


def test_a_hand_edited_schema_brings_singer_without_changing_the_log_level(company):
    company.put("GLENTRY.change.1.csv", "RECORDNO,NAME\n1,Acme\n")
    catalog = json.loads(open(company.selected_catalog(shared=True)).read())
    [stream] = catalog["streams"]
    stream["schema"]["properties"]["NAME"] = {"anyOf": [{"type": "null"}, {"type": "string"}]}
    run = profiled_sync(company, company.write("catalog.json", catalog),
                        TAP_INTACCT_LOG_LEVEL="WARNING")
    assert [record["NAME"] for record in run.records()] == ["Acme"]
    assert "singer" in imported(run)
    assert [line for line in run.stderr.splitlines()
            if not line.startswith("import time:") and line.startswith("INFO")] == []
