"""The conversion contract (DESIGN §6), inference rules, and singer-python's Transformer as the
reference for every text that fits its column."""

import copy
import decimal
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from singer.transform import Transformer

from tap_intacct.values.conversion import (
    DATE_TIME_SCHEMA,
    STRICT_SCHEMAS,
    ColumnTypes,
    Misfit,
    converter_for,
    infer_value,
)
from tests.support import INTEGER_SCHEMA, NUMBER_SCHEMA, as_utc, date_like, examples, number_like

STRING_SCHEMA = {"type": ["null", "string"]}
# The README's date-time shapes, written out independently of the tap's own patterns.
ISO_DATE_OR_DATE_TIME = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}"
                         r"(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")
FALLBACK_SCHEMAS = {"integer": INTEGER_SCHEMA, "number": NUMBER_SCHEMA,
                    "date-time": DATE_TIME_SCHEMA}


def singer_transform(text, schema):
    # copy: the Transformer reorders a schema's type list in place
    ok, value = Transformer().transform_recur(text, copy.deepcopy(schema), [])
    assert ok
    return value


@pytest.mark.parametrize("text, kind", [
    ("0", "integer"), ("42", "integer"), ("-7", "integer"), ("9223372036854775807", "integer"),
    ("-9223372036854775808", "integer"),
    ("9223372036854775808", "number"), ("-9223372036854775809", "number"), ("-0", "string"),
    ("-0.00", "string"), ("-0.01", "number"),
    ("0100", "string"), ("+5", "string"), (" 5", "string"), ("5 ", "string"), ("1,000", "string"),
    ("1_000", "string"), ("NaN", "string"), ("inf", "string"), ("-Infinity", "string"),
    ("1e5", "string"), ("１２", "string"), ("12.50", "number"), ("-0.01", "number"),
    ("0.5", "number"), (".5", "string"), ("5.", "string"), ("00.5", "string"), ("1,5", "string"),
    ("0100.50", "string"),
    ("2024-01-02", "date-time"), ("2024-01-02T03:04:05Z", "date-time"),
    ("2024-01-02 03:04:05", "date-time"), ("2024-01-02T03:04:05.123+05:30", "date-time"),
    ("2024-01-02T03:04", "date-time"), ("2024-01-02T03:04:05+0530", "date-time"),
    ("2024-1-2", "string"), ("2024-02-30", "string"), ("2024-01-02T24:00:00", "string"),
    ("0001-01-01T00:00:00+01:00", "string"), ("12", "integer"), ("March", "string"),
    ("Monday", "string"), ("01/02/2024", "string"), ("C-0001", "string"), ("T", "string"),
])
def test_infer_value(text, kind):
    assert infer_value(text) == kind


def schema_of(*values):
    types = ColumnTypes()
    for value in values:
        types.add_sample("c", value)
    return types.schema_for("c")


def test_a_column_is_typed_only_if_every_sampled_cell_fits():
    assert schema_of("1", "2", "") == INTEGER_SCHEMA
    assert schema_of("1", "2.5") == NUMBER_SCHEMA
    assert schema_of("1", "0100") == STRING_SCHEMA
    assert schema_of("2024-01-02", "2024-01-03T04:05:06Z", "") == DATE_TIME_SCHEMA
    assert schema_of("free text", "2024-01-05") == STRING_SCHEMA  # one date does not decide
    assert schema_of("12", "2024-01-05") == STRING_SCHEMA
    assert schema_of("", "") == STRING_SCHEMA
    assert schema_of() == STRING_SCHEMA


def test_merged_samples_follow_the_same_rule():
    first, second = ColumnTypes(), ColumnTypes()
    first.add_sample("c", "2024-01-02")
    second.add_sample("c", "12")
    second.add_column("d")
    first.merge(second)
    assert first.schema_for("c") == STRING_SCHEMA
    assert first.schema_for("d") == STRING_SCHEMA




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


# ---- the contract: every value renders back to its text, or stays the text -------------------

def assert_lossless(kind, text, value):
    """The contract, checked without the tap's own helpers."""
    if text in (None, ""):
        assert value is None
    elif isinstance(value, str) and value == text:
        pass  # kept as written
    elif kind == "integer":
        assert type(value) is int and str(value) == text and -2 ** 63 <= value < 2 ** 63
    elif kind == "number":
        assert isinstance(value, decimal.Decimal) and str(value) == text
    else:
        assert isinstance(value, str) and value.endswith("Z") and len(value) == 27
        assert re.fullmatch(ISO_DATE_OR_DATE_TIME, text), text  # only the documented shapes
        assert as_utc(value[:-1]) == as_utc(text)


@settings(max_examples=examples(150), deadline=None)
@given(st.one_of(number_like, date_like))
def test_with_fallback_every_value_renders_back_or_stays_text(text):
    for kind, schema in FALLBACK_SCHEMAS.items():
        assert_lossless(kind, text, converter_for(schema)(text))


@settings(max_examples=examples(150), deadline=None)
@given(st.one_of(number_like, date_like))
def test_without_fallback_a_misfit_is_refused(text):
    for kind, schema in STRICT_SCHEMAS.items():
        fallback = converter_for(FALLBACK_SCHEMAS[kind])(text)
        try:
            strict = converter_for(schema)(text)
        except Misfit:
            assert fallback == text  # refused exactly what the fallback keeps as text
            continue
        assert strict == fallback
        if kind != "date-time":
            assert not isinstance(strict, str)
        elif strict is not None:
            assert len(strict) == 27 and strict.endswith("Z")  # normalised, not kept as text


@settings(max_examples=examples(150), deadline=None)
@given(st.one_of(number_like, date_like))
def test_values_that_fit_agree_with_singer_transformer(text):
    if not text:
        return
    for kind, schema in FALLBACK_SCHEMAS.items():
        ours = converter_for(schema)(text)
        if isinstance(ours, str) and ours == text:
            continue
        theirs = singer_transform(text, schema)
        if kind == "number":
            assert float(ours) == theirs
        else:
            assert ours == theirs


@pytest.mark.parametrize("text", ["0100", "+5", "1,000", "1_000", " 7", "00", "-0",
                                  "18446744073709551616"])
def test_integer_misfits(text):
    assert converter_for(INTEGER_SCHEMA)(text) == text
    with pytest.raises(Misfit):
        converter_for(STRICT_SCHEMAS["integer"])(text)


@pytest.mark.parametrize("text", ["1,5", "1.234,5", "0100.50", "NaN", "1e5", "Infinity", "-0",
                                  "-0.00"])
def test_number_misfits(text):
    assert converter_for(NUMBER_SCHEMA)(text) == text
    with pytest.raises(Misfit):
        converter_for(STRICT_SCHEMAS["number"])(text)


@pytest.mark.parametrize("text", ["12", "1.5", "March", "Monday", "2024-02-30", "24:00"])
def test_date_time_misfits_never_take_a_date_from_the_clock(text):
    assert converter_for(DATE_TIME_SCHEMA)(text) == text
    with pytest.raises(Misfit):
        converter_for(STRICT_SCHEMAS["date-time"])(text)


def test_exact_values():
    assert str(converter_for(NUMBER_SCHEMA)("1234.50")) == "1234.50"
    assert str(converter_for(NUMBER_SCHEMA)("12345678901234567.89")) == "12345678901234567.89"
    assert converter_for(INTEGER_SCHEMA)("9223372036854775807") == 2 ** 63 - 1
    assert converter_for(DATE_TIME_SCHEMA)("2024-01-02 03:04:05") == "2024-01-02T03:04:05.000000Z"
    assert converter_for(DATE_TIME_SCHEMA)("2024-01-02T03:04:05+05:30") == (
        "2024-01-01T21:34:05.000000Z")
    for schema in (*FALLBACK_SCHEMAS.values(), *STRICT_SCHEMAS.values()):
        assert converter_for(schema)(None) is None
        assert converter_for(schema)("") is None


@given(st.one_of(st.text(), st.none()))
def test_string_column_matches_transformer(text):
    convert = converter_for(STRING_SCHEMA)
    ours = text if convert is None else convert(text)
    assert ours == singer_transform(text, STRING_SCHEMA)


# ---- catalog schemas that are not the discovered ones ----------------------------------------

@pytest.mark.parametrize("schema, discovered", [
    ({"type": ["null", "number", "string"], "description": "Amount"}, NUMBER_SCHEMA),
    ({"type": ["number", "string", "null"], "title": "x", "maxLength": 40}, NUMBER_SCHEMA),
    ({"type": ["null", "integer"], "description": "strict"}, STRICT_SCHEMAS["integer"]),
    ({"anyOf": [{"type": ["null", "string"], "format": "date-time", "description": "d"},
                {"type": ["null", "string"]}], "title": "When"}, DATE_TIME_SCHEMA),
    ({"type": "string", "description": "text"}, {"type": ["string"]}),
])
def test_annotated_schemas_take_the_exact_path(schema, discovered):
    assert converter_for(schema) is converter_for(discovered)


def test_annotated_number_keeps_exact_digits_and_nan():
    convert = converter_for({"type": ["null", "number", "string"], "description": "Amount"})
    assert str(convert("12345678901234567.89")) == "12345678901234567.89"
    assert convert("NaN") == "NaN"


def test_type_order_as_singer_reads_it():
    assert converter_for({"type": ["integer", "string", "null"]})("1,000") == "1,000"
    assert converter_for({"type": ["string", "null"]}) is None
    assert converter_for({"type": ["null", "string", "integer"]})("5") == "5"  # string first


def test_schema_true_takes_any_value_as_text():
    assert converter_for(True)("0100") == "0100"
    assert converter_for(True)(None) is None


@pytest.mark.parametrize("text, value", [
    ("12345678901234567.89", decimal.Decimal("12345678901234567.89")), ("", None),
    ("7", decimal.Decimal("7")),
])
def test_other_shapes_use_the_transformer_losslessly(text, value):
    schema = {"type": ["null", "number"], "minimum": 0}
    assert converter_for(schema)(text) == value


@pytest.mark.parametrize("schema, text", [
    ({"type": ["null", "number"], "minimum": 0}, "NaN"),
    ({"type": ["null", "number"], "minimum": 0}, "1e400"),
    ({"type": ["null", "number"], "minimum": 0}, "1,5"),
    ({"type": "integer"}, ""),
    ({"type": "integer"}, "abc"),
    ({"type": ["null", "integer"], "minimum": 0}, "18446744073709551616"),
    ({"type": ["null", "boolean"]}, "no"),
    ({"type": ["null", "string"], "format": "date-time", "minLength": 1, "maximum": 3}, "12"),
    ({"type": "object"}, "{}"),
])
def test_other_shapes_refuse_what_would_change_never_traceback(schema, text):
    with pytest.raises(Misfit):
        converter_for(schema)(text)


def test_other_shapes_keep_what_fits():
    assert converter_for({"type": ["null", "boolean"]})("true") is True
    date_time = {"type": ["null", "string"], "format": "date-time", "maximum": 3}
    assert converter_for(date_time)("2024-01-02") == "2024-01-02T00:00:00.000000Z"


def test_strict_schemas_from_inference():
    types = ColumnTypes()
    for name, value in (("I", "1"), ("N", "1.5"), ("D", "2024-01-02"), ("S", "x")):
        types.add_sample(name, value)
    assert types.schema_for("I", string_fallback=False) == {"type": ["null", "integer"]}
    assert types.schema_for("N", string_fallback=False) == {"type": ["null", "number"]}
    assert types.schema_for("D", string_fallback=False) == {"type": ["null", "string"],
                                                           "format": "date-time"}
    assert types.schema_for("S", string_fallback=False) == STRING_SCHEMA
