"""Every kind of file a real DDS bucket or container can hold, synced through the real S3 and
Azure Blob APIs."""

import io
import json
import zipfile

import pytest

from devtools.s3server import gzipped, zipped
from tests.e2e.conftest import ARCHIVE_NOTES, assert_clean_failure, shared_layout

pytestmark = pytest.mark.stores("s3", "azure")

CSV = "RECORDNO,NAME\n1,a\n2,b\n"


CR_ROWS = 120_000  # CRONLY's second file: larger than discovery's 4 MiB sample read


def readable(company):
    """One stream per case that syncs in full (exit 0): (catalog, sync run)."""
    # COMPRESSED: compressed exports, known by their magic bytes
    company.put("COMPRESSED.1.csv.gz", gzipped(CSV), modified=1)
    company.put("COMPRESSED.2.gz", gzipped("RECORDNO,NAME\n3,c\n"), modified=2)
    company.put("COMPRESSED.3.zip", zipped("RECORDNO,NAME\n4,d\n", member="COMPRESSED.3.csv"),
                modified=3)
    company.put("COMPRESSED.4.csv", gzipped("RECORDNO,NAME\n5,e\n"), modified=4)  # misnamed
    # LARGE: a large compressed file, streamed
    company.put("LARGE.big.csv.gz", gzipped(
        "RECORDNO,NOTE\n" + "".join(f"{n},note {n}\n" for n in range(1, 200_001))))
    # BOM: a byte-order mark, CRLF line ends and quoted line breaks
    company.put("BOM.csv", ('\ufeffRECORDNO,NOTE\r\n1,"a\r\nb"\r\n2,"x\n\ny"\r\n3,"cr\ronly"\r\n'
                            '4,"say ""hi"""\r\n').encode("utf-8"))
    # NUL: NUL bytes and a multi-megabyte field
    company.put("NUL.csv", f'RECORDNO,NOTE\n1,"{HUGE}"\n2,"a\x00b"\n3,ok\n')
    # RAGGED: ragged rows, and a header-only file
    company.put("RAGGED.1.csv", "RECORDNO,A,B\n1,x,y,extra1,extra2\n2,x\n", modified=1)
    company.put("RAGGED.2.csv", "RECORDNO,A,B\n", modified=2)
    # ODD: objects that are ignored or skipped
    company.put("ODD.csv", CSV)
    company.put("EMPTY.csv", b"")
    company.put("ODD.2.csv", CSV, storage_class="DEEP_ARCHIVE")
    company.put("manifest.json", "{}")
    company.put("sub/ODD.csv", CSV)
    # CRONLY: CR-only line ends, small (gzip) and larger than discovery's sample read
    small = '\ufeffRECORDNO,WHEN,AMOUNT,NOTE\r1,2024-01-02,1.5,"two\rlines"\r\r2,,-3,"lf\nkept"\r'
    company.put("CRONLY.1.csv.gz", gzipped(small), modified=1)
    rows = "".join(f"{n},2024-01-{n % 28 + 1:02d}T03:04:05Z,{n}.25,note {n}\r"
                   for n in range(3, CR_ROWS + 3))
    company.put("CRONLY.2.csv", "RECORDNO,WHEN,AMOUNT,NOTE,NEWCOL\r" + rows, modified=2)
    catalog = company.discover()
    run = company.sync(company.selected_catalog(json.loads(json.dumps(catalog))))
    assert run.returncode == 0, run.stderr
    return company, catalog, run


READABLE = pytest.mark.xdist_group("readable dds files")
HUGE = "x" * (5 * 1024 * 1024)


def schema_of(catalog, stream):
    [entry] = [s for s in catalog["streams"] if s["tap_stream_id"] == stream]
    return entry


@READABLE
def test_compressed_exports_by_magic_bytes(store, tmp_path_factory):
    _company, catalog, run = shared_layout(store, tmp_path_factory, readable)
    # one stream per case: no file made a stream of its own
    assert [s["stream"] for s in run.of_type("SCHEMA")] == [
        s["tap_stream_id"] for s in catalog["streams"]] == [
        "BOM", "COMPRESSED", "CRONLY", "LARGE", "NUL", "ODD", "RAGGED"]
    assert [r["RECORDNO"] for r in run.records("COMPRESSED")] == [1, 2, 3, 4, 5]


@READABLE
def test_large_compressed_file_streams(store, tmp_path_factory):
    _company, _catalog, run = shared_layout(store, tmp_path_factory, readable)
    records = run.records("LARGE")
    assert len(records) == 200_000 and records[-1]["RECORDNO"] == 200_000


@READABLE
def test_bom_crlf_and_quoted_line_breaks(store, tmp_path_factory):
    _company, catalog, run = shared_layout(store, tmp_path_factory, readable)
    assert schema_of(catalog, "BOM")["metadata"][0]["metadata"]["table-key-properties"] == [
        "RECORDNO"]
    records = run.records("BOM")
    assert [r["NOTE"] for r in records] == ["a\r\nb", "x\n\ny", "cr\ronly", 'say "hi"']
    assert [r["_sdc_source_lineno"] for r in records] == [2, 4, 7, 8]


@READABLE
def test_nul_bytes_and_multi_megabyte_fields(store, tmp_path_factory):
    company, _catalog, run = shared_layout(store, tmp_path_factory, readable)
    records = run.records("NUL")
    assert len(records[0]["NOTE"]) == len(HUGE)
    assert records[1]["NOTE"] == "a\x00b"
    assert f"{company.prefix}NUL.csv: holds 1 NUL character(s)" in run.stderr
    assert records[2]["NOTE"] == "ok"


@READABLE
def test_ragged_rows_and_header_only_files(store, tmp_path_factory):
    _company, _catalog, run = shared_layout(store, tmp_path_factory, readable)
    long_row, short_row = run.records("RAGGED")
    assert long_row["_sdc_extra"] == ["extra1", "extra2"]
    assert short_row["B"] is None and "_sdc_extra" not in short_row
    assert run.last_state["bookmarks"]["RAGGED"]["modified_since"].endswith("12:00:02+00:00")


@READABLE
def test_odd_objects_are_ignored_or_skipped(store, tmp_path_factory):
    company, _catalog, run = shared_layout(store, tmp_path_factory, readable)
    assert {r["_sdc_source_file"] for r in run.records("ODD")} == {company.prefix + "ODD.csv"}
    odd = {company.prefix + name for name in ("EMPTY.csv", "ODD.2.csv", "manifest.json")}
    assert not {r["_sdc_source_file"] for r in run.records()} & (odd | {
        company.prefix + "sub/ODD.csv"})
    assert ARCHIVE_NOTES["DEEP_ARCHIVE" if company.kind == "s3" else "Archive"] in run.stderr


@READABLE
def test_cr_only_line_endings(store, tmp_path_factory):
    company, catalog, run = shared_layout(store, tmp_path_factory, readable)
    gl = schema_of(catalog, "CRONLY")["schema"]["properties"]
    assert gl["RECORDNO"] == {"type": ["null", "integer", "string"]}
    assert gl["WHEN"]["anyOf"][0]["format"] == "date-time"
    assert gl["AMOUNT"] == {"type": ["null", "number", "string"]}
    assert gl["NOTE"] == gl["NEWCOL"] == {"type": ["null", "string"]}
    records = run.records("CRONLY")
    assert [(r["RECORDNO"], r["_sdc_source_lineno"], r["NOTE"]) for r in records[:3]] == [
        (1, 2, "two\rlines"), (2, 5, "lf\nkept"), (3, 2, "note 3")]
    assert records[0]["WHEN"] == "2024-01-02T00:00:00.000000Z" and records[1]["AMOUNT"] == -3
    assert len(records) == CR_ROWS + 2
    assert records[-1]["_sdc_source_file"] == company.prefix + "CRONLY.2.csv"
    assert records[-1]["_sdc_source_lineno"] == CR_ROWS + 1


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


def unreadable(company):
    """One stream (or two) per case where a file stops its stream: (discovered catalog, sync
    run, a re-run from its state)."""
    # UTF8: invalid UTF-8 in the second file
    company.put("UTF8.1.csv", CSV, modified=1)
    company.put("UTF8.2.csv", b"RECORDNO,NAME\n3,ok\n4,caf\xe9\n", modified=2)
    # ONLY (and ONLYOTHER): a bad file stops only its own stream
    company.put("ONLY.1.csv", b"RECORDNO\n1\n\xff\n", modified=1)
    company.put("ONLY.2.csv", "RECORDNO\n5\n", modified=2)
    company.put("ONLYOTHER.1.csv", "RECORDNO\n7\n", modified=1)
    # ZIPDIR (and ZIPOTHER): a zip without a file, zip folder entries
    company.put("ZIPDIR.1.csv", CSV, modified=1)
    company.put("ZIPDIR.2.zip", _zip(("ZIPDIR.2/", None)), modified=2)
    company.put("ZIPDIR.3.csv", "RECORDNO,NAME\n9,z\n", modified=3)
    company.put("ZIPOTHER.1.zip", _zip(("out/", None), ("out/ZIPOTHER.1.csv", "RECORDNO\n7\n")))
    # CORRUPT: discovery survives a corrupt file
    company.put("CORRUPT.1.csv", "RECORDNO,A\n1,x\n", modified=1)
    company.put("CORRUPT.2.zip", b"PK\x03\x04broken", modified=2)
    catalog = company.discover()
    path = company.selected_catalog(json.loads(json.dumps(catalog)))
    run = company.sync(path)
    return company, catalog, run, company.sync(path, state=run.last_state)


UNREADABLE = pytest.mark.xdist_group("unreadable dds files")


@UNREADABLE
def test_invalid_utf8_fails_naming_file_and_line_and_keeps_the_bookmark(store, tmp_path_factory):
    company, _catalog, run, rerun = shared_layout(store, tmp_path_factory, unreadable)
    good, bad = company.prefix + "UTF8.1.csv", company.prefix + "UTF8.2.csv"
    assert_clean_failure(run, f"{bad}: line 3 is not valid UTF-8")
    assert run.last_state["bookmarks"]["UTF8"]["synced_keys"] == {
        good: "2024-03-01T12:00:01+00:00"}
    assert_clean_failure(rerun, f"{bad}: line 3")  # still failing, never skipped


@UNREADABLE
def test_a_bad_file_stops_only_its_own_stream(store, tmp_path_factory):
    company, _catalog, run, _rerun = shared_layout(store, tmp_path_factory, unreadable)
    bad = company.prefix + "ONLY.1.csv"
    assert_clean_failure(run, f"{bad}: line 3 is not valid UTF-8")
    assert [r["RECORDNO"] for r in run.records("ONLYOTHER")] == [7]
    assert all(r["_sdc_source_file"] != company.prefix + "ONLY.2.csv"
               for r in run.records("ONLY"))  # never past the bad file
    assert "ONLY" not in run.last_state["bookmarks"]
    assert "ONLYOTHER" in run.last_state["bookmarks"]


@UNREADABLE
def test_discovery_survives_a_corrupt_file(store, tmp_path_factory):
    _company, catalog, _run, _rerun = shared_layout(store, tmp_path_factory, unreadable)
    assert "A" in schema_of(catalog, "CORRUPT")["schema"]["properties"]


@UNREADABLE
def test_zip_folder_entries_are_skipped_and_a_zip_without_a_file_fails_its_stream(
        store, tmp_path_factory):
    company, _catalog, run, rerun = shared_layout(store, tmp_path_factory, unreadable)
    good, bad = company.prefix + "ZIPDIR.1.csv", company.prefix + "ZIPDIR.2.zip"
    assert_clean_failure(run, f"{bad}: the zip archive holds only 1 folder entry, no file",
                         code=1)
    assert [r["RECORDNO"] for r in run.records("ZIPDIR")] == [1, 2]  # nothing past it
    assert [r["RECORDNO"] for r in run.records("ZIPOTHER")] == [7]
    assert run.last_state["bookmarks"]["ZIPDIR"]["synced_keys"] == {
        good: "2024-03-01T12:00:01+00:00"}
    assert_clean_failure(rerun, f"{bad}: the zip archive holds only")  # never skipped


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
