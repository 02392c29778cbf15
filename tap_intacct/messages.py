"""Singer messages on stdout: one JSON object per line, numbers written with their exact digits."""

import sys

import simplejson


class SingerWriter:
    def __init__(self, out=None):
        self._out = out or sys.stdout
        # Decimal values are written as their digits; NaN/Infinity are refused (not JSON).
        self._encode = simplejson.JSONEncoder(use_decimal=True, allow_nan=False,
                                              separators=(",", ":")).encode
        self._record_prefixes = {}
        self.records_written = 0

    def _write(self, message):
        self._out.write(self._encode(message) + "\n")

    def schema(self, stream, schema, key_properties):
        self._write({"type": "SCHEMA", "stream": stream, "schema": schema,
                     "key_properties": list(key_properties)})

    def record(self, stream, record):
        prefix = self._record_prefixes.get(stream)
        if prefix is None:
            prefix = '{"type":"RECORD","stream":' + self._encode(stream) + ',"record":'
            self._record_prefixes[stream] = prefix
        self._out.write(prefix + self._encode(record) + "}\n")
        self.records_written += 1

    def state(self, value):
        self._write({"type": "STATE", "value": value})
        self._out.flush()

    def flush(self):
        self._out.flush()
