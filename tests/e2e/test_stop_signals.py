"""SIGTERM (how Meltano, Airflow and Kubernetes cancel a run) and SIGINT mid-sync, both engines:
whole lines on stdout, STATE as far as records were written, one line saying why, exit 128 + the
signal; a resume from the last STATE completes the data (issue 25, row 10)."""

import json
import signal
import subprocess
import time

import pytest

from devtools import ddsdata
from tests.e2e.conftest import TAP, company_in

# The stop comes 1,000 records into the second file: what is left (about 4.5 MB of RECORD lines)
# is far more than the tap can have written ahead into the pipe and its buffer, so every stop
# lands mid-sync.
FILES, ROWS = 3, 3000


def record_ids(messages):
    return [(m["record"]["_sdc_source_file"], m["record"]["_sdc_source_lineno"])
            for m in messages if m["type"] == "RECORD"]


_exports = {}


@pytest.fixture
def exports(store, tmp_path_factory):
    """(company, catalog path): FILES exports of ROWS records, discovered once per test process
    and store for every case (one xdist group): the runs never change the files."""
    if store not in _exports:
        company = company_in(store, tmp_path_factory.mktemp("exports"))
        for n in range(FILES):
            company.put(f"GLENTRY.change.{n}.csv",
                        ddsdata.glentry_csv(ROWS, 1 + ROWS * n, seed=n), modified=n)
        _exports[store] = company, company.selected_catalog()
    return _exports[store]


def stopped_run(company, catalog, engine, signum, *, blocked):
    """Start a sync, send `signum` once a STATE and some records of the next file are out, and
    read stdout to its end. blocked: stdout is not read for a while first, so the signal finds
    the tap blocked writing to a full pipe."""
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    stderr = company.workdir / f"stderr-{engine}-{signum}-{blocked}.txt"
    with open(stderr, "wb") as errors:
        process = subprocess.Popen([TAP, "--config", company.config(), "--catalog", catalog],
                                   stdout=subprocess.PIPE, stderr=errors, env=env)
    try:
        lines, states = [], 0
        while states < 1 or len(lines) < 1000 + ROWS:
            line = process.stdout.readline()
            assert line, stderr.read_text()
            lines.append(line)
            states += line.startswith(b'{"type":"STATE"')
        if blocked:
            time.sleep(0.5)  # the pipe fills: the tap waits inside a write
        process.send_signal(signum)
        rest = process.stdout.read()
        process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()
    return process.returncode, b"".join(lines) + rest, stderr.read_text()


@pytest.mark.xdist_group("stop signals")
@pytest.mark.parametrize("engine", ["rows", "fast"])
@pytest.mark.parametrize("signum, blocked", [(signal.SIGTERM, True), (signal.SIGTERM, False),
                                             (signal.SIGINT, True)],
                         ids=["sigterm-writing", "sigterm-reading", "sigint-writing"])
def test_a_stopped_sync_ends_with_whole_lines_and_resumes(exports, engine, signum, blocked):
    if engine == "fast":
        pytest.importorskip("pyarrow")
    exports, catalog = exports
    returncode, stdout, stderr = stopped_run(exports, catalog, engine, signum, blocked=blocked)

    reason = {signal.SIGTERM: "terminated", signal.SIGINT: "interrupted"}[signum]
    assert returncode == 128 + signum, stderr
    assert f"tap-intacct: {reason}\n" in stderr
    assert "Traceback" not in stderr, stderr
    assert stdout.endswith(b"\n")
    messages = [json.loads(line) for line in stdout.splitlines()]  # every line whole
    states = [i for i, m in enumerate(messages) if m["type"] == "STATE"]
    done = record_ids(messages[:states[-1]])
    assert len(done) < FILES * ROWS  # stopped mid-sync
    read_whole = {key for key, _ in done}
    assert len(done) == ROWS * len(read_whole)  # the last STATE covers whole files only

    resumed = exports.sync(catalog, state=messages[states[-1]]["value"])
    assert resumed.returncode == 0, resumed.stderr
    again = record_ids(resumed.messages)
    assert not read_whole & {key for key, _ in again}  # files read whole are not read again
    assert len(again) == len(set(again))
    everything = set(done) | set(again)  # (file, line) of each record: every record of each file
    assert len(everything) == FILES * ROWS
    assert {key for key, _ in everything} == {exports.prefix + f"GLENTRY.change.{n}.csv"
                                             for n in range(FILES)}
