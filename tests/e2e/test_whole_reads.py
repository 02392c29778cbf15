"""Nothing read short, nothing read wrong (issue 25): a file in another encoding, a zip holding
several files, bytes after a compressed file's end, a file compressed twice, a damaged archive
or header names in the other quote character stop their stream naming the file, on both
stores and both engines; the setup check (`--test`) gives the verdict sync gives, in the same
words; NUL characters are kept."""

import gzip
import io
import zipfile

import pytest

from tap_intacct.settings import knobs
from tests.e2e.conftest import T0, assert_clean_failure, shared_layout

pytestmark = pytest.mark.stores("s3", "azure")
ENGINES = ["rows", "fast"] if knobs.fast_engine_installed() else ["rows"]
GOOD = "RECORDNO,NAME\n1,a\n2,b\n"
TEXT = "RECORDNO,NAME\r\n7,一丁\r\n8,Café\r\n"


def _zip(*members, method=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _corrupt(data, at):
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


# stream: (file name after the stream name, body, what the error line says after the file name)
BAD = {
    "U16LE": (".all.2.csv", TEXT.encode("utf-16-le"),
              "the file looks like UTF-16LE text without a byte-order mark"),
    "U16BE": (".all.2.csv", TEXT.encode("utf-16-be"),
              "the file looks like UTF-16BE text without a byte-order mark"),
    "U16BOM": (".all.2.csv", TEXT.encode("utf-16"),
               "the file is UTF-16LE text (it starts with a UTF-16LE byte-order mark)"),
    "CP1252": (".all.2.csv", "RECORDNO,NAME\r\n8,Café\r\n".encode("cp1252"),
               "line 2 is not valid UTF-8 (byte 0xe9)"),
    "NESTED": (".all.2.csv.gz", gzip.compress(gzip.compress(TEXT.encode())),
               "its content is itself gzip data (the file is compressed twice)"),
    "ZIPS": (".all.2.zip", _zip(("ZIPS.all.2.csv", TEXT), ("ZIPS.all.3.csv", TEXT)),
             "the zip archive holds more than one file ('ZIPS.all.2.csv', then "
             "'ZIPS.all.3.csv'); the tap reads one CSV per zip archive"),
    "GZTAIL": (".all.2.csv.gz", gzip.compress(TEXT.encode()) + b"<html>proxy error</html>",
               "bytes after the end of its gzip data are not gzip data"),
    "ZIPTAIL": (".all.2.zip", _zip(("ZIPTAIL.csv", TEXT)) + b"\x00\x01",
                "bytes follow the end of the zip archive"),
    "ZIPCRC": (".all.2.zip", _zip(("ZIPCRC.csv", TEXT), method=zipfile.ZIP_STORED).replace(
        b"8,Caf", b"9,Caf"), "the zip archive is corrupt (the data of 'ZIPCRC.csv' does not "
                            "match its CRC-32 or size)"),
    "GZBAD": (".all.2.csv.gz", _corrupt(gzip.compress(TEXT.encode() * 50), 14),
              "compressed data is corrupt or truncated after line 0"),
    "ZIPCUT": (".all.2.zip", _zip(("ZIPCUT.csv", TEXT))[:60],  # inside the member's data
               "compressed data is corrupt or truncated after line "),
    "QUOTE": (".all.2.csv", b"'RECORDNO','NAME'\n'7','x'\n",
              "its header names are enclosed in ' but 'quotechar' is \" (its default); set "
              "quotechar to '"),
}

FOUND_AT_THE_END = {"ZIPS", "GZTAIL", "ZIPTAIL", "ZIPCRC"}


def _bad_company(company):
    """Each stream of BAD: a good file, then the bad one (newest); and two streams the setup
    check passes (LONGHEAD: a 150 KiB header; NULS). One discovery, a sync per engine and a
    setup check: (company, {engine: sync run}, setup check run)."""
    for stream, (suffix, body, _message) in BAD.items():
        company.put(f"{stream}.all.1.csv", GOOD, modified=0)
        company.put(stream + suffix, body, modified=60)
    company.put("LONGHEAD.all.1.csv", ",".join(f"CUSTOMFIELD_{n:05d}" for n in range(8000))
                + "\n" + ",".join(["1"] * 8000) + "\n")  # a 150 KiB header
    company.put("NULS.all.1.csv", "RECORDNO,NAME\n1,a\x00b\n")
    catalog = company.selected_catalog()
    return company, {engine: company.tap("--catalog", catalog, env=_engine_env(company, engine))
                     for engine in ENGINES}, company.tap("--test")


def _engine_env(company, engine):
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    return env


BAD_FILES = pytest.mark.xdist_group("files that cannot be read whole")


def _error_lines(run):
    return {line.split(": ", 3)[2].split("/")[-1].split(".")[0]: line.split(": ", 2)[2]
            for line in run.stderr.splitlines() if line.startswith("tap-intacct: error: ")}


@BAD_FILES
@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_that_cannot_be_read_whole_stops_its_stream_naming_it(store, tmp_path_factory,
                                                                    engine):
    company, runs, _check = shared_layout(store, tmp_path_factory, _bad_company)
    run = runs[engine]
    assert_clean_failure(run, code=1)
    errors = _error_lines(run)
    assert set(errors) == set(BAD), run.stderr
    for stream, (suffix, _body, message) in BAD.items():
        assert errors[stream].startswith(f"{company.prefix}{stream}{suffix}: {message}"), (
            errors[stream])
        bad = company.prefix + stream + suffix
        records = run.records(stream)
        assert [r["RECORDNO"] for r in records if r["_sdc_source_file"] != bad] == [1, 2]
        # a file refused by its first line adds no record; one found bad at its end may have
        # added those before that point (at-least-once: the bookmark stays before the file)
        assert stream in FOUND_AT_THE_END or not [
            r for r in records if r["_sdc_source_file"] == bad]
        assert run.last_state["bookmarks"][stream]["modified_since"] == T0.isoformat()
    assert [r["NAME"] for r in run.records("ZIPS")] == ["a", "b", "一丁", "Café"]


@BAD_FILES
def test_the_setup_check_gives_the_verdict_sync_gives_in_the_same_words(store, tmp_path_factory):
    _company, runs, run = shared_layout(store, tmp_path_factory, _bad_company)
    assert_clean_failure(run, "FAILED: 12 of 14 object(s) have a problem", code=1)
    lines = {line.split(": ", 2)[1]: line for line in run.stderr.splitlines()
             if line.startswith("test: ") and " file(s), newest " in line}
    for engine in ENGINES:  # what sync says, with either engine
        sync = _error_lines(runs[engine])
        for stream in BAD:
            assert lines[stream].endswith(f": PROBLEM: {sync[stream]}"), (lines[stream],
                                                                             sync[stream])
    assert lines["LONGHEAD"].endswith(", delimiter ',', quote \", 8000 column(s): ok")
    assert lines["NULS"].endswith(", 2 column(s): ok")


def _readable(company):
    """NULGZ: a NUL character in the last row of a gzip file; ZIP64: a zip with folders, a
    comment and zip64 records, then a gzip file padded with zeros. One discovery, a sync per
    engine (exit 0 each): (company, {engine: run})."""
    body = "RECORDNO,NAME\n" + "".join(f"{n},v{n}\n" for n in range(1, 3000)) + "3000,a\x00b\n"
    company.put("NULGZ.all.1.csv.gz", gzip.compress(body.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.mkdir("export")
        with archive.open("export/ZIP64.csv", "w", force_zip64=True) as member:
            member.write(TEXT.encode())
        archive.mkdir("export/empty")
        archive.comment = b"written by a tool that adds a comment"
    company.put("ZIP64.all.1.zip", buffer.getvalue())
    company.put("ZIP64.all.2.csv.gz", gzip.compress(GOOD.encode()) + b"\x00" * 512,
                modified=60)  # zero padding after the gzip data, as some tools write it
    catalog = company.selected_catalog()
    runs = {engine: company.tap("--catalog", catalog, env=_engine_env(company, engine))
            for engine in ENGINES}
    for run in runs.values():
        assert run.returncode == 0, run.stderr
    return company, runs


READABLE = pytest.mark.xdist_group("files read whole")


@READABLE
@pytest.mark.parametrize("engine", ENGINES)
def test_nul_characters_are_kept_with_a_warning(store, tmp_path_factory, engine):
    company, runs = shared_layout(store, tmp_path_factory, _readable)
    run = runs[engine]
    records = run.records("NULGZ")
    assert len(records) == 3000 and records[-1]["NAME"] == "a\x00b"
    assert '"NAME":"a\\u0000b"' in run.stdout
    key = company.prefix + "NULGZ.all.1.csv.gz"
    assert f"{key}: holds 1 NUL character(s) (U+0000), kept in the values" in run.stderr


@READABLE
@pytest.mark.parametrize("engine", ENGINES)
def test_a_zip_with_folders_comment_and_zip64_records_is_read_to_its_end(store, tmp_path_factory,
                                                                         engine):
    _company, runs = shared_layout(store, tmp_path_factory, _readable)
    assert [r["NAME"] for r in runs[engine].records("ZIP64")] == ["一丁", "Café", "a", "b"]
