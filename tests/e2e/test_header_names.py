"""A file's own columns keep their names and values (issue 25, row 11): an empty header cell is
named after its position only where no real column has that name, and a header naming a column
the tap adds (`_sdc_*`) is refused naming the file, alike in discovery, sync (both engines) and
--test."""

import json

import pytest

from tests.e2e.conftest import assert_clean_failure, shared_layout

pytest.importorskip("pyarrow")


def sync_both(company, catalog):
    runs = {}
    for engine in ("rows", "fast"):
        env = company.server.tap_environment()
        env["TAP_INTACCT_ENGINE"] = engine
        runs[engine] = company.tap("--catalog", catalog, env=env)
    assert runs["fast"].stdout == runs["rows"].stdout
    assert runs["fast"].returncode == runs["rows"].returncode
    return runs["rows"], runs["fast"]


def test_an_empty_header_cell_never_renames_a_real_column(company):
    company.put("GLENTRY.csv", "RECORDNO,,column_2,AMOUNT,AMOUNT,AMOUNT__2\n"
                               "1,empty,real,5,6,7\n2,,r2,8,9,10\n")
    catalog = company.discover(shared=True)
    names = list(catalog["streams"][0]["schema"]["properties"])
    assert names[:6] == ["RECORDNO", "column_2__2", "column_2", "AMOUNT", "AMOUNT__3",
                         "AMOUNT__2"]
    rows, fast = sync_both(company, company.selected_catalog(catalog))
    assert rows.returncode == 0, rows.stderr
    assert "fast engine: all 2 record(s)" in fast.stderr
    first = rows.records()[0]
    assert (first["column_2"], first["column_2__2"]) == ("real", "empty")
    assert (first["AMOUNT"], first["AMOUNT__2"], first["AMOUNT__3"]) == (5, 7, 6)


TAP_COLUMNS = ["_sdc_source_file", "_sdc_extra", "_sdc_deleted_at", "_sdc_source_lineno",
               "_sdc_source_bucket"]


def _clashes(company):
    """GLENTRY, and per column the tap adds a stream (VENDOR<n>) whose header names it; one
    discovery, a sync per engine, a setup check: (company, discovery, (rows, fast), check)."""
    company.put("GLENTRY.csv", "RECORDNO,AMOUNT\n1,5\n")
    for number, column in enumerate(TAP_COLUMNS):
        company.put(f"VENDOR{number}.csv", f"RECORDNO,{column},ddsChangeType\n7,mine,delete\n")
    discovered = company.tap("--discover")
    assert discovered.returncode == 0, discovered.stderr
    catalog = company.selected_catalog(json.loads(discovered.stdout))
    return company, discovered, sync_both(company, catalog), company.tap("--test")


@pytest.mark.xdist_group("headers naming tap columns")
@pytest.mark.parametrize("column", TAP_COLUMNS)
def test_a_header_naming_a_column_the_tap_adds_is_refused(store, tmp_path_factory, column):
    company, discovered, runs, checked = shared_layout(store, tmp_path_factory, _clashes)
    stream = f"VENDOR{TAP_COLUMNS.index(column)}"
    clash = f"{company.prefix}{stream}.csv"
    problem = (f"{clash}: header cell 2 is '{column}', the name of a column the tap adds")

    assert [line for line in discovered.stderr.splitlines()
            if "Discovery skipped" in line and problem in line]
    assert [s["stream"] for s in json.loads(discovered.stdout)["streams"]] == [
        "GLENTRY", *(f"VENDOR{n}" for n in range(len(TAP_COLUMNS)))]

    for run in runs:
        assert_clean_failure(run, problem, code=1)
        assert [r["RECORDNO"] for r in run.records("GLENTRY")] == [1]  # GLENTRY still synced
        assert run.records(stream) == []
        assert stream not in run.last_state["bookmarks"]  # the bookmark stays before it

    assert_clean_failure(checked, f"{stream}: 1 file(s)")
    [line] = [line for line in checked.stderr.splitlines() if line.startswith(f"test: {stream}: ")]
    assert f"PROBLEM: {problem}" in line, line
