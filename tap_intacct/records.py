"""Turning CSV rows into records: compiled once per stream (converters) and once per file (header).
"""

from operator import itemgetter

from tap_intacct import columns
from tap_intacct.conversion import converter_for


class StreamRecords:
    """Per stream: which columns are emitted and the converter of each."""

    def __init__(self, selected):
        self.name = selected.name
        self.emitted = selected.properties
        self.converters = {name: converter_for(schema) for name, schema in self.emitted.items()
                           if name not in columns.SDC_SCHEMAS}
        self.emits_extra = columns.EXTRA in self.emitted
        self.catalog_columns = selected.catalog_columns

    def for_file(self, bucket_name, key, header):
        """A function (line_number, fields) -> record for a file with this header, plus the
        header columns the catalog does not know (they are dropped)."""
        names = columns.unique_header(header)
        unknown = [name for name in names if name not in self.catalog_columns]
        plain, typed = [], []
        for index, name in enumerate(names):
            if name not in self.converters:
                continue
            converter = self.converters[name]
            if converter is None:
                plain.append((index, name))
            else:
                typed.append((index, name, converter))
        return FileRecords(self, bucket_name, key, width=len(names), plain=plain,
                           typed=typed), unknown


class FileRecords:
    def __init__(self, stream, bucket_name, key, *, width, plain, typed):
        self._width = width
        self._plain = plain
        self._typed = typed
        self._plain_names = [name for _, name in plain]
        self._plain_values = itemgetter(*[index for index, _ in plain]) if len(plain) > 1 else (
            (lambda fields, i=plain[0][0]: (fields[i],)) if plain else (lambda fields: ()))
        self._constant = {}
        for name, value in ((columns.SOURCE_BUCKET, bucket_name), (columns.SOURCE_FILE, key)):
            if name in stream.emitted:
                self._constant[name] = value
        self._emit_lineno = columns.SOURCE_LINENO in stream.emitted
        self._emit_extra = stream.emits_extra

    def build(self, line_number, fields):
        if len(fields) < self._width:
            fields = fields + [None] * (self._width - len(fields))
        record = dict(zip(self._plain_names, self._plain_values(fields)))
        for index, name, convert in self._typed:
            record[name] = convert(fields[index])
        record.update(self._constant)
        if self._emit_lineno:
            record[columns.SOURCE_LINENO] = line_number
        if self._emit_extra and len(fields) > self._width:
            record[columns.EXTRA] = fields[self._width:]
        return record
