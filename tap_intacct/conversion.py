"""Type inference for CSV columns and conversion of cell text to JSON values. Pure: no I/O.

Conversion follows singer-python's Transformer for the schemas discovery writes, with two
deliberate differences (docs/COMPATIBILITY.md): an empty cell in a non-string column is null,
and a number keeps its exact decimal digits (Decimal, never float). Where the Transformer would
fail (a schema without the string fallback), the converter raises ValueMismatch.
"""

import datetime
import decimal
import re

import dateutil.parser
from singer.transform import Transformer

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1

# Inference is strict on purpose: only plain ASCII digits, an optional minus sign, no leading
# zeros, no separators. Anything else ("0100", "+5", " 5", "1,000", "1_000", "NaN") stays a string.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[01]?[0-9]-[0-3]?[0-9]")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-2][0-9]:?[0-5][0-9])?")

class ValueMismatch(ValueError):
    """A cell's text does not fit its column's schema (only possible without string fallback)."""


DATE_TIME_SCHEMA = {"anyOf": [{"type": ["null", "string"], "format": "date-time"},
                              {"type": ["null", "string"]}]}
# With string_fallback = false, typed columns are declared without the string alternative.
STRICT_SCHEMAS = {
    "integer": {"type": ["null", "integer"]},
    "number": {"type": ["null", "number"]},
    "date-time": {"type": ["null", "string"], "format": "date-time"},
}


def infer_value(text):
    """'integer', 'number', 'date-time' or 'string' for one non-empty cell."""
    if _INTEGER.fullmatch(text):
        return "integer" if INT64_MIN <= int(text) <= INT64_MAX else "string"
    if _DECIMAL.fullmatch(text):
        return "number"
    if _DATE.fullmatch(text) or _DATE_TIME.fullmatch(text):
        return "date-time"
    return "string"


class ColumnTypes:
    """Accumulates what the sampled cells of each column look like."""

    def __init__(self):
        self.seen = {}

    def add_column(self, name):
        self.seen.setdefault(name, set())

    def add_sample(self, name, text):
        kinds = self.seen.setdefault(name, set())
        if text:
            kinds.add(infer_value(text))

    def merge(self, other):
        """Adds what `other` saw; its new columns come after the ones already here."""
        for name, kinds in other.seen.items():
            self.seen.setdefault(name, set()).update(kinds)

    def kind_of(self, name):
        kinds = self.seen.get(name, set())
        if "date-time" in kinds:
            return "date-time"
        if kinds == {"integer"}:
            return "integer"
        if kinds and kinds <= {"integer", "number"}:
            return "number"
        return "string"

    def schema_for(self, name, string_fallback=True):
        kind = self.kind_of(name)
        if kind == "string":
            return {"type": ["null", "string"]}
        if not string_fallback:
            return dict(STRICT_SCHEMAS[kind])
        if kind == "date-time":
            return DATE_TIME_SCHEMA
        return {"type": ["null", kind, "string"]}


# ---- conversion ----------------------------------------------------------------------------

def to_integer(text):
    if text is None or text == "":
        return None
    try:
        return int(text.replace(",", ""))
    except ValueError:
        return text


def to_number(text):
    if text is None or text == "":
        return None
    cleaned = text.replace(",", "")
    try:
        float(cleaned)  # accepts exactly what singer-python accepts as a number
        value = decimal.Decimal(cleaned)
    except (ValueError, decimal.InvalidOperation):
        return text
    # NaN and Infinity are not JSON numbers; the schema's string fallback keeps them as text.
    return value if value.is_finite() else text


def _format_utc(moment):
    """singer-python's DATETIME_FMT ("%04Y-%m-%dT%H:%M:%S.%fZ") for a UTC moment."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def to_date_time(text):
    if text is None or text == "":
        return None
    length = len(text)
    # Fast path for the shapes DDS writes: YYYY-MM-DD, YYYY-MM-DD[T ]HH:MM:SS[Z]. The string is
    # rearranged, not reformatted; fromisoformat only confirms it is a real date and time.
    if (text[4:5] == "-" and text[7:8] == "-" and text.isascii() and (length == 10 or (
            length in (19, 20) and text[10] in "T " and text[13] == ":" and text[16] == ":"
            and (length == 19 or text[19] == "Z")))):
        try:
            datetime.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if length == 10:
                return text + "T00:00:00.000000Z"
            return text[:10] + "T" + text[11:19] + ".000000Z"
    if _DATE_TIME.fullmatch(text) or _DATE.fullmatch(text):
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            pass  # dateutil below decides, as singer-python would
        else:
            try:
                return _format_utc(moment.astimezone(datetime.timezone.utc)
                                   if moment.tzinfo else moment)
            except OverflowError:
                pass
    return _date_time_like_singer(text)


def _date_time_like_singer(text):
    """singer-python's string_to_datetime, minus its per-value warning; raw text if unparsable."""
    try:
        moment = dateutil.parser.parse(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        else:
            moment = moment.astimezone(datetime.timezone.utc)
        return _format_utc(moment)
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return text


def _strict(convert, kind):
    """The converter without the string fallback: text that does not convert is an error.

    The converters above hand back the very text object they were given when it does not
    convert (a successful conversion always makes a new object), hence the `is` test.
    """
    def strict(text):
        value = convert(text)
        if value is text and text is not None:
            raise ValueMismatch(f"{text!r} is not {kind}")
        return value
    return strict


strict_integer = _strict(to_integer, "an integer")
strict_number = _strict(to_number, "a finite number")
strict_date_time = _strict(to_date_time, "a date-time")


def _transformer_fallback(schema):
    """For schema shapes discovery never writes (hand-edited catalogs): singer-python decides."""
    def convert(text):
        transformer = Transformer()
        ok, value = transformer.transform_recur(text, schema, [])
        if not ok:
            raise ValueMismatch(f"{text!r} does not match the catalog schema {schema}")
        return value
    return convert


def converter_for(schema):
    """The function turning one cell's text (or None for a missing cell) into its JSON value.

    Returns None when the text is emitted unchanged (plain string columns), so that callers can
    skip the call entirely. Schema shapes discovery never writes go through singer-python.
    """
    shape = _null_last(schema)
    for known, converter in _DEDICATED:
        if shape == _null_last(known):
            return converter
    return _transformer_fallback(schema)


def _null_last(schema):
    """The schema as singer-python reads it: "null" is tried after the other types."""
    types = schema.get("type")
    if not isinstance(types, list) or "null" not in types:
        return schema
    return {**schema, "type": [t for t in types if t != "null"] + ["null"]}


_DEDICATED = (
    ({"type": ["null", "string"]}, None),
    ({"type": ["null", "integer", "string"]}, to_integer),
    ({"type": ["null", "number", "string"]}, to_number),
    (DATE_TIME_SCHEMA, to_date_time),
    (STRICT_SCHEMAS["integer"], strict_integer),
    (STRICT_SCHEMAS["number"], strict_number),
    (STRICT_SCHEMAS["date-time"], strict_date_time),
)
