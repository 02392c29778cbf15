"""Singer messages on stdout: one JSON object per line."""

import json
import sys


class SingerWriter:
    def __init__(self, out=None):
        self._out = out or sys.stdout
        self._encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

    def _write(self, message):
        self._out.write(self._encode(message) + "\n")

    def schema(self, stream, schema, key_properties):
        self._write({"type": "SCHEMA", "stream": stream, "schema": schema,
                     "key_properties": list(key_properties)})

    def record_writer(self, stream, version=None):
        """A function writing a RECORD of `stream` (carrying `version`, a table version, when
        it is not None) from its record object's JSON text."""
        prefix = ('{"type":"RECORD","stream":' + self._encode(stream)
                  + ("" if version is None else f',"version":{int(version)}') + ',"record":')
        write = self._out.write

        def write_record(record_json):
            write(prefix + record_json + "}\n")

        write_record.line_format = (prefix, "}\n")  # a RECORD line around the record's JSON
        write_record.write_lines = write
        return write_record

    def activate_version(self, stream, version):
        self._write({"type": "ACTIVATE_VERSION", "stream": stream, "version": version})

    def batch(self, stream, encoding, manifest):
        self._write({"type": "BATCH", "stream": stream, "encoding": encoding,
                     "manifest": list(manifest)})
        self._out.flush()  # the target can start loading this file while the tap goes on

    def state(self, value):
        self._write({"type": "STATE", "value": value})
        self._out.flush()

    def flush(self):
        self._out.flush()


class RecordSinks:
    """RECORD messages: each record goes to stdout as it is built."""

    def __init__(self, writer):
        self.writer = writer

    def open(self, stream, version=None):
        return RecordSink(self.writer.record_writer(stream, version))

    def close(self):
        """Nothing to release (batches.BatchSinks has the same method)."""


class RecordSink:
    """The sink of one source file's records (see batches.BatchSink for the BATCH one)."""

    def __init__(self, write):
        self.write = write
        self.line_format = write.line_format  # (before, after) a record's JSON in its line
        self._write_lines = write.write_lines

    def write_block(self, text, count):
        """`count` records at once (the fast engine), each in its line as line_format says:
        the same text as `count` calls of write()."""
        if count:
            self._write_lines(text)

    def __enter__(self):
        return self

    def __exit__(self, *_exception):
        return False
