import gzip
import io
import zipfile

import pytest

from devtools.s3server import zipped
from tap_intacct.errors import DataError
from tap_intacct.reading.csvfile import CsvRows, CutShort, line_end_of


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


def test_nul_characters_are_removed_and_counted_doubled_quotes_kept():
    rows = CsvRows(io.BufferedReader(io.BytesIO(b'A,B\n"x\x00y","say ""hi"""\n')), "X.csv")
    assert list(rows) == [(2, ["xy", 'say "hi"'])]
    assert rows.nul_bytes_removed == 1


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
                  ("exports/2024/OTHER.csv", "C\n3\n", zipfile.ZIP_DEFLATED), seekable=seekable)
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
SAMPLE_TEXT = ("ID,WHEN,NOTE\n" + "".join(
    f'{n},2024-01-{n % 28 + 1:02d},"{MULTI_LINE if n % 3 == 0 else ""}{n * 7919}"\n'
    for n in range(1, 400)))


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
    assert header == ["ID", "WHEN", "NOTE"] and len(whole) == 399
    for cut in range(len(data) // 3, len(data), 7):
        rows = CsvRows(io.BufferedReader(CutShort(data[:cut])), "X.csv", sample=True)
        sampled = list(rows)
        assert rows.header == header
        assert sampled == whole[:len(sampled)], cut  # never a shortened last record
    assert len(sampled) > 390


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
