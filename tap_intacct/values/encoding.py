"""JSON text for record values, compiled once per column.

Records are written as JSON text built from one fragment per value: string columns through the
C string encoder json.dumps uses, typed columns through a fragment function per column. Each
fragment function is exactly `encode_value(convert(text))` for the column's converter; the fast
paths only skip work for text that is already the JSON it would become, which by the
conversion contract is every text that fits (tests/unit/test_encoding.py checks both agree).
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import TypeAlias

from tap_intacct.values.conversion import (
    CONVERTER_KINDS,
    WRITTEN_AS_JSON,
    Converter,
    Schema,
    Value,
    converter_for,
)

encode_string = json.encoder.encode_basestring_ascii  # the C function json.dumps uses

# One cell's text -> its JSON text (a missing cell never reaches one: records.py writes null).
Fragment: TypeAlias = Callable[[str], str]


def encode_value(value: Value) -> str:
    """JSON text of one converted value (the conversion contract only yields these types)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_string(value)
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)  # a Decimal is finite by construction: its digits are a JSON number
    raise TypeError(f"no JSON encoding for {type(value).__name__}")


def fragment_for(schema: Schema) -> Fragment | None:
    """text -> JSON text for a column with this schema, or None for plain string columns."""
    convert = converter_for(schema)
    if convert is None:
        return None
    kind = CONVERTER_KINDS.get(convert)
    if kind == "date-time":
        return _date_time(convert)
    if kind in WRITTEN_AS_JSON:
        return _text_is_its_json(WRITTEN_AS_JSON[kind].fullmatch)(convert)
    return lambda text: encode_value(convert(text))


def _text_is_its_json(is_canonical: Callable[[str], object]) -> Callable[[Converter], Fragment]:
    """A fast path: text that is already its own JSON is returned as it is."""
    def fast_path(convert: Converter) -> Fragment:
        def fragment(text: str) -> str:
            if text and is_canonical(text):
                return text
            return encode_value(convert(text))
        return fragment
    return fast_path


def _date_time(convert: Converter) -> Fragment:
    """Consecutive rows often repeat a date-time (ddsReadTime is the same for a whole export):
    the previous row's text and JSON are kept, per column."""
    previous: list[str] = [None, "null"]  # type: ignore[list-item]  # None: no text yet

    def fragment(text: str) -> str:
        if text == previous[0]:
            return previous[1]
        value = convert(text)
        previous[:] = text, encode_value(value)
        return previous[1]
    return fragment


