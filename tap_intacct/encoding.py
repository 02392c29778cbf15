"""JSON text for record values, compiled once per column.

Records are written as JSON text built from one fragment per value: string columns through the
C string encoder json.dumps uses, typed columns through a fragment function per column. Each
fragment function is exactly `encode_value(convert(text))` for the column's converter; the fast
paths only skip work for text that is already the JSON it would become (tests/unit/
test_encoding.py checks both agree).
"""

import decimal
import json
import re

from tap_intacct.conversion import (
    converter_for,
    strict_date_time,
    strict_integer,
    strict_number,
    to_date_time,
    to_integer,
    to_number,
)

encode_string = json.encoder.encode_basestring_ascii  # the C function json.dumps uses
_encode_other = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"),
                                 default=str).encode
# Text that is already the JSON its conversion would produce ("-0" is not: it becomes 0).
_is_canonical_integer = re.compile(r"0|-?[1-9][0-9]*").fullmatch
_is_canonical_decimal = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?").fullmatch


def encode_value(value):
    """JSON text of one converted value."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_string(value)
    if type(value) is int:  # not bool
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)  # finite by construction: its exact digits are a JSON number
    return _encode_other(value)


def fragment_for(schema):
    """text -> JSON text for a column with this schema, or None for plain string columns."""
    convert = converter_for(schema)
    if convert is None:
        return None
    fast_path = _FAST_PATHS.get(convert)
    if fast_path:
        return fast_path(convert)
    return lambda text: encode_value(convert(text))


def _canonical_or_converted(is_canonical):
    """A fast path: text that is already its own JSON is returned as it is."""
    def fast_path(convert):
        def fragment(text):
            if text and is_canonical(text):
                return text
            return encode_value(convert(text))
        return fragment
    return fast_path


def _date_time(convert):
    """Consecutive rows often repeat a date-time (ddsReadTime is the same for a whole export):
    the previous row's text and JSON are kept, per column."""
    previous = [None, "null"]

    def fragment(text):
        if text == previous[0]:
            return previous[1]
        value = convert(text)
        previous[:] = text, "null" if value is None else encode_string(value)
        return previous[1]
    return fragment


_FAST_PATHS = {
    to_integer: _canonical_or_converted(_is_canonical_integer),
    strict_integer: _canonical_or_converted(_is_canonical_integer),
    to_number: _canonical_or_converted(_is_canonical_decimal),
    strict_number: _canonical_or_converted(_is_canonical_decimal),
    to_date_time: _date_time,
    strict_date_time: _date_time,
}
