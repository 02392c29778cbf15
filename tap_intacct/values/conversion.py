"""Type inference for CSV columns and the conversion contract for cell text. Pure: no I/O.

The contract (README "Conversion contract"): a cell's text becomes a typed JSON value
only when that value renders back to exactly the same text. The one normalisation is for
date-times: an ISO 8601 date or date-time becomes UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`. Any other
text "does not fit" (Misfit): with the string fallback it is emitted as the original string,
without it the stream stops. Empty cells in typed columns are null.

Inference uses the same definitions, so a column is typed only if every sampled cell fits.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import functools
import logging
import re
from collections.abc import Callable
from typing import Any, Literal, TypeAlias, TypeVar

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1

# The only texts that are numbers: plain ASCII digits, an optional minus sign, no leading zero,
# no separators, no exponent. "0100", "+5", " 5", "1,000", "1_000", "1e5", "NaN" are text.
# An integer of at most 18 digits is always within signed 64 bits (the fast paths rely on it).
SHORT_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,17}")
INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # "-0" is no integer: int() would print it as "0"
# Decimal prints these as written. Negative zero is not among them: JSON readers and warehouses
# drop its sign ("-0.00" would load as 0.00), so it stays text.
# (Written without look-arounds: the fast engine hands the same pattern to Arrow's RE2.)
DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
                     r"|-(?:[1-9][0-9]*(?:\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)")
# The ISO 8601 shapes the tap reads as date-times (nothing filled in from the current date).
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?")


# The common DDS date-time shape that date_time_value rearranges without reformatting (a real
# date and time: fromisoformat accepts it); the fast engine checks the same shape.
DDS_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}Z?")


class Misfit(ValueError):
    """A cell's text does not fit its column losslessly."""

# A column's JSON schema as the catalog holds it (`true`: any value).
Schema: TypeAlias = dict[str, Any] | bool
# What the conversion contract turns a cell into (the Transformer path may also yield a bool).
Value: TypeAlias = str | int | decimal.Decimal | bool | None
# One cell's text (None for a cell missing from a short row) -> its JSON value.
Converter: TypeAlias = Callable[[str | None], Value]
Kind: TypeAlias = Literal["integer", "number", "date-time", "string"]
_V = TypeVar("_V", bound=Value)


# ---- what each kind of column accepts --------------------------------------------------------

def integer_value(text: str) -> int:
    """The int whose JSON is exactly `text`, within signed 64 bits; Misfit otherwise."""
    if SHORT_INTEGER.fullmatch(text):
        return int(text)
    if INTEGER.fullmatch(text):
        value = int(text)
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise Misfit(f"{text!r} is outside the signed 64-bit integer range")
    raise Misfit(f"{text!r} is not a plain integer")


def number_value(text: str) -> decimal.Decimal:
    """The Decimal whose JSON is exactly `text` (every digit kept); Misfit otherwise."""
    if DECIMAL.fullmatch(text):
        return decimal.Decimal(text)
    raise Misfit(f"{text!r} is not a plain decimal number")


def date_time_value(text: str) -> str:
    """`text`, an ISO 8601 date or date-time, as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`; Misfit
    otherwise. A value without an offset is taken as UTC."""
    length = len(text)
    if ((length == 19 or (length == 20 and text[19] == "Z")) and text[10] in "T "
            and text[4] == "-" and text[7] == "-" and text[13] == ":" and text[16] == ":"
            and text.isascii()):
        # The common DDS shapes, rearranged rather than reformatted; fromisoformat (digits
        # only at these fixed positions) confirms it is a real date and time.
        try:
            datetime.datetime.fromisoformat(text[:19])
        except ValueError:
            pass
        else:
            return text[:10] + "T" + text[11:19] + ".000000Z"
    elif length == 10 and DATE.fullmatch(text):
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return text + "T00:00:00.000000Z"
    elif DATE_TIME.fullmatch(text):
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            try:
                if moment.tzinfo is not None:
                    moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            except OverflowError:
                raise Misfit(f"{text!r} falls outside years 1 to 9999 once converted to UTC, "
                             "so it cannot be written as a UTC date-time") from None
            return moment.isoformat(timespec="microseconds") + "Z"
    raise Misfit(f"{text!r} is not an ISO 8601 date or date-time")


def fits(value_of: Callable[[str], Value], text: str) -> bool:
    try:
        value_of(text)
    except Misfit:
        return False
    return True


# ---- inference -------------------------------------------------------------------------------

def infer_value(text: str) -> Kind:
    """'integer', 'number', 'date-time' or 'string' for one non-empty cell."""
    if fits(integer_value, text):
        return "integer"
    if fits(number_value, text):
        return "number"
    if fits(date_time_value, text):
        return "date-time"
    return "string"


DATE_TIME_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": ["null", "string"], "format": "date-time"}, {"type": ["null", "string"]}]}
# With string_fallback = false, typed columns are declared without the string alternative.
STRICT_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": ["null", "integer"]},
    "number": {"type": ["null", "number"]},
    "date-time": {"type": ["null", "string"], "format": "date-time"},
}


class ColumnTypes:
    """Accumulates what the sampled cells of each column look like."""

    def __init__(self) -> None:
        self.seen: dict[str, set[Kind]] = {}

    def add_column(self, name: str) -> None:
        self.seen.setdefault(name, set())

    def add_sample(self, name: str, text: str) -> None:
        kinds = self.seen.setdefault(name, set())
        if text:
            kinds.add(infer_value(text))

    def merge(self, other: ColumnTypes) -> None:
        """Adds what `other` saw; its new columns come after the ones already here."""
        for name, kinds in other.seen.items():
            self.seen.setdefault(name, set()).update(kinds)

    def kind_of(self, name: str) -> Kind:
        """A typed kind only if every sampled non-empty cell fits it."""
        kinds = self.seen.get(name, set())
        if kinds == {"date-time"}:
            return "date-time"
        if kinds == {"integer"}:
            return "integer"
        if kinds and kinds <= {"integer", "number"}:
            return "number"
        return "string"

    def schema_for(self, name: str, string_fallback: bool = True) -> dict[str, Any]:
        kind = self.kind_of(name)
        if kind == "string":
            return {"type": ["null", "string"]}
        if not string_fallback:
            return dict(STRICT_SCHEMAS[kind])
        if kind == "date-time":
            return DATE_TIME_SCHEMA
        return {"type": ["null", kind, "string"]}


# ---- converters: cell text (None for a cell missing from a short row) -> JSON value ----------

def with_fallback(value_of: Callable[[str], _V]) -> Callable[[str | None], _V | str | None]:
    """Empty -> None; text that fits -> its value; anything else -> the text itself."""
    def convert(text: str | None) -> _V | str | None:
        if not text:
            return None
        try:
            return value_of(text)
        except Misfit:
            return text
    return convert


def without_fallback(value_of: Callable[[str], _V]) -> Callable[[str | None], _V | None]:
    """Empty -> None; text that fits -> its value; anything else raises Misfit."""
    def convert(text: str | None) -> _V | None:
        if not text:
            return None
        return value_of(text)
    return convert


to_integer = with_fallback(integer_value)
to_number = with_fallback(number_value)
to_date_time = with_fallback(date_time_value)
strict_integer = without_fallback(integer_value)
strict_number = without_fallback(number_value)
strict_date_time = without_fallback(date_time_value)

# The typed converters by kind, for the fast paths (values/encoding.py per cell, the fast
# engine's engines/fragments.py per column): a cell of an integer or number column whose text
# matches WRITTEN_AS_JSON[kind] is already the JSON text its value renders as.
CONVERTER_KINDS: dict[Converter, Kind] = {
    to_integer: "integer", strict_integer: "integer",
    to_number: "number", strict_number: "number",
    to_date_time: "date-time", strict_date_time: "date-time",
}
WRITTEN_AS_JSON: dict[Kind, re.Pattern[str]] = {"integer": SHORT_INTEGER, "number": DECIMAL}


def any_value(text: str | None) -> str | None:
    """A column whose schema is `true` (any value): the text as it is, null when missing."""
    return text


# Keywords that describe a column without changing what its values are (added by schema
# overrides, e.g. Meltano's `schema:` extra); a schema differing only by these is converted
# exactly like the discovered one.
ANNOTATIONS = frozenset({
    "title", "description", "default", "examples", "$comment", "$id", "$schema", "readOnly",
    "writeOnly", "deprecated", "maxLength", "minLength", "pattern", "contentMediaType",
    "contentEncoding",
})


def converter_for(schema: Schema) -> Converter | None:
    """The function turning one cell's text (or None for a missing cell) into its JSON value.

    Returns None when the text is emitted unchanged (plain string columns), so that callers can
    skip the call entirely. Shapes discovery never writes go through singer-python's
    Transformer, checked against the same contract.
    """
    if schema is True:
        return any_value
    shape = _shape(schema)
    for known, converter in _DEDICATED:
        if shape == _shape(known):
            return converter
    return _transformer_checked(schema)


def _shape(schema: Schema) -> Schema:
    """The schema without annotations, its type a list with "null" last (as singer reads it)."""
    if not isinstance(schema, dict):
        return schema
    shape = {key: value for key, value in schema.items() if key not in ANNOTATIONS}
    types = shape.get("type")
    if isinstance(types, str):
        types = [types]
    if isinstance(types, list):
        shape["type"] = [t for t in types if t != "null"] + (["null"] if "null" in types else [])
    if isinstance(shape.get("anyOf"), list):
        shape["anyOf"] = [_shape(option) for option in shape["anyOf"]]
    return shape


_DEDICATED: tuple[tuple[dict[str, Any], Converter | None], ...] = (
    ({"type": ["null", "string"]}, None),
    ({"type": ["string"]}, None),
    ({"type": ["null", "integer", "string"]}, to_integer),
    ({"type": ["null", "number", "string"]}, to_number),
    (DATE_TIME_SCHEMA, to_date_time),
    (STRICT_SCHEMAS["integer"], strict_integer),
    (STRICT_SCHEMAS["number"], strict_number),
    (STRICT_SCHEMAS["date-time"], strict_date_time),
)


@functools.cache
def _singer_transformer() -> type:
    """singer-python's Transformer, imported on first use (only hand-edited catalogs need it).

    Importing singer re-reads its logging configuration: the root logger's level and handlers
    (TAP_INTACCT_LOG_LEVEL, the Azure store's redacting filter) are put back afterwards.
    """
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    from singer.transform import Transformer
    root.setLevel(level)
    root.handlers[:] = handlers
    return Transformer


def _transformer_checked(schema: Schema) -> Converter:
    """For schema shapes discovery never writes (hand-edited catalogs): singer-python's
    Transformer decides the type, and its result is kept only if it renders back to the text.
    A float is replaced by the exact Decimal of its text (no digit lost through float)."""
    schema = copy.deepcopy(schema)  # the Transformer reorders type lists in place
    Transformer = _singer_transformer()  # noqa: N806 (a class)

    def convert(text: str | None) -> Value:
        try:
            ok, value = Transformer().transform_recur(text, schema, [])
        except Exception as exc:  # noqa: BLE001 (singer-python's own failures become a misfit)
            raise Misfit(f"{text!r} cannot be converted to the catalog schema {schema} "
                         f"({type(exc).__name__})") from None
        if not ok:
            raise Misfit(f"{text!r} does not match the catalog schema {schema}")
        if isinstance(value, float):
            value = number_value(text) if text else value
        if not renders_back(value, text):
            raise Misfit(f"{text!r} would not be emitted as written under the catalog schema "
                         f"{schema}")
        return value
    return convert


def renders_back(value: Value, text: str | None) -> bool:
    """True if `value` is the lossless JSON value of the cell `text` (the contract itself)."""
    if value is None:
        return not text
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int):
        return str(value) == text and INT64_MIN <= value <= INT64_MAX
    if isinstance(value, decimal.Decimal):
        return value.is_finite() and str(value) == text
    if isinstance(value, str):
        # a str value only ever comes from a str text
        return value == text or (fits(date_time_value, text)  # type: ignore[arg-type]
                                 and value == date_time_value(text))  # type: ignore[arg-type]
    return False
