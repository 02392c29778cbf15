"""Turning CSV rows into record JSON: compiled once per stream (column encoders) and once per file
(a template for the header), so the per-row work is a few C-level calls.

A record is `template % fragments`: the template holds the keys and the constant _sdc_* values
in JSON already; each fragment is one value's JSON text, from the column's encoder.
"""

import json
from operator import call, itemgetter

from tap_intacct import columns
from tap_intacct.conversion import ValueMismatch, strict_date_time
from tap_intacct.encoding import encode_string, fragment_for

_encode_strings = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


class StreamRecords:
    """Per stream: which columns are emitted and the JSON encoder of each."""

    def __init__(self, selected):
        self.name = selected.name
        self.emitted = selected.properties
        self.encoders = {}
        for name, schema in self.emitted.items():
            if name not in columns.TAP_COLUMNS:
                self.encoders[name] = fragment_for(schema) or encode_string
        self.catalog_columns = selected.catalog_columns

    def for_file(self, bucket_name, stored, header):
        """(FileRecords for a file with this header, header columns unknown to the catalog)."""
        names = columns.unique_header(header)
        unknown = [name for name in names if name not in self.catalog_columns]
        return FileRecords(self, bucket_name, stored, names), unknown


def _literal(text):
    """JSON text made safe to sit in a %-template."""
    return text.replace("%", "%%")


def _member(name):
    return _literal(encode_string(name)) + ":%s"


class FileRecords:
    def __init__(self, stream, bucket_name, stored, names):
        self._width = len(names)
        chosen = [(index, name) for index, name in enumerate(names) if name in stream.encoders]
        self._names = [name for _, name in chosen]
        self._encoders = [stream.encoders[name] for _, name in chosen]
        self._none_safe = [_none_safe(encoder) for encoder in self._encoders]
        positions = [index for index, _ in chosen]
        self._values = itemgetter(*positions) if len(positions) > 1 else (
            (lambda fields, at=positions[0]: (fields[at],)) if positions else (lambda fields: ()))
        members = [_member(name) for _, name in chosen]
        for name, value in ((columns.SOURCE_BUCKET, bucket_name),
                            (columns.SOURCE_FILE, stored.key)):
            if name in stream.emitted:
                members.append(_literal(encode_string(name) + ":" + encode_string(value)))
        # Per-row extras, in template order: deleted-at, line number, _sdc_extra.
        self._deleted_at = None
        if columns.DELETED_AT in stream.emitted:
            members.append(_member(columns.DELETED_AT))
            self._deleted_at = _deleted_at_fragment(names, stored)
        self._has_lineno = columns.SOURCE_LINENO in stream.emitted
        if self._has_lineno:
            members.append(_literal(encode_string(columns.SOURCE_LINENO)) + ":%d")
        self._template = "{" + ",".join(members) + "%s}"
        self._extra_key = (","  + encode_string(columns.EXTRA) + ":"
                           if columns.EXTRA in stream.emitted else None)
        self._common_case = self._deleted_at is None and self._has_lineno

    def build(self, line_number, fields):
        """The record's JSON object text."""
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


    def column_that_fails(self, fields):
        """The name of the first column whose value does not fit (for error messages)."""
        fields = fields + [None] * (self._width - len(fields))
        for name, encoder, text in zip(self._names, self._none_safe, self._values(fields),
                                       strict=True):
            try:
                encoder(text)
            except ValueMismatch:
                return name
        return "?"


def _none_safe(encoder):
    """A missing cell (short row) is null whatever the column's type."""
    return lambda text: "null" if text is None else encoder(text)


def _deleted_at_fragment(names, stored):
    """fields -> JSON of _sdc_deleted_at: ddsReadTime for a delete row (the file's LastModified
    if that is missing or unreadable, so a delete is never lost), null otherwise."""
    if columns.CHANGE_TYPE not in names:
        return lambda fields: "null"
    change_at = names.index(columns.CHANGE_TYPE)
    read_at = names.index(columns.READ_TIME) if columns.READ_TIME in names else None
    fallback = encode_string(stored.last_modified.replace(tzinfo=None).isoformat(
        timespec="microseconds") + "Z")

    def fragment(fields):
        change = fields[change_at]
        if change is None or change.strip().lower() != "delete":
            return "null"
        try:
            moment = strict_date_time(fields[read_at]) if read_at is not None else None
        except ValueMismatch:
            moment = None
        return fallback if moment is None else encode_string(moment)
    return fragment
