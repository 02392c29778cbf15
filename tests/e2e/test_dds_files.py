"""Every kind of file a real DDS bucket or container can hold, synced through the real S3 and
Azure Blob APIs."""

import io
import zipfile

import pytest

from devtools.s3server import gzipped, zipped
from tests.e2e.conftest import ARCHIVE_NOTES, assert_clean_failure

pytestmark = pytest.mark.stores("s3", "azure")

CSV = "RECORDNO,NAME\n1,a\n2,b\n"


def synced(company):
    run = company.sync(company.selected_catalog())
    assert run.returncode == 0, run.stderr
    return run


def test_compressed_exports_by_magic_bytes(company):
    company.put("GLENTRY.1.csv.gz", gzipped(CSV), modified=1)
    company.put("GLENTRY.2.gz", gzipped("RECORDNO,NAME\n3,c\n"), modified=2)
    company.put("GLENTRY.3.zip", zipped("RECORDNO,NAME\n4,d\n", member="GLENTRY.3.csv"),
                modified=3)
    company.put("GLENTRY.4.csv", gzipped("RECORDNO,NAME\n5,e\n"), modified=4)  # misnamed gzip
    run = synced(company)
    assert [s["stream"] for s in run.of_type("SCHEMA")] == ["GLENTRY"]
    assert [r["RECORDNO"] for r in run.records()] == [1, 2, 3, 4, 5]


def test_large_compressed_file_streams(company):
    body = "RECORDNO,NOTE\n" + "".join(f"{n},note {n}\n" for n in range(1, 200_001))
    company.put("GLENTRY.big.csv.gz", gzipped(body))
    run = synced(company)
    records = run.records()
    assert len(records) == 200_000 and records[-1]["RECORDNO"] == 200_000


def test_bom_crlf_and_quoted_line_breaks(company):
    text = ('\ufeffRECORDNO,NOTE\r\n1,"a\r\nb"\r\n2,"x\n\ny"\r\n3,"cr\ronly"\r\n'
            '4,"say ""hi"""\r\n')
    company.put("GLENTRY.csv", text.encode("utf-8"))
    catalog = company.discover()
    assert catalog["streams"][0]["metadata"][0]["metadata"]["table-key-properties"] == [
        "RECORDNO"]
    records = synced(company).records()
    assert [r["NOTE"] for r in records] == ["a\r\nb", "x\n\ny", "cr\ronly", 'say "hi"']
    assert [r["_sdc_source_lineno"] for r in records] == [2, 4, 7, 8]


def test_nul_bytes_and_multi_megabyte_fields(company):
    huge = "x" * (5 * 1024 * 1024)
    company.put("GLENTRY.csv", f'RECORDNO,NOTE\n1,"{huge}"\n2,"a\x00b"\n3,ok\n')
    run = synced(company)
    records = run.records()
    assert len(records[0]["NOTE"]) == len(huge)
    assert records[1]["NOTE"] == "a\x00b" and "holds 1 NUL character(s)" in run.stderr
    assert records[2]["NOTE"] == "ok"


def test_ragged_rows_and_header_only_files(company):
    company.put("GLENTRY.1.csv", "RECORDNO,A,B\n1,x,y,extra1,extra2\n2,x\n", modified=1)
    company.put("GLENTRY.2.csv", "RECORDNO,A,B\n", modified=2)  # header only
    run = synced(company)
    long_row, short_row = run.records()
    assert long_row["_sdc_extra"] == ["extra1", "extra2"]
    assert short_row["B"] is None and "_sdc_extra" not in short_row
    assert run.last_state["bookmarks"]["GLENTRY"]["modified_since"].endswith("12:00:02+00:00")


def test_odd_objects_are_ignored_or_skipped(company):
    company.put("GLENTRY.csv", CSV)
    company.put("EMPTY.csv", b"")
    company.put("GLENTRY.2.csv", CSV, storage_class="DEEP_ARCHIVE")
    company.put("manifest.json", "{}")
    company.put("sub/GLENTRY.csv", CSV)
    run = synced(company)
    assert {r["_sdc_source_file"] for r in run.records()} == {company.prefix + "GLENTRY.csv"}
    assert ARCHIVE_NOTES["DEEP_ARCHIVE" if company.kind == "s3" else "Archive"] in run.stderr


def test_invalid_utf8_fails_naming_file_and_line_and_keeps_the_bookmark(company):
    good = company.put("GLENTRY.1.csv", CSV, modified=1)
    bad = company.put("GLENTRY.2.csv", b"RECORDNO,NAME\n3,ok\n4,caf\xe9\n", modified=2)
    catalog = company.selected_catalog()
    run = company.sync(catalog)
    assert_clean_failure(run, f"{bad}: line 3 is not valid UTF-8")
    assert run.last_state["bookmarks"]["GLENTRY"]["synced_keys"] == {
        good: "2024-03-01T12:00:01+00:00"}
    rerun = company.sync(catalog, state=run.last_state)
    assert_clean_failure(rerun, f"{bad}: line 3")  # still failing, never skipped


def test_lookback_reads_late_multipart_files(company):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n", modified=100)
    catalog = company.selected_catalog()
    # the window is set from the start: its state records the keys read inside it (a default
    # state holds only the keys at the bookmark, so raising the window later takes the files
    # already in it as read)
    first = company.sync(catalog, config=company.config(lookback_seconds=120))
    company.put("GLENTRY.late.csv", "RECORDNO\n2\n", modified=40)  # upload started earlier
    default = company.sync(catalog, state=first.last_state)
    assert default.records() == []  # original semantics: older than the bookmark
    config = company.config(lookback_seconds=120)
    late = company.sync(catalog, state=first.last_state, config=config)
    assert [r["RECORDNO"] for r in late.records()] == [2]
    assert company.sync(catalog, state=late.last_state, config=config).records() == []


def test_a_bad_file_stops_only_its_own_stream(company):
    bad = company.put("GLENTRY.1.csv", b"RECORDNO\n1\n\xff\n", modified=1)
    company.put("GLENTRY.2.csv", "RECORDNO\n5\n", modified=2)
    company.put("VENDOR.1.csv", "RECORDNO\n7\n", modified=1)
    run = company.sync(company.selected_catalog())
    assert_clean_failure(run, f"{bad}: line 3 is not valid UTF-8")
    assert [r["RECORDNO"] for r in run.records("VENDOR")] == [7]
    assert all(r["_sdc_source_file"] != company.prefix + "GLENTRY.2.csv"
               for r in run.records("GLENTRY"))  # never past the bad file
    assert list(run.last_state["bookmarks"]) == ["VENDOR"]


def test_discovery_survives_a_corrupt_file(company):
    company.put("GLENTRY.1.csv", "RECORDNO,A\n1,x\n", modified=1)
    company.put("GLENTRY.2.zip", b"PK\x03\x04broken", modified=2)
    catalog = company.discover()
    assert "A" in catalog["streams"][0]["schema"]["properties"]


def _zip(*members):
    """A deflated zip of (name, text) members; text None makes a folder entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members:
            if text is None:
                archive.mkdir(name)
            else:
                archive.writestr(name, text)
    return buffer.getvalue()


def test_zip_folder_entries_are_skipped_and_a_zip_without_a_file_fails_its_stream(company):
    good = company.put("GLENTRY.1.csv", CSV, modified=1)
    bad = company.put("GLENTRY.2.zip", _zip(("GLENTRY.2/", None)), modified=2)
    company.put("GLENTRY.3.csv", "RECORDNO,NAME\n9,z\n", modified=3)
    company.put("VENDOR.1.zip", _zip(("out/", None), ("out/VENDOR.1.csv", "RECORDNO\n7\n")))
    catalog = company.selected_catalog()
    run = company.sync(catalog)
    assert_clean_failure(run, f"{bad}: the zip archive holds only 1 folder entry, no file",
                         code=1)
    assert [r["RECORDNO"] for r in run.records("GLENTRY")] == [1, 2]  # nothing past it
    assert [r["RECORDNO"] for r in run.records("VENDOR")] == [7]
    assert run.last_state["bookmarks"]["GLENTRY"]["synced_keys"] == {
        good: "2024-03-01T12:00:01+00:00"}
    rerun = company.sync(catalog, state=run.last_state)
    assert_clean_failure(rerun, f"{bad}: the zip archive holds only")  # never skipped


def test_cr_only_line_endings(company):
    small = '\ufeffRECORDNO,WHEN,AMOUNT,NOTE\r1,2024-01-02,1.5,"two\rlines"\r\r2,,-3,"lf\nkept"\r'
    company.put("GLENTRY.1.csv.gz", gzipped(small), modified=1)
    # larger than discovery's 4 MiB sample read, which must end at a CR too
    rows = "".join(f"{n},2024-01-{n % 28 + 1:02d}T03:04:05Z,{n}.25,note {n}\r"
                   for n in range(3, 120_003))
    big = company.put("GLENTRY.2.csv", "RECORDNO,WHEN,AMOUNT,NOTE,NEWCOL\r" + rows, modified=2)
    gl = company.discover()["streams"][0]["schema"]["properties"]
    assert gl["RECORDNO"] == {"type": ["null", "integer", "string"]}
    assert gl["WHEN"]["anyOf"][0]["format"] == "date-time"
    assert gl["AMOUNT"] == {"type": ["null", "number", "string"]}
    assert gl["NOTE"] == gl["NEWCOL"] == {"type": ["null", "string"]}
    records = synced(company).records()
    assert [(r["RECORDNO"], r["_sdc_source_lineno"], r["NOTE"]) for r in records[:3]] == [
        (1, 2, "two\rlines"), (2, 5, "lf\nkept"), (3, 2, "note 3")]
    assert records[0]["WHEN"] == "2024-01-02T00:00:00.000000Z" and records[1]["AMOUNT"] == -3
    assert len(records) == 120_002 and records[-1]["_sdc_source_file"] == big
    assert records[-1]["_sdc_source_lineno"] == 120_001
