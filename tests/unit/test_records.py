"""Record assembly: the fast %-template builder against the slow reference (dict + json.dumps),
and every emitted value against the cell text it came from (DESIGN §6)."""

import datetime
import decimal
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_intacct.dds import columns
from tap_intacct.dds.catalog import selected_streams, stream_entry
from tap_intacct.dds.files import StoredFile
from tap_intacct.engines.records import (
    COLUMN,
    CONSTANT,
    EXTRA,
    KeySource,
    RecordLayout,
    StreamRecords,
)
from tap_intacct.values.conversion import DATE_TIME_SCHEMA, STRICT_SCHEMAS, Misfit
from tests.reference_records import reference_json, reference_record
from tests.support import as_utc, date_like, examples, number_like

STORED = StoredFile("dds/ACME/GLENTRY.change.1.csv", 10,
                    datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.timezone.utc))
COLUMN_SCHEMAS = [
    {"type": ["null", "string"]},
    {"type": ["null", "integer", "string"]},
    {"type": ["null", "number", "string"]},
    DATE_TIME_SCHEMA,
    *STRICT_SCHEMAS.values(),
    {"type": ["null", "number", "string"], "description": "annotated"},
    {"type": ["number", "string", "null"], "title": "T", "maxLength": 9},
    {"type": ["null", "string"], "format": "date-time", "description": "strict, annotated"},
    {"type": "string"},
    True,
    {"type": ["null", "number"], "minimum": 0},
    {"type": ["null", "boolean"]},
]
names = st.one_of(
    st.sampled_from(["RECORDNO", "AMOUNT", "ddsChangeType", "ddsReadTime", "A", "A", "",
                     " ", "100%", 'say "hi"', "%s", "é", "column_4", "A__2"]),
    st.text(max_size=6),
)
cells = st.one_of(
    number_like, date_like,
    st.sampled_from(["", "delete", "DELETE ", "create", "2024-01-02 03:04:05", "%d", "%%",
                     '"', "\\", "\u2028", "\x7f", "\U0001f600", "true", "no"]),
    st.text(max_size=8),
)


@st.composite
def files(draw):
    header = draw(st.lists(names, min_size=0, max_size=7))
    unique = columns.unique_header(header, "f.csv")
    properties = {name: draw(st.sampled_from(COLUMN_SCHEMAS)) for name in unique}
    entry = stream_entry("GLENTRY", properties)
    # older or hand-made catalogs lack some _sdc_* columns
    for sdc in draw(st.sets(st.sampled_from(sorted(columns.TAP_COLUMNS)))):
        entry["schema"]["properties"].pop(sdc, None)
    legacy = draw(st.booleans())
    deselected = draw(st.sets(st.sampled_from(unique))) if unique else set()
    for item in entry["metadata"]:
        if item["breadcrumb"] == []:
            item["metadata"]["selected"] = True
            if legacy:  # singer-io's tap-intacct: a bare string key, every column automatic
                keys = item["metadata"]["table-key-properties"]
                item["metadata"]["table-key-properties"] = keys[0] if keys else []
        elif legacy:
            item["metadata"] = {"inclusion": "automatic"}
        elif item["breadcrumb"][-1] in deselected:
            item["metadata"]["selected"] = False
    width = len(header)
    rows = draw(st.lists(st.lists(cells, min_size=max(width - 2, 1), max_size=width + 2),
                         min_size=1, max_size=6))
    return header, {"streams": [entry]}, rows


def assert_renders_back(value, text):
    """The contract, checked independently of the tap's helpers."""
    if value is None:
        assert not text
    elif isinstance(value, bool):
        assert text == json.dumps(value)
    elif isinstance(value, (int, decimal.Decimal)):
        assert str(value) == text
    elif value != text:  # the one normalisation: ISO date-times to UTC ...Z
        assert value.endswith("Z") and as_utc(value[:-1]) == as_utc(text) is not None


@settings(max_examples=examples(100), deadline=None)
@given(files())
def test_fast_record_equals_reference_and_renders_back(case):
    header, catalog, rows = case
    stream = StreamRecords(selected_streams(catalog)[0])
    build, _unknown = stream.for_file("bucket-1", STORED, header)
    for line, fields in enumerate(rows, start=2):
        try:
            reference = reference_record(stream, build, line, fields)
        except Misfit:
            with pytest.raises(Misfit):
                build.build(line, fields)
            continue
        fast = build.build(line, fields)
        assert fast == reference_json(reference)
        parsed = json.loads(fast, parse_float=decimal.Decimal)
        assert list(parsed) == list(reference)
        for member in build.layout.members:
            if member.source == COLUMN:
                text = fields[member.position] if member.position < len(fields) else None
                assert_renders_back(parsed[member.key], text)
            elif member.source == CONSTANT:
                assert parsed[member.key] == member.value
            elif member.source == EXTRA and len(fields) > len(header):
                assert parsed[member.key] == fields[len(header):]


def layout_records(emitted, header):
    stream = StreamRecords(selected_streams({"streams": [emitted]})[0])
    return stream.for_file("b", STORED, header)[0]


def test_a_record_of_only_extra_values_is_valid_json():
    entry = stream_entry("T", {})
    entry["metadata"][0]["metadata"]["selected"] = True
    for sdc in (columns.SOURCE_BUCKET, columns.SOURCE_FILE, columns.SOURCE_LINENO):
        entry["schema"]["properties"].pop(sdc)
    build = layout_records(entry, [])
    assert json.loads(build.build(2, ["x", "y"])) == {columns.EXTRA: ["x", "y"]}
    assert json.loads(build.build(3, [])) == {}


def test_layout_lists_every_member_with_its_source():
    entry = stream_entry("T", {"RECORDNO": {"type": ["null", "integer", "string"]},
                               "ddsChangeType": {"type": ["null", "string"]}})
    entry["metadata"][0]["metadata"]["selected"] = True
    build = layout_records(entry, ["ddsChangeType", "RECORDNO"])
    assert [(m.key, m.source) for m in build.layout.members] == [
        ("ddsChangeType", "column"), ("RECORDNO", "column"),
        (columns.SOURCE_BUCKET, "constant"), (columns.SOURCE_FILE, "constant"),
        (columns.DELETED_AT, "deleted_at"), (columns.SOURCE_LINENO, "lineno"),
        (columns.EXTRA, "extra")]
    record = json.loads(build.build(7, ["delete", "0100"]))
    assert record["RECORDNO"] == "0100"
    assert record[columns.DELETED_AT] == "2024-03-01T12:00:00.000000Z"  # no ddsReadTime


def test_a_layout_out_of_order_is_refused():
    entry = stream_entry("T", {"A": {"type": ["null", "string"]}})
    entry["metadata"][0]["metadata"]["selected"] = True
    stream = StreamRecords(selected_streams({"streams": [entry]})[0])
    layout = RecordLayout((KeySource(columns.SOURCE_FILE, CONSTANT, value="k"),
                           KeySource("A", COLUMN, position=0)), ("A",))
    from tap_intacct.engines.records import FileRecords
    with pytest.raises(ValueError, match="order"):
        FileRecords(stream, layout, STORED)
