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

    def record_writer(self, stream):
        """A function writing a RECORD of `stream` from its record object's JSON text."""
        prefix = '{"type":"RECORD","stream":' + self._encode(stream) + ',"record":'
        write = self._out.write

        def write_record(record_json):
            write(prefix + record_json + "}\n")
        return write_record

    def state(self, value):
        self._write({"type": "STATE", "value": value})
        self._out.flush()

    def flush(self):
        self._out.flush()
