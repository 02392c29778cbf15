import gzip
import io
import re
import zipfile

import pytest

from devtools.s3server import zipped
from tap_intacct.errors import DataError
from tap_intacct.reading.csvfile import CsvRows, CutShort, line_end_of
from tap_intacct.reading.dialect import Dialect


def rows_of(data, sample=False):
    rows = CsvRows(io.BufferedReader(io.BytesIO(data)), "X.csv", sample=sample)
    return rows.header, list(rows)


def test_line_numbers_count_physical_lines():
    data = b'ID,NOTE\n1,"two\nlines"\n\n2,plain\r\n3,"a\r\nb\r\n\r\nc"\n4,x\n'
    header, rows = rows_of(data)
    assert header == ["ID", "NOTE"]
    assert rows == [(2, ["1", "two\nlines"]), (5, ["2", "plain"]), (6, ["3", "a\r\nb\r\n\r\nc"]),
                    (10, ["4", "x"])]


def test_bom_is_not_part_of_the_first_column():
    header, rows = rows_of("\ufeffRECORDNO,NAME\n1,é\n".encode("utf-8"))
    assert header == ["RECORDNO", "NAME"] and rows == [(2, ["1", "é"])]


def test_compressed_by_magic_bytes():
    text = "A,B\n1,2\n3,4\n"
    expected = (["A", "B"], [(2, ["1", "2"]), (3, ["3", "4"])])
    assert rows_of(gzip.compress(text.encode())) == expected
    assert rows_of(zipped(text)) == expected


def test_invalid_utf8_names_the_line():
    with pytest.raises(DataError, match=r"X.csv: line 3 is not valid UTF-8 \(byte 0xff"):
        rows_of(b"A\n1\n\xff\n")


def test_truncated_sample_drops_the_cut_record():
    header, rows = rows_of(b'A,B\n1,2\n3,"cut\nhere', sample=True)
    assert rows == [(2, ["1", "2"])]
    text = "".join(f"{n},{n * 7919 % 10007}\n" for n in range(20000)).encode()
    compressed = gzip.compress(b"A,B\n" + text)
    header, rows = rows_of(compressed[:len(compressed) // 2], sample=True)
    assert header == ["A", "B"] and 1000 < len(rows) < 20000
    assert rows[:2] == [(2, ["0", "0"]), (3, ["1", "7919"])]
    with pytest.raises(DataError, match="compressed data is corrupt or truncated"):
        rows_of(compressed[:len(compressed) // 2])


def test_nul_characters_are_kept_and_counted_doubled_quotes_kept():
    rows = CsvRows(io.BufferedReader(io.BytesIO(b'A,B\n"x\x00y","say ""hi"""\n\x00,z\n')),
                   "X.csv")
    assert list(rows) == [(2, ["x\x00y", 'say "hi"']), (3, ["\x00", "z"])]
    assert rows.nul_characters == 2


def test_multi_member_gzip_is_read_whole():
    assert rows_of(gzip.compress(b"A\n1\n") + gzip.compress(b"2\n"))[1] == [
        (2, ["1"]), (3, ["2"])]


def test_unbalanced_quote_is_an_error_not_a_swallowed_file():
    with pytest.raises(DataError, match="X.csv: the record starting at line 3"):
        rows_of(b'A,B\n1,2\n3,"open\n4,5\n')


def test_header_only_file():
    assert rows_of(b"A,B\n") == (["A", "B"], [])


# ---- zip archives ----------------------------------------------------------------------------

class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors (flag 0x8) after each member."""

    def __init__(self):
        super().__init__()
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, data):
        self.data += data
        return len(data)


def zip_of(*members, seekable=True, **options):
    """A zip archive of (name, text or None for a folder, compression) members."""
    target = io.BytesIO() if seekable else _Unseekable()
    with zipfile.ZipFile(target, "w") as archive:
        for name, text, compression in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            with archive.open(info, "w", **options) as member:
                member.write((text or "").encode())
    return target.getvalue() if seekable else bytes(target.data)


CSV_TEXT = "A,B\n1,2024-01-02\n"
EXPECTED = (["A", "B"], [(2, ["1", "2024-01-02"])])


@pytest.mark.parametrize("seekable", [True, False], ids=["sizes-in-header", "data-descriptor"])
@pytest.mark.parametrize("folder_method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zip_folder_entries_before_the_file_are_skipped(seekable, folder_method):
    data = zip_of(("exports/", None, folder_method), ("exports/2024/", None, folder_method),
                  ("exports/2024/GLENTRY.csv", CSV_TEXT, zipfile.ZIP_DEFLATED),
                  ("exports/2024/more/", None, folder_method), seekable=seekable)
    assert data[6:8] == (b"\x08\x00" if not seekable else b"\x00\x00")  # the 0x8 flag or not
    assert rows_of(data) == EXPECTED


def test_zip_stored_and_zip64_members():
    assert rows_of(zip_of(("dir/", None, zipfile.ZIP_STORED),
                          ("X.csv", CSV_TEXT, zipfile.ZIP_STORED))) == EXPECTED
    zip64 = zip_of(("dir/", None, zipfile.ZIP_STORED), ("X.csv", CSV_TEXT, zipfile.ZIP_STORED),
                   force_zip64=True)
    assert rows_of(zip64) == EXPECTED
    with_descriptors = zip_of(("dir/", None, zipfile.ZIP_DEFLATED),
                              ("X.csv", CSV_TEXT, zipfile.ZIP_DEFLATED), seekable=False,
                              force_zip64=True)
    assert rows_of(with_descriptors) == EXPECTED


@pytest.mark.parametrize(("data", "message"), [
    (zip_of(), "the zip archive is empty, no file"),
    (zip_of(("only/", None, zipfile.ZIP_STORED)), "holds only 1 folder entry, no file"),
    (zip_of(("a/", None, zipfile.ZIP_DEFLATED), ("a/b/", None, zipfile.ZIP_STORED),
            seekable=False), "holds only 2 folder entries, no file"),
    (zip_of(("X.csv", CSV_TEXT, zipfile.ZIP_BZIP2)), "zip compression method 12 is not supported"),
    (zip_of(("X.csv", CSV_TEXT, zipfile.ZIP_LZMA)), "zip compression method 14 is not supported"),
    (zip_of(("X.csv", CSV_TEXT, zipfile.ZIP_STORED), seekable=False),
     "a stored .uncompressed. zip member whose size follows its data cannot be streamed"),
    (zip_of(("d/", None, zipfile.ZIP_BZIP2), ("X.csv", CSV_TEXT, zipfile.ZIP_DEFLATED),
            seekable=False), "a folder entry uses zip compression method 12"),
    (zip_of(("dir/", None, zipfile.ZIP_STORED))[:32], "truncated zip archive"),
], ids=["empty", "one-folder", "two-folders", "bzip2", "lzma", "stored-with-descriptor",
        "bzip2-folder", "truncated"])
def test_zip_without_a_readable_file_is_an_error_naming_the_file(data, message):
    assert data[:2] == b"PK"
    with pytest.raises(DataError, match=f"^X.csv: .*{message}"):
        rows_of(data)
    with pytest.raises(DataError, match=f"^X.csv: .*{message}"):
        rows_of(data, sample=True)  # discovery skips such a file with this warning


# ---- line endings ----------------------------------------------------------------------------

def test_cr_only_line_endings():
    assert rows_of(b"A,B\r1,2\r") == (["A", "B"], [(2, ["1", "2"])])
    data = '\ufeffID,NOTE\r1,"two\rlines"\r\r2,"lf\nstays"\r3,"a\r\rb"\r4,x'.encode()
    expected = (["ID", "NOTE"], [(2, ["1", "two\rlines"]), (5, ["2", "lf\nstays"]),
                                 (6, ["3", "a\r\rb"]), (9, ["4", "x"])])
    assert rows_of(data) == expected
    assert rows_of(gzip.compress(data)) == expected
    assert rows_of(zip_of(("X.csv", data.decode(), zipfile.ZIP_DEFLATED))) == expected


def test_cr_only_invalid_utf8_names_the_line():
    with pytest.raises(DataError, match=r"X.csv: line 4 is not valid UTF-8"):
        rows_of(b"A\r1\r\r\xff\r")


class _Trickle(io.RawIOBase):
    """Hands out one byte per read, so every chunk boundary is tried."""

    def __init__(self, data):
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._data.readinto(memoryview(buffer)[:1])


@pytest.mark.parametrize(("data", "expected"), [
    (b"A,B\r\n1,2\r\n", [(2, ["1", "2"])]),  # CR at a chunk end is not taken for a line end
    (b"A,B\n1,\"x\ry\"\n", [(2, ["1", "x\ry"])]),
    (b"A,B\r1,\"x\ny\"\r", [(2, ["1", "x\ny"])]),
])
def test_line_end_found_across_chunk_boundaries(data, expected):
    rows = CsvRows(io.BufferedReader(_Trickle(data), buffer_size=1), "X.csv")
    assert rows.header == ["A", "B"] and list(rows) == expected


@pytest.mark.parametrize(("data", "complete", "line_end"), [
    (b"A,B\n", False, b"\n"), (b"A,B\r\n", False, b"\n"), (b"A,B\r1", False, b"\r"),
    (b"A,B\r", False, None), (b"A,B\r", True, b"\r"), (b"A,B", False, None),
    (b"A,B", True, b"\n"), (b"", True, b"\n"),
])
def test_line_end_of(data, complete, line_end):
    assert line_end_of(data, complete) == line_end


# ---- ranged samples --------------------------------------------------------------------------

MULTI_LINE = "multi\nline "
# 4 KB: each cut below is read from its start (quadratic); what is checked needs no more
SAMPLE_TEXT = ("ID,WHEN,NOTE\n" + "".join(
    f'{n},2024-01-{n % 28 + 1:02d},"{MULTI_LINE if n % 3 == 0 else ""}{n * 7919}"\n'
    for n in range(1, 130)))


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("compress", ["plain", "gzip", "zip"])
def test_a_sample_cut_anywhere_yields_only_whole_records(line_end, compress):
    text = SAMPLE_TEXT.replace("\n", line_end) if line_end != "\n" else SAMPLE_TEXT
    data = text.encode()
    if compress == "gzip":
        data = gzip.compress(data)
    elif compress == "zip":
        data = zip_of(("folder/", None, zipfile.ZIP_STORED), ("X.csv", text, zipfile.ZIP_DEFLATED))
    header, whole = rows_of(data)
    assert header == ["ID", "WHEN", "NOTE"] and len(whole) == 129
    for cut in range(len(data) // 3, len(data), 7):
        rows = CsvRows(io.BufferedReader(CutShort(data[:cut])), "X.csv", sample=True)
        sampled = list(rows)
        assert rows.header == header
        assert sampled == whole[:len(sampled)], cut  # never a shortened last record
    assert len(sampled) > 120


def test_a_field_of_several_megabytes_is_read_whatever_the_csv_module_limit_was():
    import csv
    memo = "é" * (3 << 20)  # 6 MB of UTF-8 in one quoted cell; the csv module's default is 128 KB
    previous = csv.field_size_limit(131072)
    try:
        header, rows = rows_of(f'RECORDNO,MEMO\n1,"{memo}"\n2,short\n'.encode())
    finally:
        csv.field_size_limit(previous)
    assert header == ["RECORDNO", "MEMO"]
    assert [(line, fields[0], len(fields[1])) for line, fields in rows] == [
        (2, "1", len(memo)), (3, "2", 5)]


# ---- nothing read short: encodings, NULs, compression (issue 25) ------------------------------

HEADED = "RECORDNO,NAME\r\n1,一丁\r\n2,b\r\n"


@pytest.mark.parametrize(("encoding", "message"), [
    ("utf-16-le", "looks like UTF-16LE text without a byte-order mark"),
    ("utf-16-be", "looks like UTF-16BE text without a byte-order mark"),
    ("utf-32-le", "looks like UTF-32LE text without a byte-order mark"),
    ("utf-32-be", "looks like UTF-32BE text without a byte-order mark"),
    ("utf-16", "is UTF-16LE text (it starts with a UTF-16LE byte-order mark)"),
    ("utf-32", "is UTF-32LE text (it starts with a UTF-32LE byte-order mark)"),
])
@pytest.mark.parametrize("sample", [False, True])
def test_utf16_and_utf32_are_refused_naming_the_encoding(encoding, message, sample):
    data = HEADED.encode(encoding)
    for packed in (data, gzip.compress(data)):
        with pytest.raises(DataError, match=rf"^X.csv: the file {re.escape(message)}.*; DDS "
                                            "writes UTF-8"):
            rows_of(packed, sample=sample)


def test_nul_in_the_header_line_is_refused_and_in_values_kept():
    with pytest.raises(DataError, match="^X.csv: its header line holds NUL bytes"):
        rows_of(b"RECORDNO,NA\x00ME\n1,2\n")
    assert rows_of(b"RECORDNO,NAME\n1,\x00\n2,a\x00\x00b\n")[1] == [
        (2, ["1", "\x00"]), (3, ["2", "a\x00\x00b"])]


def _zip_holding(name, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "what"), [
    (gzip.compress(gzip.compress(b"A\n1\n")), "gzip data"),
    (gzip.compress(zipped("A\n1\n")), "a zip archive"),
    (_zip_holding("X.csv.gz", gzip.compress(b"A\n1\n")), "gzip data"),
], ids=["gzip-in-gzip", "zip-in-gzip", "gzip-in-zip"])
def test_a_file_compressed_twice_is_refused(data, what):
    with pytest.raises(DataError, match=f"^X.csv: its content is itself {what} .the file is "
                                        "compressed twice"):
        rows_of(data)


def test_gzip_zero_padding_is_read_and_other_trailing_bytes_refused():
    members = gzip.compress(b"A\n1\n") + gzip.compress(b"2\n")
    assert rows_of(members + b"\x00" * 5000)[1] == [(2, ["1"]), (3, ["2"])]
    for trailing in (b"x", b"\x00" * 10 + b"x", b"PK\x05\x06" + b"\x00" * 18, b"\x1f"):
        with pytest.raises(DataError, match="^X.csv: "):
            rows_of(members + trailing)
    with pytest.raises(DataError, match="bytes after the end of its gzip data are not gzip"):
        rows_of(members + b"junk after the export")


def _readable_rows(data):
    """(the rows read before an error, the error's message or None)."""
    read = []
    try:
        for row in CsvRows(io.BufferedReader(io.BytesIO(data)), "X.csv"):
            read.append(row)
    except DataError as exc:
        return read, str(exc)
    return read, None


@pytest.mark.parametrize(("method", "seekable"), [
    (zipfile.ZIP_STORED, True), (zipfile.ZIP_DEFLATED, True), (zipfile.ZIP_DEFLATED, False)],
    ids=["stored", "deflated", "deflated-data-descriptor"])
def test_a_zip_holding_more_than_one_file_is_refused_naming_both(method, seekable):
    data = zip_of(("GLENTRY.1.csv", CSV_TEXT, method), ("dir/", None, zipfile.ZIP_STORED),
                  ("GLENTRY.2.csv", "A,B\n2,x\n", method), seekable=seekable)
    read, error = _readable_rows(data)
    assert read == EXPECTED[1]  # the first file's records come before the error
    assert error == ("X.csv: the zip archive holds more than one file ('GLENTRY.1.csv', then "
                     "'GLENTRY.2.csv'); the tap reads one CSV per zip archive, as DDS writes "
                     "them: zip each CSV on its own, or gzip it")


def test_a_zip_is_read_to_its_last_byte():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dir/", "")
        archive.writestr("X.csv", CSV_TEXT)
        archive.writestr("dir/later/", "")
        archive.comment = b"a comment is part of the end record"
    data = buffer.getvalue()
    assert rows_of(data) == EXPECTED
    read, error = _readable_rows(data + b"appended")
    assert read == EXPECTED[1] and error.startswith("X.csv: bytes follow the end of the zip")
    stored = zip_of(("X.csv", CSV_TEXT, zipfile.ZIP_STORED))
    damaged = stored.replace(b"2024-01-02", b"2024-01-03")  # the CRC no longer matches
    read, error = _readable_rows(damaged)
    assert error == ("X.csv: the zip archive is corrupt (the data of 'X.csv' does not match its "
                     "CRC-32 or size)")


@pytest.mark.parametrize("packing", ["gzip", "zip", "zip-descriptor", "zip64", "stored"])
def test_every_truncation_of_a_compressed_file_is_an_error(packing):
    """The audit's property: a compressed file cut anywhere is never read as a shorter whole."""
    text = "A,B\n" + "".join(f"{n},{n * 7919}\n" for n in range(80))  # every cut: kept small
    data = {"gzip": lambda: gzip.compress(text.encode()),
            "zip": lambda: zip_of(("X.csv", text, zipfile.ZIP_DEFLATED)),
            "zip-descriptor": lambda: zip_of(("X.csv", text, zipfile.ZIP_DEFLATED),
                                             seekable=False),
            "zip64": lambda: zip_of(("X.csv", text, zipfile.ZIP_DEFLATED), force_zip64=True),
            "stored": lambda: zip_of(("X.csv", text, zipfile.ZIP_STORED))}[packing]()
    assert _readable_rows(data) == (rows_of(text.encode())[1], None)
    for cut in range(4, len(data)):  # shorter than the magic bytes: plain text
        read, error = _readable_rows(data[:cut])
        assert error is not None and error.startswith("X.csv: "), cut


def test_a_bounded_read_is_strict_except_where_the_range_ends():
    data = b"A,B\n1,x\n2,caf\xe9\n3,y\n"
    with pytest.raises(DataError, match="X.csv: line 3 is not valid UTF-8"):
        list(CsvRows(io.BufferedReader(CutShort(data)), "X.csv", bounded=True))
    assert list(CsvRows(io.BufferedReader(CutShort(data)), "X.csv", sample=True))[0] == (
        2, ["1", "x"])  # a sample replaces it
    cut = b'A,B\n1,x\n2,"open\nquote'
    assert list(CsvRows(io.BufferedReader(CutShort(cut)), "X.csv", bounded=True)) == [
        (2, ["1", "x"])]
    compressed = gzip.compress(b"A,B\n" + b"".join(b"%d,x\n" % n for n in range(9000)))
    rows = CsvRows(io.BufferedReader(CutShort(compressed[:len(compressed) // 2])), "X.csv",
                   bounded=True)
    assert 100 < len(list(rows)) < 9000
    with pytest.raises(DataError, match="compressed data is corrupt or truncated"):
        rows_of(compressed[:len(compressed) // 2])  # not bounded: the whole file


@pytest.mark.parametrize(("header", "quotechar", "enclosure"), [
    (b"'RECORDNO','NAME'\n", '"', "'"), (b"RECORDNO,'NAME'\n", '"', "'"),
    (b'"RECORDNO";"NAME"\n', "'", '"')])
def test_header_names_in_the_other_quote_name_the_quotechar_setting(header, quotechar,
                                                                    enclosure):
    rows = io.BufferedReader(io.BytesIO(header + b"1,x\n"))
    with pytest.raises(DataError, match=f"X.csv: its header names are enclosed in {enclosure} "
                                        f"but 'quotechar' is {quotechar}.*; set quotechar to "
                                        f"{enclosure}"):
        CsvRows(rows, "X.csv", dialect=Dialect(None, quotechar))
