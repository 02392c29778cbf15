"""What a run imports, since imports are most of a small run's CPU: Arrow (the fast engine) only
once a file is read (engines.engine._ColumnarOnFirstFile), and with TAP_INTACCT_ENGINE=auto only
in a run with AUTO_FAST_BYTES to read, singer-python only for a catalog
schema shape discovery never writes (values/conversion.py), and then without changing the log
level."""

import json

import pytest


def imported(run):
    """Top-level package names the run imported."""
    return {name.split(".")[0] for name in run.imported}


def profiled_sync(company, catalog, state=None, engine="auto", **env_settings):
    env = company.server.tap_environment()
    env.update(PYTHONPROFILEIMPORTTIME="1", TAP_INTACCT_ENGINE=engine, **env_settings)
    args = ["--catalog", catalog]
    if state is not None:
        args += ["--state", company.write("state.json", state)]
    run = company.tap(*args, env=env)
    assert run.returncode == 0, run.stderr
    return run


def test_arrow_is_imported_when_a_file_is_read_and_singer_never(company):
    pytest.importorskip("pyarrow")
    company.put("GLENTRY.change.1.csv", "RECORDNO,AMOUNT\n1,2.50\n")
    catalog = company.selected_catalog(shared=True)
    first = profiled_sync(company, catalog, engine="fast")
    assert first.records() == [{"RECORDNO": 1, "AMOUNT": 2.5, **{
        key: value for key, value in first.records()[0].items() if key.startswith("_sdc_")}}]
    assert "pyarrow" in imported(first)  # the check sees the imports
    assert "boto3" in imported(first)
    assert "singer" not in imported(first)
    again = profiled_sync(company, catalog, state=first.last_state, engine="fast")  # nothing new
    assert again.records() == []
    assert "boto3" in imported(again)
    assert not imported(again) & {"pyarrow", "numpy", "singer"}
    small = profiled_sync(company, catalog)  # auto: one small file is read by the row path
    assert small.stdout == first.stdout
    assert not imported(small) & {"pyarrow", "numpy", "singer"}
    assert "engine auto: the row path for this run's 23 bytes to read" in small.stderr


def test_auto_loads_the_fast_engine_for_a_run_with_megabytes_to_read(company):
    pytest.importorskip("pyarrow")
    from tap_intacct.engines.engine import AUTO_FAST_BYTES
    row = "".join(f"{n},{n}.25\n" for n in range(100_000, 200_000))  # about 1.4 MB
    company.put("GLENTRY.change.1.csv", "RECORDNO,AMOUNT\n" + row)
    company.put("GLENTRY.change.2.csv", "RECORDNO,AMOUNT\n" + row * 2)
    company.put("GLENTRY.change.3.csv", "RECORDNO,AMOUNT\n" + row * (
        AUTO_FAST_BYTES // len(row) - 2))  # the three files: just over AUTO_FAST_BYTES
    catalog = company.selected_catalog(shared=True)
    run = profiled_sync(company, catalog)
    assert "pyarrow" in imported(run)
    assert "fast engine" in run.stderr
    assert len(run.records()) == 100_000 * (AUTO_FAST_BYTES // len(row) + 1)


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
