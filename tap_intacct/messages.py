"""Singer messages on stdout: one JSON object per line."""

import json
import sys


class SingerWriter:
    def __init__(self, out=None):
        self._out = out or sys.stdout
        self._encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
        self._record_prefixes = {}

    def _write(self, message):
        self._out.write(self._encode(message) + "\n")

    def schema(self, stream, schema, key_properties):
        self._write({"type": "SCHEMA", "stream": stream, "schema": schema,
                     "key_properties": list(key_properties)})

    def record(self, stream, record_json):
        """Write a RECORD whose record object is already JSON text (see records.py)."""
        prefix = self._record_prefixes.get(stream)
        if prefix is None:
            prefix = '{"type":"RECORD","stream":' + self._encode(stream) + ',"record":'
            self._record_prefixes[stream] = prefix
        self._out.write(prefix + record_json + "}\n")

    def state(self, value):
        self._write({"type": "STATE", "value": value})
        self._out.flush()

    def flush(self):
        self._out.flush()
