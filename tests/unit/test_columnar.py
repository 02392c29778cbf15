"""The fast engine against the row path, in-process: identical output text and error line on an
edge-case corpus and on hypothesis-generated files, with chunks small enough that every file is
cut into many (so chunk edges, fallbacks mid-file and the row path's resumption are exercised)."""

import copy
import csv
import gzip
import io
import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.localsync import catalog_for, sync_bytes
from devtools.s3server import zipped
from tap_intacct.dds.catalog import stream_entry
from tap_intacct.engines import chunks, columnar
from tap_intacct.reading.dialect import DEFAULT_DIALECT, Dialect
from tap_intacct.values.conversion import DATE_TIME_SCHEMA, STRICT_SCHEMAS
from tests.support import CORPUS, TYPED, examples

pytest.importorskip("pyarrow")


@pytest.fixture(params=[64, 1 << 20], ids=["tiny-chunks", "large-chunks"], autouse=True)
def chunk_bytes(request, monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_BYTES", request.param)
    monkeypatch.setattr(columnar, "CHUNK_BYTES", request.param)
    return request.param


def both_engines(data, catalog=None, dialect=DEFAULT_DIALECT):
    """(output, error) of each engine, checked equal; also the fast engine's log lines."""
    catalog = catalog or catalog_for(data, dialect=dialect)
    rows = sync_bytes(data, catalog, "rows", dialect=dialect)
    fast = sync_bytes(data, catalog, "fast", dialect=dialect)
    assert fast[1] == rows[1]
    assert fast[0].getvalue() == rows[0].getvalue()
    return rows[0].getvalue(), rows[1]


def strict(catalog):
    for stream in catalog["streams"]:
        for name, schema in stream["schema"]["properties"].items():
            if schema == DATE_TIME_SCHEMA:
                stream["schema"]["properties"][name] = dict(STRICT_SCHEMAS["date-time"])
            elif schema in ({"type": ["null", "integer", "string"]},
                            {"type": ["null", "number", "string"]}):
                kind = schema["type"][1]
                stream["schema"]["properties"][name] = dict(STRICT_SCHEMAS[kind])
    return catalog


def annotated(catalog):
    for stream in catalog["streams"]:
        for schema in stream["schema"]["properties"].values():
            if isinstance(schema, dict):
                schema["description"] = "annotated"
    return catalog




@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize("schemas", ["discovered", "strict", "annotated"])
def test_edge_cases_are_identical(name, schemas):
    data = CORPUS[name]
    decompressed = gzip.decompress(data) if name == "gzip" else (
        TYPED.encode() if name in ("zip", "truncated gzip") else data)
    variant = {"discovered": lambda catalog: catalog, "strict": strict,
               "annotated": annotated}[schemas]
    both_engines(data, variant(copy.deepcopy(catalog_for(decompressed))))


def test_a_misfit_without_fallback_names_the_same_line():
    data = TYPED.encode() + b"0100,1.5,2024-01-01 10:00:00,x\n"
    output, error = both_engines(data, strict(catalog_for(TYPED.encode())))
    assert "line 61, column RECORDNO" in error and output.count('"type":"RECORD"') == 59


def test_the_fast_engine_reads_plain_files_itself(caplog):
    caplog.set_level(logging.INFO, logger="tap_intacct")
    both_engines(CORPUS["quoted newlines"])
    assert "fast engine: all 39 record(s)" in caplog.text


CELLS = st.one_of(
    st.sampled_from(["", "0", "-0", "7", "0100", "1.50", "-2.5", "1e5", "12345678901234567890",
                     "2024-01-02 03:04:05", "2024-01-02T03:04:05Z", "2024-02-30 00:00:00",
                     "2024-01-02", "7\n", "1.5\n", "2024-01-02 03:04:05\n", "delete",
                     "DELETE ", "create", '"', '""', "a,b", "\n",
                     "\r\n", "x\ny", "\x7f", "é", "\U0001f600", "\\", " ", "\x00", "\r"]),
    st.text(max_size=6),
)
SCHEMAS = [{"type": ["null", "string"]}, {"type": ["null", "integer", "string"]},
           {"type": ["null", "number", "string"]}, DATE_TIME_SCHEMA,
           *STRICT_SCHEMAS.values(), {"type": ["null", "number", "string"], "title": "t"}, True,
           {"type": ["null", "boolean"]}]


@st.composite
def generated_files(draw):
    header = draw(st.lists(st.sampled_from(["RECORDNO", "A", "B", "ddsChangeType",
                                            "ddsReadTime", "A"]), min_size=1, max_size=5))
    width = len(header)
    ragged = draw(st.booleans())
    rows = draw(st.lists(st.lists(CELLS, min_size=width - ragged, max_size=width + ragged),
                         min_size=0, max_size=25))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(header)
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    catalog = catalog_for(b"RECORDNO\n")
    from tap_intacct.dds import columns
    from tap_intacct.dds.catalog import stream_entry
    properties = {name: draw(st.sampled_from(SCHEMAS))
                  for name in columns.unique_header(header, "f.csv")}
    entry = stream_entry("GLENTRY", properties)
    entry["metadata"][0]["metadata"]["selected"] = True
    catalog = {"streams": [entry]}
    return data, catalog


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(generated_files())
def test_generated_files_are_identical(case):
    data, catalog = case
    both_engines(data, catalog)


class _CountingSource:
    """A binary stream that counts the bytes read from it."""

    def __init__(self, data):
        self._data = io.BytesIO(data)
        self.bytes_read = 0

    def read1(self, size=-1):
        data = self._data.read1(size)
        self.bytes_read += len(data)
        return data


def test_a_header_the_fast_engine_cannot_follow_is_left_at_once(chunk_bytes):
    """A stray quote in a header name: the fast engine reads up to the header's line end, not
    up to MAX_CHUNK_BYTES looking for a record end that quote parity never gives."""
    data = b'RECORDNO,SIZE"IN,AMOUNT\n' + b"1,2,3.50\n" * 200_000
    source = _CountingSource(data)
    start, error = columnar._first_bytes(source)
    header_end = columnar._header_end(start, error)
    assert error is None and header_end == len(b'RECORDNO,SIZE"IN,AMOUNT\n')
    assert not columnar._followable(start, header_end, b",", b'"')
    assert source.bytes_read <= max(chunk_bytes, 64)


DIALECT_CELLS = st.one_of(
    st.sampled_from(["", "0", "0100", "1.50", "-2.5", "2024-01-02 03:04:05", "a,b", "a;b", "a|b",
                     "a\tb", '"', "'", "''", '""', "x\ny", "x\r\ny", "é", " ", "delete"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5),
)


@st.composite
def dialect_files(draw):
    """(bytes as DDS writes them in one dialect, the CSV text, the dialect, setting given?)."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quotechar = draw(st.sampled_from(['"', "'"]))
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = ["RECORDNO", "AMOUNT", "NOTE"][:draw(st.integers(2, 3))]
    rows = draw(st.lists(st.lists(DIALECT_CELLS, min_size=len(header), max_size=len(header)),
                         max_size=20))
    if line_end == "\r":  # a CR-only file cannot hold a bare CR in a value, nor LF
        rows = [[cell.replace("\r", "").replace("\n", "") for cell in row] for row in rows]
    quote_all = draw(st.booleans())

    def enclosed(cell):  # as DDS encloses: always, or when the cell needs it
        if quote_all or any(c in cell for c in (delimiter, quotechar, "\r", "\n")):
            return quotechar + cell.replace(quotechar, quotechar * 2) + quotechar
        return cell
    text = "".join(delimiter.join(map(enclosed, row)) + line_end for row in [header, *rows])
    data = text.encode("utf-8")
    compression = draw(st.sampled_from(["none", "gzip", "zip"]))
    stored = {"none": data, "gzip": gzip.compress(data) if data else data,
              "zip": zipped(data)}[compression]
    configured = draw(st.booleans())
    return stored, text, Dialect(delimiter if configured else None, quotechar)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(dialect_files())
def test_every_dialect_is_read_alike_by_both_engines_and_the_csv_module(case):
    """Both engines agree byte for byte, and every record's cells are those Python's csv module
    reads from the text with the same dialect (the slow reference)."""
    data, text, dialect = case
    delimiter = dialect.delimiter or next(d for d in [",", ";", "\t", "|"]
                                          if d in text.split("\n")[0].split("\r")[0])
    expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                               quotechar=dialect.quotechar, strict=True))
    header, rows = expected[0], [row for row in expected[1:] if row]
    properties = {name: {"type": ["null", "string"]} for name in header}
    entry = stream_entry("GLENTRY", properties)
    entry["metadata"][0]["metadata"]["selected"] = True
    output, error = both_engines(data, {"streams": [entry]}, dialect)
    assert error is None
    records = [json.loads(line)["record"] for line in output.splitlines()]
    assert [[record[name] for name in header] for record in records] == rows
