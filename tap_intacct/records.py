"""Turning CSV rows into record JSON: compiled once per stream (column encoders) and once per file
(header positions), so the per-row work is a few C calls and one join."""

import json
from operator import itemgetter

from tap_intacct import columns
from tap_intacct.encoding import encode_string, fragment_for

_encode_strings = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


class StreamRecords:
    """Per stream: which columns are emitted and the JSON fragment function of each."""

    def __init__(self, selected):
        self.name = selected.name
        self.emitted = selected.properties
        self.fragments = {name: fragment_for(schema) for name, schema in self.emitted.items()
                          if name not in columns.SDC_SCHEMAS}
        self.catalog_columns = selected.catalog_columns

    def for_file(self, bucket_name, key, header):
        """(FileRecords for a file with this header, header columns unknown to the catalog)."""
        names = columns.unique_header(header)
        unknown = [name for name in names if name not in self.catalog_columns]
        plain, typed = [], []
        for index, name in enumerate(names):
            if name not in self.fragments:
                continue  # not selected, or not in the catalog
            fragment = self.fragments[name]
            if fragment is None:
                plain.append((index, name))
            else:
                typed.append((index, encode_string(name) + ":", fragment))
        return FileRecords(self.emitted, bucket_name, key, width=len(names), plain=plain,
                           typed=typed), unknown


class FileRecords:
    def __init__(self, emitted, bucket_name, key, *, width, plain, typed):
        self._width = width
        self._typed = typed
        self._plain_names = [name for _, name in plain]
        positions = [index for index, _ in plain]
        if len(positions) == 1:
            self._plain_values = lambda fields, at=positions[0]: (fields[at],)
        else:
            self._plain_values = itemgetter(*positions) if positions else (lambda fields: ())
        constant = [encode_string(name) + ":" + encode_string(value)
                    for name, value in ((columns.SOURCE_BUCKET, bucket_name),
                                        (columns.SOURCE_FILE, key)) if name in emitted]
        self._lineno_key = ("," + encode_string(columns.SOURCE_LINENO) + ":"
                            if columns.SOURCE_LINENO in emitted else None)
        self._constant = ",".join(constant)
        self._extra_key = encode_string(columns.EXTRA) + ":" if columns.EXTRA in emitted else None

    def build(self, line_number, fields):
        """The record's JSON object text."""
        width = self._width
        if len(fields) < width:
            fields = fields + [None] * (width - len(fields))
        parts = [key + fragment(fields[index]) for index, key, fragment in self._typed]
        if self._constant:
            parts.append(self._constant)
        if self._extra_key and len(fields) > width:
            parts.append(self._extra_key + _encode_strings(fields[width:]))
        text = "{" + ",".join(parts)
        if self._lineno_key:
            text += self._lineno_key if parts else self._lineno_key[1:]
            text += str(line_number)
        plain = _encode_strings(dict(zip(self._plain_names, self._plain_values(fields))))
        if plain == "{}":
            return text + "}"
        return text + ("," if len(text) > 1 else "") + plain[1:]
