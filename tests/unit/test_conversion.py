"""Inference rules, and conversion checked against singer-python's Transformer itself."""

import copy
import datetime
import decimal
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from singer.transform import Transformer

from tap_intacct.conversion import (
    DATE_TIME_SCHEMA,
    STRICT_SCHEMAS,
    ColumnTypes,
    ValueMismatch,
    converter_for,
    infer_value,
)

INTEGER_SCHEMA = {"type": ["null", "integer", "string"]}
NUMBER_SCHEMA = {"type": ["null", "number", "string"]}
STRING_SCHEMA = {"type": ["null", "string"]}


def singer_transform(text, schema):
    # copy: the Transformer reorders a schema's type list in place
    ok, value = Transformer().transform_recur(text, copy.deepcopy(schema), [])
    assert ok
    return value


@pytest.mark.parametrize("text, kind", [
    ("0", "integer"), ("42", "integer"), ("-7", "integer"), ("9223372036854775807", "integer"),
    ("9223372036854775808", "string"), ("-9223372036854775809", "string"),
    ("0100", "string"), ("+5", "string"), (" 5", "string"), ("5 ", "string"), ("1,000", "string"),
    ("1_000", "string"), ("NaN", "string"), ("inf", "string"), ("-Infinity", "string"),
    ("1e5", "string"), ("１２", "string"), ("12.50", "number"), ("-0.01", "number"),
    ("0.5", "number"), (".5", "string"), ("5.", "string"), ("00.5", "string"),
    ("2024-01-02", "date-time"), ("2024-1-2", "date-time"), ("2024-01-02T03:04:05Z", "date-time"),
    ("2024-01-02 03:04:05", "date-time"), ("2024-01-02T03:04:05.123+05:30", "date-time"),
    ("01/02/2024", "string"), ("C-0001", "string"), ("T", "string"),
])
def test_infer_value(text, kind):
    assert infer_value(text) == kind


def schema_of(*values):
    types = ColumnTypes()
    for value in values:
        types.add_sample("c", value)
    return types.schema_for("c")


def test_column_schema_rules():
    assert schema_of("1", "2", "") == INTEGER_SCHEMA
    assert schema_of("1", "2.5") == NUMBER_SCHEMA
    assert schema_of("1", "0100") == STRING_SCHEMA
    assert schema_of("1", "2024-01-02") == DATE_TIME_SCHEMA  # any date makes it date-time
    assert schema_of("", "") == STRING_SCHEMA
    assert schema_of() == STRING_SCHEMA


def test_merged_column_types_union_the_kinds_seen():
    newest, older = ColumnTypes(), ColumnTypes()
    for name, value in [("B", "1"), ("A", "2.5")]:
        newest.add_sample(name, value)
    for name, value in [("A", "1"), ("C", ""), ("B", "x")]:
        older.add_sample(name, value)
    merged = ColumnTypes()
    merged.merge(newest)
    merged.merge(older)
    assert list(merged.seen) == ["B", "A", "C"]  # the first file's order, then new columns
    assert merged.seen == {"B": {"integer", "string"}, "A": {"number", "integer"}, "C": set()}
    assert merged.schema_for("A") == NUMBER_SCHEMA and merged.schema_for("B") == STRING_SCHEMA


# ---- equivalence with singer-python's Transformer --------------------------------------------

number_like = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.from_regex(r"[ +-]?[0-9,_]{0,12}(\.[0-9]{0,8})?([eE][+-]?[0-9]{1,3})? ?", fullmatch=True),
    st.sampled_from(["NaN", "nan", "inf", "-Infinity", "1e400", "0x10", "１２", "1,234.50"]),
    st.text(max_size=12),
)


@settings(max_examples=600, deadline=None)
@given(number_like)
def test_integer_column_matches_transformer(text):
    ours = converter_for(INTEGER_SCHEMA)(text)
    if text == "":
        assert ours is None  # deliberate: empty cell in a typed column is null
        return
    theirs = singer_transform(text, INTEGER_SCHEMA)
    assert ours == theirs and type(ours) is type(theirs)


@settings(max_examples=600, deadline=None)
@given(number_like)
def test_number_column_matches_transformer_with_exact_digits(text):
    ours = converter_for(NUMBER_SCHEMA)(text)
    if text == "":
        assert ours is None
        return
    theirs = singer_transform(text, NUMBER_SCHEMA)
    if isinstance(theirs, str):
        assert ours == theirs
    elif not math.isfinite(theirs):
        # float() overflowed or gave NaN: either the exact finite value, or the text itself
        assert ours == text or (isinstance(ours, decimal.Decimal) and ours.is_finite())
    else:
        assert isinstance(ours, decimal.Decimal)
        assert float(ours) == theirs
        assert ours == decimal.Decimal(text.replace(",", ""))  # every digit kept


iso_moments = st.datetimes(min_value=datetime.datetime(1, 1, 2),
                           max_value=datetime.datetime(9999, 12, 30),
                           timezones=st.one_of(st.none(), st.timezones()))
date_like = st.one_of(
    iso_moments.map(lambda m: m.isoformat()),
    iso_moments.map(lambda m: m.isoformat(sep=" ", timespec="seconds")),
    iso_moments.map(lambda m: m.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%SZ")),
    iso_moments.map(lambda m: m.date().isoformat()),
    st.from_regex(r"[0-9]{4}-[01]?[0-9]-[0-3]?[0-9]([T ][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?"
                  r"(Z|[+-][0-2][0-9]:?[0-5][0-9])?", fullmatch=True),
    st.sampled_from(["01/02/2024", "2024-02-30", "2024-13-01", "Jan 5 2024", "24:00",
                     "2024-01-02T24:00:00", "0001-01-01T00:00:00+01:00", "not a date"]),
    st.text(max_size=20),
)


@settings(max_examples=800, deadline=None)
@given(date_like)
def test_date_time_column_matches_transformer(text):
    assert converter_for(DATE_TIME_SCHEMA)(text) == singer_transform(text, DATE_TIME_SCHEMA)


@given(st.one_of(st.text(), st.none()))
def test_string_column_matches_transformer(text):
    convert = converter_for(STRING_SCHEMA)
    ours = text if convert is None else convert(text)
    assert ours == singer_transform(text, STRING_SCHEMA)


def test_missing_cells_are_null():
    for schema in (INTEGER_SCHEMA, NUMBER_SCHEMA, DATE_TIME_SCHEMA):
        assert converter_for(schema)(None) is None


def test_exact_decimal_examples():
    assert str(converter_for(NUMBER_SCHEMA)("1234.50")) == "1234.50"
    assert str(converter_for(NUMBER_SCHEMA)("0.10")) == "0.10"
    assert str(converter_for(NUMBER_SCHEMA)("1,000.005")) == "1000.005"
    assert converter_for(NUMBER_SCHEMA)("NaN") == "NaN"


def test_type_order_as_singer_reads_it():
    assert converter_for({"type": ["integer", "string", "null"]})("1,000") == 1000
    assert converter_for({"type": ["string", "null"]}) is None
    assert converter_for({"type": ["null", "string", "integer"]})("5") == "5"  # string first


def test_hand_edited_schema_uses_transformer():
    convert = converter_for({"type": ["null", "boolean"]})
    assert convert("false") is False and convert("x") is True
    with pytest.raises(ValueError, match="does not match"):
        converter_for({"type": "integer"})("abc")


# ---- without the string fallback (string_fallback = false) ------------------------------------

def singer_or_failure(text, schema):
    ok, value = Transformer().transform_recur(text, copy.deepcopy(schema), [])
    return (ok, value)


@settings(max_examples=400, deadline=None)
@given(st.one_of(number_like, date_like, st.none()))
def test_strict_columns_match_transformer_or_refuse(text):
    for kind, schema in STRICT_SCHEMAS.items():
        ok, theirs = singer_or_failure(text, schema)
        convert = converter_for(schema)
        if not ok:
            with pytest.raises(ValueMismatch):
                convert(text)
            continue
        if isinstance(theirs, float) and not math.isfinite(theirs):
            # float gave NaN/Infinity, which JSON cannot hold: refused, or the exact finite value
            try:
                ours = convert(text)
            except ValueMismatch:
                continue
            assert isinstance(ours, decimal.Decimal) and ours.is_finite()
            continue
        ours = convert(text)
        if kind == "number" and isinstance(theirs, float):
            assert isinstance(ours, decimal.Decimal) and float(ours) == theirs
        else:
            assert ours == theirs


def test_strict_schemas_from_inference():
    types = ColumnTypes()
    for name, value in (("I", "1"), ("N", "1.5"), ("D", "2024-01-02"), ("S", "x")):
        types.add_sample(name, value)
    assert types.schema_for("I", string_fallback=False) == {"type": ["null", "integer"]}
    assert types.schema_for("N", string_fallback=False) == {"type": ["null", "number"]}
    assert types.schema_for("D", string_fallback=False) == {"type": ["null", "string"],
                                                           "format": "date-time"}
    assert types.schema_for("S", string_fallback=False) == STRING_SCHEMA
