"""The fast engine's pieces: chunk cutting, byte checks, resumption of the row path, and the
vectorised checks against the row path's own definitions."""

import datetime
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_intacct.engines.chunks import Chained, Chunk, Chunks, NotFast, record_end, record_lines
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.values.conversion import DDS_DATE_TIME, Misfit, date_time_value
from tap_intacct.values.encoding import encode_string
from tests.support import examples

pa = pytest.importorskip("pyarrow")
fragments = pytest.importorskip("tap_intacct.engines.fragments")


def test_record_end_follows_quotes():
    assert record_end(b'1,"a\nb"\n2,"c\n') == 8
    assert record_end(b'1,"a\nb') == 0
    assert record_end(b'1,a\n2,b\n') == 8


def test_chunks_end_at_records_and_count_lines(monkeypatch):
    from tap_intacct.engines import chunks
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 4)
    data = b'1,"x\ny"\n2,b\n3,c'
    cut = Chunks(io.BufferedReader(io.BytesIO(data)), b"", lines_before=1)
    found = list(cut)
    assert b"".join(chunk.data for chunk in found) + cut.carry == data
    assert [chunk.lines_before for chunk in found] == [1, 3]
    assert cut.carry == b"3,c" and cut.finished


@pytest.mark.parametrize("data, reason", [
    (b'1,a\x00\n', "NUL"), (b"1,a\rb\n", "CR"), (b'1,"a\n', "open"),
    (b'1,a"b"\n', "unquoted"), (b'1,"a"b\n', "closing"),
])
def test_byte_checks(data, reason):
    with pytest.raises(NotFast, match=reason):
        record_lines(Chunk(data, 1))


def test_record_lines_are_physical_lines():
    lines = record_lines(Chunk(b'1,"a\nb"\r\n2,""""\n3,"x\n\ny"\n4,z\n', 5))
    assert lines.tolist() == [6, 8, 9, 12]


def test_resume_reads_like_the_whole_file():
    data = b"\xef\xbb\xbfA,B\n1,x\n2,\"y\nz\"\n3,w\n"
    whole = list(CsvRows(io.BufferedReader(io.BytesIO(data)), "F"))
    start = data.index(b"2,")
    resumed = CsvRows.resume(Chained([data[start:]]), "F", header=["A", "B"], lines_before=2,
                             line_end=b"\n")
    assert list(resumed) == whole[1:]


def test_chained_raises_the_read_error_after_its_bytes():
    stream = Chained([b"ab", b"c"], None, EOFError("cut"))
    assert stream.read1(2) == b"ab" and stream.read1(5) == b"c"
    with pytest.raises(EOFError):
        stream.read1(5)


digits = st.text("0123456789", min_size=2, max_size=4)
shapes = st.builds(lambda y, m, d, sep, h, mi, s, z: f"{y}-{m}-{d}{sep}{h}:{mi}:{s}{z}",
                   st.text("0123456789", min_size=4, max_size=4), digits.map(lambda t: t[:2]),
                   digits.map(lambda t: t[:2]), st.sampled_from("T x"),
                   digits.map(lambda t: t[:2]), digits.map(lambda t: t[:2]),
                   digits.map(lambda t: t[:2]), st.sampled_from(["", "Z", "+01:00", "z"]))


@settings(max_examples=examples(500), deadline=None)
@given(st.lists(st.one_of(shapes, st.text(max_size=21)), max_size=20))
def test_dds_date_times_accepts_what_the_row_path_rearranges(texts):
    accepted = fragments.dds_date_times(pa.array(texts, pa.string())).tolist()
    for text, ok in zip(texts, accepted, strict=True):
        real = bool(DDS_DATE_TIME.fullmatch(text))
        if real:
            try:
                datetime.datetime.fromisoformat(text[:19])
            except ValueError:
                real = False
        assert ok == real, text
        if ok:
            assert date_time_value(text) == text[:10] + "T" + text[11:19] + ".000000Z"
        else:  # the row path refuses it, or reads another shape (an offset, a fraction) to UTC
            try:
                value = date_time_value(text)
            except Misfit:
                continue
            assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                r"\.[0-9]{6}Z", value), (text, value)


@given(st.lists(st.text(max_size=6), max_size=20))
def test_plain_cells_are_those_encode_string_only_quotes(texts):
    plain = fragments.plain_cells(pa.array(texts, pa.string())).tolist()
    assert plain == [encode_string(text) == f'"{text}"' for text in texts]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.one_of(st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,4})?", fullmatch=True),
                          st.sampled_from(["-0", "-0.00", "-0.10", "0100", "1e5", "+5"]),
                          st.text(max_size=6)), min_size=1, max_size=20))
def test_arrow_reads_the_shared_number_patterns_as_python_does(texts):
    """The fast engine hands conversion.py's patterns to Arrow's RE2: same answers required
    (a look-around, which RE2 lacks, would send every chunk to the row path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from tap_intacct.values.conversion import DECIMAL, SHORT_INTEGER
    for pattern in (SHORT_INTEGER, DECIMAL):
        arrow = pc.match_substring_regex(pa.array(texts), "^(?:" + pattern.pattern + ")$")
        assert arrow.to_pylist() == [bool(pattern.fullmatch(t)) for t in texts]
