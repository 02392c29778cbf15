"""The lossless contract end to end (DESIGN §6, issue #8's table): odd cells that discovery did
not sample, and odd cells inside the sampled rows, through the installed command and S3 API."""

import json

import pytest

from tests.e2e.conftest import assert_clean_failure, shared_layout

CLEAN = "RECORDNO,ACCOUNTNO,AMOUNT,WHEN,NOTE\n1,100,1.50,2024-01-02,x\n2,200,2.00,2024-01-03,y\n"
ODD = {
    "ACCOUNTNO": ["0100", "+5", "1,000", "1_000", " 7", "00"],
    "AMOUNT": ["1,5", "1.234,5", "0100.50"],
    "WHEN": ["12", "1.5", "March", "Monday"],
}


def odd_file(column, filler=0):
    """One row per odd value of `column` (the other cells plain), each followed by `filler`
    plain rows (discovery samples every 5th row: filler=4 puts every odd value in the sample)."""
    plain = {"ACCOUNTNO": "300", "AMOUNT": "3.00", "WHEN": "2024-01-04", "NOTE": "z"}
    rows = []
    for text in ODD[column]:
        for row in [dict(plain, **{column: text})] + [plain] * filler:
            quoted = [f'"{v}"' if "," in v else v for v in row.values()]
            rows.append(",".join([str(len(rows) + 3), *quoted]))
    return "RECORDNO,ACCOUNTNO,AMOUNT,WHEN,NOTE\n" + "\n".join(rows) + "\n"


SAMPLED = ["2024-01-05", "12", "March"]  # rows 1, 6 and 11: discovery samples every 5th
FREE_TEXT = [text for value in SAMPLED for text in [value] + ["2024-02-01"] * 4]


def _odd_cells(company):
    """One stream per case, discovered and synced together: UNSAMPLED_<column> (a clean file
    discovered, then a file of odd cells after discovery), SAMPLED_<column> (odd cells inside
    discovery's samples), FREETEXT (one date among free text): (catalog, run)."""
    for column in ODD:
        company.put(f"UNSAMPLED_{column}.1.csv", CLEAN, modified=1)
        company.put(f"SAMPLED_{column}.1.csv", odd_file(column, filler=4), modified=1)
    body = "".join(f"{n},{text}\n" for n, text in enumerate(FREE_TEXT, start=1))
    company.put("FREETEXT.1.csv", "RECORDNO,REF\n" + body, modified=1)
    catalog = company.discover()
    for column in ODD:
        company.put(f"UNSAMPLED_{column}.2.csv", odd_file(column), modified=2)  # after discovery
    return catalog, company.sync(company.selected_catalog(json.loads(json.dumps(catalog))))


ODD_CELLS = pytest.mark.xdist_group("odd cells")


def _properties(catalog, stream):
    [entry] = [s for s in catalog["streams"] if s["tap_stream_id"] == stream]
    return entry["schema"]["properties"]


@ODD_CELLS
@pytest.mark.parametrize("column", sorted(ODD))
def test_cells_discovery_did_not_sample_are_emitted_as_written(store, tmp_path_factory, column):
    catalog, run = shared_layout(store, tmp_path_factory, _odd_cells)
    schema = _properties(catalog, f"UNSAMPLED_{column}")[column]
    assert "string" in json.dumps(schema) and schema != {"type": ["null", "string"]}
    assert run.returncode == 0, run.stderr
    records = run.records(f"UNSAMPLED_{column}")
    assert [r[column] for r in records[2:]] == ODD[column]
    assert all(r[column] != text for r, text in zip(records[:2], ODD[column], strict=False))


@ODD_CELLS
@pytest.mark.parametrize("column", sorted(ODD))
def test_cells_inside_the_samples_make_the_column_text(store, tmp_path_factory, column):
    catalog, run = shared_layout(store, tmp_path_factory, _odd_cells)
    assert _properties(catalog, f"SAMPLED_{column}")[column] == {"type": ["null", "string"]}
    assert [r[column] for r in run.records(f"SAMPLED_{column}")][::5] == ODD[column]


@ODD_CELLS
def test_one_date_among_free_text_does_not_make_a_date_column(store, tmp_path_factory):
    catalog, run = shared_layout(store, tmp_path_factory, _odd_cells)
    assert _properties(catalog, "FREETEXT")["REF"] == {"type": ["null", "string"]}
    assert [r["REF"] for r in run.records("FREETEXT")] == FREE_TEXT


@pytest.mark.parametrize("column, text", [
    ("RECORDNO", "18446744073709551616"), ("RECORDNO", "0100"), ("WHEN", "12"),
    ("AMOUNT", "1,5"),
])
def test_without_string_fallback_a_misfit_stops_the_stream_naming_it(company, column, text):
    company.put("GLENTRY.1.csv", CLEAN, modified=1)
    company.put("VENDOR.1.csv", "RECORDNO\n9\n", modified=1)
    catalog = company.selected_catalog(company.discover(shared=True, string_fallback=False))
    cells = {"RECORDNO": "5", "ACCOUNTNO": "500", "AMOUNT": "5.00", "WHEN": "2024-01-05",
             "NOTE": "n"}
    cells[column] = f'"{text}"'
    bad = company.put("GLENTRY.2.csv", "RECORDNO,ACCOUNTNO,AMOUNT,WHEN,NOTE\n4,400,4.00,,m\n"
                      + ",".join(cells.values()) + "\n", modified=2)
    run = company.sync(catalog, config=company.config(string_fallback=False))
    assert_clean_failure(run, f"{bad}: line 3, column {column}: '{text}'", code=1)
    assert [r["RECORDNO"] for r in run.records("GLENTRY")] == [1, 2, 4]  # never the bad row
    assert [r["RECORDNO"] for r in run.records("VENDOR")] == [9]
    bookmark = run.last_state["bookmarks"]["GLENTRY"]["modified_since"]
    assert bookmark.startswith("2024-03-01T12:00:01")  # before the bad file


def test_annotated_catalog_schemas_keep_exact_digits_and_text(company):
    company.put("GLENTRY.1.csv", CLEAN, modified=1)
    catalog = company.discover(shared=True)
    properties = catalog["streams"][0]["schema"]["properties"]
    properties["AMOUNT"] = dict(properties["AMOUNT"], description="Amount", title="Amount",
                                maxLength=40)
    properties["RECORDNO"] = dict(properties["RECORDNO"], description="Key")
    company.put("GLENTRY.2.csv", "RECORDNO,AMOUNT\n3,12345678901234567.89\n4,NaN\n5,0100\n",
                modified=2)
    run = company.sync(company.selected_catalog(catalog))
    assert run.returncode == 0, run.stderr
    assert '"AMOUNT":12345678901234567.89' in run.stdout
    assert [r["AMOUNT"] for r in run.records()[2:]] == [
        json.loads("12345678901234567.89"), "NaN", "0100"]
