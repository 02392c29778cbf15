"""Turning CSV rows into record JSON: compiled once per stream (column encoders) and once per file
(a template for the header), so the per-row work is a few C-level calls.

A record is `template % fragments`: the template holds the keys and the constant _sdc_* values
in JSON already; each fragment is one value's JSON text, from the column's encoder.
"""

import json
from operator import call, itemgetter

from tap_intacct import columns
from tap_intacct.encoding import encode_string, encode_value, fragment_for

_encode_strings = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


class StreamRecords:
    """Per stream: which columns are emitted and the JSON encoder of each."""

    def __init__(self, selected):
        self.name = selected.name
        self.emitted = selected.properties
        self.encoders = {}
        for name, schema in self.emitted.items():
            if name not in columns.SDC_SCHEMAS:
                self.encoders[name] = fragment_for(schema) or encode_string
        self.catalog_columns = selected.catalog_columns

    def for_file(self, bucket_name, key, header):
        """(FileRecords for a file with this header, header columns unknown to the catalog)."""
        names = columns.unique_header(header)
        unknown = [name for name in names if name not in self.catalog_columns]
        chosen = [(index, name) for index, name in enumerate(names) if name in self.encoders]
        return FileRecords(self, bucket_name, key, len(names), chosen), unknown


def _literal(text):
    """JSON text made safe to sit in a %-template."""
    return text.replace("%", "%%")


class FileRecords:
    def __init__(self, stream, bucket_name, key, width, chosen):
        self._width = width
        self._encoders = [stream.encoders[name] for _, name in chosen]
        self._none_safe = [_none_safe(encoder) for encoder in self._encoders]
        positions = [index for index, _ in chosen]
        self._values = itemgetter(*positions) if len(positions) > 1 else (
            (lambda fields, at=positions[0]: (fields[at],)) if positions else (lambda fields: ()))
        members = [_literal(encode_string(name)) + ":%s" for _, name in chosen]
        for name, value in ((columns.SOURCE_BUCKET, bucket_name), (columns.SOURCE_FILE, key)):
            if name in stream.emitted:
                members.append(_literal(encode_string(name) + ":" + encode_string(value)))
        self._has_lineno = columns.SOURCE_LINENO in stream.emitted
        if self._has_lineno:
            members.append(_literal(encode_string(columns.SOURCE_LINENO)) + ":%d")
        self._template = "{" + ",".join(members) + "%s}"
        self._extra_key = (","  + encode_string(columns.EXTRA) + ":"
                           if columns.EXTRA in stream.emitted else None)

    def build(self, line_number, fields):
        """The record's JSON object text."""
        extra = ""
        if len(fields) == self._width:
            fragments = tuple(map(call, self._encoders, self._values(fields)))
        else:
            if len(fields) > self._width:
                if self._extra_key:
                    extra = self._extra_key + _encode_strings(fields[self._width:])
            else:
                fields = fields + [None] * (self._width - len(fields))
            fragments = tuple(map(call, self._none_safe, self._values(fields)))
        if self._has_lineno:
            return self._template % (*fragments, line_number, extra)
        return self._template % (*fragments, extra)


def _none_safe(encoder):
    """A missing cell (short row) is null whatever the column's type."""
    if encoder is encode_string:
        return lambda text: "null" if text is None else encode_string(text)
    return lambda text: encode_value(None) if text is None else encoder(text)
