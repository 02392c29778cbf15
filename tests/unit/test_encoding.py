"""Fast JSON fragments are exactly the encoding of the converted value, and always valid JSON."""

import decimal
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tap_intacct.values.conversion import DATE_TIME_SCHEMA, converter_for
from tap_intacct.values.encoding import encode_value, fragment_for
from tests.support import INTEGER_SCHEMA, NUMBER_SCHEMA, date_like, examples, number_like


def check(schema, text):
    fragment = fragment_for(schema)(text)
    assert fragment == encode_value(converter_for(schema)(text))
    parsed = json.loads(fragment, parse_float=decimal.Decimal)
    converted = converter_for(schema)(text)
    assert parsed == converted


@settings(max_examples=examples(500), deadline=None)
@given(st.one_of(number_like, st.none()))
def test_integer_fragments(text):
    check(INTEGER_SCHEMA, text)


@settings(max_examples=examples(500), deadline=None)
@given(st.one_of(number_like, st.none()))
def test_number_fragments(text):
    check(NUMBER_SCHEMA, text)


@settings(max_examples=examples(500), deadline=None)
@given(st.one_of(date_like, st.none()))
def test_date_time_fragments(text):
    check(DATE_TIME_SCHEMA, text)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.one_of(date_like, st.none(), st.sampled_from(["2024-01-02", ""])),
                max_size=12))
def test_date_time_fragment_of_a_column_is_the_same_whatever_came_before(texts):
    column = fragment_for(DATE_TIME_SCHEMA)
    for text in texts:
        assert column(text) == encode_value(converter_for(DATE_TIME_SCHEMA)(text))


def test_exact_digits_on_the_wire():
    number = fragment_for(NUMBER_SCHEMA)
    assert number("1234.50") == "1234.50"
    assert number("1,234.50") == '"1,234.50"'  # kept as written, never re-punctuated
    assert number("NaN") == '"NaN"'
    assert number("") == "null"
    assert fragment_for(INTEGER_SCHEMA)("0100") == '"0100"'  # the leading zero stays
    assert fragment_for(INTEGER_SCHEMA)("9223372036854775808") == '"9223372036854775808"'
    assert fragment_for({"type": ["null", "string"]}) is None
