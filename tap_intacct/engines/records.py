"""Turning CSV rows into record JSON: compiled once per stream (column encoders) and once per file
(the record layout), so the per-row work is a few C-level calls.

A file's `RecordLayout` says, member by member, where each key's value comes from: a CSV column,
a constant (`_sdc_source_bucket`, `_sdc_source_file`) or a per-row value (`_sdc_deleted_at`,
`_sdc_source_lineno`, `_sdc_extra`). The fast builder's %-template and fragment order are both
derived from it, and so is the slow reference builder the property tests compare it with
(tests/reference_records.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import call, itemgetter
from typing import TYPE_CHECKING, Final, Self, TypeAlias, cast

from tap_intacct.dds import columns
from tap_intacct.values.conversion import (
    Converter,
    Misfit,
    Schema,
    converter_for,
    strict_date_time,
)
from tap_intacct.values.encoding import Fragment, encode_string, encode_value, fragment_for

if TYPE_CHECKING:
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.dds.files import StoredFile

# A CSV row's cells (a short row padded with None, for its missing cells).
Fields: TypeAlias = list[str] | list[str | None]

_encode_strings = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode

# Where a record key's value comes from (KeySource.source)
COLUMN: Final = "column"      # the CSV cell at `position`, through the column's encoder
CONSTANT: Final = "constant"  # `value`, the same for every row of the file
DELETED_AT: Final = "deleted_at"
LINENO: Final = "lineno"
EXTRA: Final = "extra"        # cells beyond the header; the key is present only when there are some
SOURCE_ORDER = (COLUMN, CONSTANT, DELETED_AT, LINENO, EXTRA)  # the order build() fills them in


@dataclass(frozen=True)
class KeySource:
    """One key (member) of a file's records and where its value comes from: `source` (above),
    with the CSV cell's `position` or the constant's `value`."""

    key: str
    source: str
    position: int | None = None
    value: str | None = None


class StreamRecords:
    """Per stream: which columns are emitted and the JSON encoder of each."""

    def __init__(self, selected: SelectedStream) -> None:
        self.name = selected.name
        self.emitted: dict[str, Schema] = selected.properties
        self.encoders: dict[str, Fragment] = {}
        self.converters: dict[str, Converter] = {}
        for name, schema in self.emitted.items():
            if name not in columns.TAP_COLUMNS:
                self.encoders[name] = fragment_for(schema) or encode_string
                self.converters[name] = converter_for(schema) or _as_is
        self.catalog_columns = selected.catalog_columns

    def for_file(self, store_name: str, stored: StoredFile,
                 header: Sequence[str]) -> tuple[FileRecords, list[str]]:
        """(FileRecords for a file with this header, header columns unknown to the catalog)."""
        names = columns.unique_header(header, stored.key)
        unknown = [name for name in names if name not in self.catalog_columns]
        return FileRecords(self, RecordLayout.of(self.emitted, store_name, stored, names),
                           stored), unknown


def _as_is(text: str | None) -> str | None:
    return text


@dataclass(frozen=True)
class RecordLayout:
    """The members of every record of one file, in output order."""

    members: tuple[KeySource, ...]
    header: tuple[str, ...]  # the file's column names, made unique

    @property
    def width(self) -> int:
        return len(self.header)

    @classmethod
    def of(cls, emitted: Mapping[str, Schema], store_name: str, stored: StoredFile,
           names: list[str]) -> Self:
        members = [KeySource(name, COLUMN, position=position)
                   for position, name in enumerate(names) if name in emitted
                   and name not in columns.TAP_COLUMNS]
        constants = ((columns.SOURCE_BUCKET, store_name), (columns.SOURCE_FILE, stored.key))
        members += [KeySource(key, CONSTANT, value=value) for key, value in constants
                    if key in emitted]
        per_row = ((columns.DELETED_AT, DELETED_AT), (columns.SOURCE_LINENO, LINENO),
                   (columns.EXTRA, EXTRA))
        members += [KeySource(key, source) for key, source in per_row if key in emitted]
        return cls(tuple(members), tuple(names))

    def of_source(self, source: str) -> list[KeySource]:
        return [member for member in self.members if member.source == source]


def _literal(text: str) -> str:
    """JSON text made safe to sit in a %-template."""
    return text.replace("%", "%%")


class FileRecords:
    """Builds the record JSON of each row of one file, following its RecordLayout."""

    def __init__(self, stream: StreamRecords, layout: RecordLayout, stored: StoredFile) -> None:
        order = [SOURCE_ORDER.index(member.source) for member in layout.members]
        if order != sorted(order):
            raise ValueError(f"members must come in the order {SOURCE_ORDER}")
        self.layout = layout
        self._width = layout.width
        chosen = layout.of_source(COLUMN)
        self._names = [member.key for member in chosen]
        self._encoders = [stream.encoders[member.key] for member in chosen]
        self._none_safe = [_none_safe(encoder) for encoder in self._encoders]
        positions = [member.position for member in chosen]
        self._values = itemgetter(*positions) if len(positions) > 1 else (
            (lambda fields, at=positions[0]: (fields[at],)) if positions else (lambda fields: ()))
        self._deleted_at: Callable[[Fields], str] | None = None
        # the DeletedAt of the layout's _sdc_deleted_at member, if any
        self.deleted_at: DeletedAt | None = None
        if layout.of_source(DELETED_AT):
            self._deleted_at_value = self.deleted_at = DeletedAt(layout.header, stored)
            self._deleted_at = lambda fields: encode_value(self._deleted_at_value(fields))
        self._has_lineno = bool(layout.of_source(LINENO))
        self._template = self._compile_template()
        self._common_case = self._deleted_at is None and self._has_lineno

    def _compile_template(self) -> str:
        parts = []
        for member in self.layout.members:
            key = _literal(encode_string(member.key))
            if member.source == CONSTANT:
                parts.append(key + ":" + _literal(encode_string(cast(str, member.value))))
            elif member.source == LINENO:
                parts.append(key + ":%d")
            elif member.source != EXTRA:
                parts.append(key + ":%s")
        has_extra = bool(self.layout.of_source(EXTRA))
        self._extra_key: str | None = None
        if has_extra:
            self._extra_key = ("," if parts else "") + encode_string(columns.EXTRA) + ":"
        return "{" + ",".join(parts) + "%s}"

    def build(self, line_number: int, fields: Fields) -> str:
        """The record's JSON object text."""
        fragments: tuple[str | int, ...]
        extra = ""
        if len(fields) == self._width:
            fragments = tuple(map(call, self._encoders, self._values(fields)))
            if self._common_case:  # kept short: this is nearly every row
                return self._template % (*fragments, line_number, extra)
        else:
            if len(fields) > self._width:
                if self._extra_key:
                    extra = self._extra_key + _encode_strings(fields[self._width:])
            else:
                fields = fields + [None] * (self._width - len(fields))
            fragments = tuple(map(call, self._none_safe, self._values(fields)))
        if self._deleted_at:
            fragments += (self._deleted_at(fields),)
        if self._has_lineno:
            fragments += (line_number,)
        return self._template % (*fragments, extra)

    def column_that_fails(self, fields: Fields) -> str:
        """The name of the first column whose value does not fit (for error messages)."""
        fields = fields + [None] * (self._width - len(fields))
        for name, encoder, text in zip(self._names, self._none_safe, self._values(fields),
                                       strict=True):
            try:
                encoder(text)
            except Misfit:
                return name
        return "?"


def _none_safe(encoder: Fragment) -> Callable[[str | None], str]:
    """A missing cell (short row) is null whatever the column's type."""
    return lambda text: "null" if text is None else encoder(text)


class DeletedAt:
    """The value of _sdc_deleted_at: ddsReadTime for a delete row (the file's LastModified if
    that is missing or not a date-time, so a delete is never lost), None otherwise.
    `change_at`/`read_at`: positions of ddsChangeType/ddsReadTime in the header (or None)."""

    def __init__(self, names: Sequence[str], stored: StoredFile) -> None:
        self.change_at = _position(names, columns.CHANGE_TYPE)
        self.read_at = _position(names, columns.READ_TIME)
        self._fallback = (stored.last_modified.replace(tzinfo=None).isoformat(
            timespec="microseconds") + "Z")

    @staticmethod
    def is_delete(change: str | None) -> bool:
        return change is not None and change.strip().lower() == "delete"

    def value(self, change: str | None, read_time: str | None) -> str | None:
        """For one row: its ddsChangeType and ddsReadTime texts (None when missing)."""
        if not self.is_delete(change):
            return None
        try:
            moment = strict_date_time(read_time) if read_time is not None else None
        except Misfit:
            moment = None
        return self._fallback if moment is None else moment

    def __call__(self, fields: Fields) -> str | None:
        if self.change_at is None:
            return None
        return self.value(fields[self.change_at],
                          None if self.read_at is None else fields[self.read_at])


def _position(names: Sequence[str], name: str) -> int | None:
    return names.index(name) if name in names else None
