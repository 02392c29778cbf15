"""A file's own columns keep their names and values (issue 25, row 11): an empty header cell is
named after its position only where no real column has that name, and a header naming a column
the tap adds (`_sdc_*`) is refused naming the file, alike in discovery, sync (both engines) and
--test."""

import json

import pytest

from tests.e2e.conftest import assert_clean_failure

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


@pytest.mark.parametrize("column", ["_sdc_source_file", "_sdc_extra", "_sdc_deleted_at",
                                    "_sdc_source_lineno", "_sdc_source_bucket"])
def test_a_header_naming_a_column_the_tap_adds_is_refused(company, column):
    company.put("GLENTRY.csv", "RECORDNO,AMOUNT\n1,5\n")
    clash = company.put("VENDOR.csv", f"RECORDNO,{column},ddsChangeType\n7,mine,delete\n")
    problem = (f"{clash}: header cell 2 is '{column}', the name of a column the tap adds")

    discovered = company.tap("--discover")
    assert discovered.returncode == 0, discovered.stderr
    assert "Discovery skipped" in discovered.stderr and problem in discovered.stderr
    assert [s["stream"] for s in json.loads(discovered.stdout)["streams"]] == ["GLENTRY",
                                                                               "VENDOR"]

    catalog = company.selected_catalog(shared=True)
    rows, fast = sync_both(company, catalog)
    for run in (rows, fast):
        assert_clean_failure(run, problem, code=1)
        assert [r["RECORDNO"] for r in run.records()] == [1]  # GLENTRY still synced
        assert run.records("VENDOR") == []
        assert "VENDOR" not in run.last_state["bookmarks"]  # the bookmark stays before it

    checked = company.tap("--test")
    assert_clean_failure(checked, "VENDOR: 1 file(s)", f"PROBLEM: {problem}")
