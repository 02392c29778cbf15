"""Every developer tool of the Makefile (demo, benchmarks, profile) runs on small data, through
`make` as a user types it, and prints its figures: tools nobody runs rot."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def make(tmp_path, target, *variables, **env):
    """`make -s TARGET VARIABLES...` with this test's virtualenv; its stdout (exit 0 asserted).
    The virtualenv is taken as installed (`-o` its stamp): make never reinstalls the one running
    the tests, whatever setup.py's time."""
    environment = {**os.environ, "BENCH_CACHE": str(tmp_path / "bench"), "BENCH_RUNS": "1",
                   "BENCH_ROWS": "2000", **env}
    result = subprocess.run(["make", "-s", target, f"VENV={sys.prefix}",
                             "-o", f"{sys.prefix}/.installed-stamp", *variables], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("variables", [(), ("STORAGE=azure", "FULL_EXPORTS=replace",
                                            "ENCRYPTED=1")])
def test_make_demo_balances_and_shows_the_dotted_field_and_the_deleted_vendor(tmp_path,
                                                                              variables):
    output = make(tmp_path, "demo", *variables)
    assert "Discovered 6 streams: APBILL, ARINVOICE, CUSTOMER, GLACCOUNT, GLENTRY, VENDOR" in output
    assert "Trial balance total: 0.00 (debits = credits)" in output
    [total] = [line.split() for line in output.splitlines() if line.strip().startswith("total ")]
    assert total[1] == total[2] and total[3] == "0.00"
    assert "DISPLAYCONTACT.EMAIL1 = billing@acme.example" in output
    if variables:
        assert re.search(r"Exports PGP-encrypted to key [0-9a-f]{40}", output)
        assert re.search(r"ACTIVATE_VERSION messages: [1-9]", output)
        assert "VENDOR after activating its newest full export: 7 rows; the deleted vendor is " \
               "gone" in output
    else:
        assert "Deleted vendor: RECORDNO 7 ('Globex #7'), _sdc_deleted_at " \
               "2024-01-03T01:00:00.000000Z" in output
        assert "VENDOR: 8 rows; the deleted vendor stays" in output


@pytest.fixture(scope="module")
def bench_output(tmp_path_factory):
    """One `make bench` with the cases the tests below check (the encrypted one if pysequoia is
    installed): its stdout."""
    cases = ["single", "full-exports"]
    if importlib.util.find_spec("pysequoia"):
        cases.append("encrypted")
    return make(tmp_path_factory.mktemp("bench"), "bench", BENCH_CASES=",".join(cases),
                BENCH_FULL_DAYS="3", BENCH_FULL_ROWS="50")


@pytest.mark.xdist_group("make bench")
def test_make_bench_prints_throughput_memory_and_requests(bench_output):
    assert re.search(r"sync, rows engine: +[0-9.]+s = [0-9,]+ records/s.*peak RSS [0-9]+ MB, "
                     r"S3 GetObject=1 ListObjectsV2=1", bench_output), bench_output
    assert "output identical" in bench_output


@pytest.mark.xdist_group("make bench")
def test_make_bench_encrypted_case_beside_the_plain_file(bench_output):
    pytest.importorskip("pysequoia")
    for engine in ("rows", "fast"):
        for kind in ("plain", "encrypted"):
            assert re.search(rf"sync, {engine} engine, {kind}: +[0-9.]+s = [0-9,]+ records/s, "
                             r"peak RSS [0-9]+ MB", bench_output), bench_output
    assert "records of the encrypted file: identical to the plain file's" in bench_output


@pytest.mark.xdist_group("make bench")
def test_make_bench_full_exports_reads_the_newest_export_and_what_follows(bench_output):
    # append reads the 3 exports and 69 change files; replace the newest export and its 23
    assert re.search(r"full_exports append: +1,530 records from 72 files in", bench_output), \
        bench_output
    assert re.search(r"full_exports replace: +510 records from 24 files in", bench_output), \
        bench_output


def test_make_bench_compare_runs_both_trees(tmp_path):
    output = make(tmp_path, "bench-compare", "REF=HEAD", BENCH_ENGINES="rows")
    assert re.search(r"this tree / HEAD: [0-9.]+% of its throughput", output), output


def test_make_profile_fast_prints_its_table(tmp_path):
    output = make(tmp_path, "profile-fast")
    assert re.search(r"\| fragments: integer columns \| [0-9.]+ \| [0-9]+% \|", output), output


def test_make_bench_discover_and_bench_state(tmp_path):
    output = make(tmp_path, "bench-discover", BENCH_DISCOVER_FILES="2",
                  BENCH_DISCOVER_ROWS="500")
    assert re.search(r"discover 2 files x 500 GLENTRY rows .* median [0-9.]+s, peak RSS", output)
    output = make(tmp_path, "bench-state", BENCH_STATE_CASES="state,noop,discover,second",
                  BENCH_STATE_NOOP_FIRST="100", BENCH_STATE_OBJECTS="300",
                  BENCH_STATE_DISCOVER="200", BENCH_STATE_FILES="40", BENCH_STATE_SECOND="10")
    assert re.search(r"300 objects: [0-9.]+s, peak RSS [0-9]+ MB, 0 file\(s\) read", output)
    assert "the column of one file found in" in output
    assert re.search(r"total STATE bytes, 80 / 40 files, lookback_seconds 0: [0-9.]+x", output)
    assert re.search(r"total STATE bytes, 40 / 10 files, lookback_seconds 0: [0-9.]+x", output)


def test_make_oracle_compare_runs_both_trees_and_reports_each_run(tmp_path):
    output = make(tmp_path, "oracle-compare", "REF=HEAD", ORACLE_SCENARIOS="bad-file")
    for engine in ("rows", "fast"):
        for run in ("discovery", "sync"):
            assert re.search(rf"bad-file +{engine} +{run} +identical", output), output
    assert "every run is byte-identical to HEAD's" in output


def test_the_oracle_names_the_first_line_that_differs():
    from devtools.oracle_compare import _first_difference
    run = {"exit code": 0, "stdout": ["a", "b"], "stderr warnings and errors": []}
    assert _first_difference(run, dict(run)) is None
    assert _first_difference(run, dict(run, stdout=["a", "c"])) == \
        "stdout, line 2: 'b' != 'c'"
    assert _first_difference(run, dict(run, stdout=["a"])) == "stdout: 2 lines != 1 lines"
    assert _first_difference(run, dict(run, **{"exit code": 1})) == "exit code: 0 != 1"
