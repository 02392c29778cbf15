import gzip
import io

import pytest

from devtools.s3server import zipped
from tap_intacct.csvfile import CsvRows
from tap_intacct.errors import DataError


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
