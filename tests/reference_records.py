"""The slow reference record builder the property tests compare engines/records.py's fast one
with: a dict of converted values, made from a file's RecordLayout alone, and its JSON text by
`json.dumps`."""

import json
from typing import TypeAlias

from tap_intacct.engines.records import (
    COLUMN,
    CONSTANT,
    DELETED_AT,
    LINENO,
    FileRecords,
    StreamRecords,
)
from tap_intacct.values.conversion import Value
from tap_intacct.values.encoding import encode_value

# A record as reference_record makes it (`_sdc_extra` is the list).
Record: TypeAlias = dict[str, Value | list[str]]


def reference_record(stream: StreamRecords, build: FileRecords, line_number: int,
                     fields: list[str]) -> Record:
    """The record `build.build` makes of the row, slowly: a dict of converted values."""
    width = build.layout.width
    padded: list[str | None] = [*fields, *[None] * (width - len(fields))]
    record: Record = {}
    for member in build.layout.members:
        if member.source == COLUMN:
            # a missing cell is null whatever the type
            assert member.position is not None  # a column's is set
            text = padded[member.position]
            record[member.key] = None if text is None else stream.converters[member.key](text)
        elif member.source == CONSTANT:
            record[member.key] = member.value
        elif member.source == DELETED_AT:
            assert build.deleted_at is not None  # set when the layout has the member
            record[member.key] = build.deleted_at(padded)
        elif member.source == LINENO:
            record[member.key] = line_number
        elif len(fields) > width:
            record[member.key] = list(fields[width:])
    return record


def reference_json(record: Record) -> str:
    """json.dumps of a reference record, Decimals written with their exact digits."""
    return "{" + ",".join(json.dumps(key) + ":" + _encode_value_or_list(value)
                          for key, value in record.items()) + "}"


def _encode_value_or_list(value: Value | list[str]) -> str:
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    return encode_value(value)
