"""Singer messages on stdout: one JSON object per line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TextIO, cast


class RecordWriter(Protocol):
    """Writes one RECORD line from its record object's JSON text (SingerWriter.record_writer)."""

    line_format: tuple[str, str]  # (before, after) a record's JSON in its line
    write_lines: Callable[[str], object]  # writes lines already formatted

    def __call__(self, record_json: str) -> None: ...


class Sink(Protocol):
    """Where the records of one source file go: RecordSink, or batches.BatchSink."""

    @property
    def line_format(self) -> tuple[str, str]:
        """(before, after) a record's JSON in a line of write_block's text."""

    def write(self, record_json: str) -> None: ...

    def write_block(self, text: str, count: int) -> None: ...

    def __enter__(self) -> Sink: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None, /) -> Literal[False]: ...


class Sinks(Protocol):
    """Per run: a Sink for each source file (RecordSinks, or batches.BatchSinks)."""

    def open(self, stream: str, version: int | None = None) -> Sink: ...

    def close(self) -> None: ...


class SingerWriter:
    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

    def _write(self, message: Mapping[str, Any]) -> None:
        self._out.write(self._encode(message) + "\n")

    def schema(self, stream: str, schema: Mapping[str, Any], key_properties: Iterable[str]
               ) -> None:
        self._write({"type": "SCHEMA", "stream": stream, "schema": schema,
                     "key_properties": list(key_properties)})

    def record_writer(self, stream: str, version: int | None = None) -> RecordWriter:
        """A function writing a RECORD of `stream` (carrying `version`, a table version, when
        it is not None) from its record object's JSON text."""
        prefix = ('{"type":"RECORD","stream":' + self._encode(stream)
                  + ("" if version is None else f',"version":{int(version)}') + ',"record":')
        write = self._out.write

        def write_record(record_json: str) -> None:
            write(prefix + record_json + "}\n")

        record_writer = cast(RecordWriter, write_record)  # the attributes are set just below
        record_writer.line_format = (prefix, "}\n")  # a RECORD line around the record's JSON
        record_writer.write_lines = write
        return record_writer

    def activate_version(self, stream: str, version: int) -> None:
        self._write({"type": "ACTIVATE_VERSION", "stream": stream, "version": version})

    def _write_flushed(self, message: Mapping[str, Any]) -> None:
        """Writes `message` and flushes. A stop signal (output/stopping.py) raised while the
        lines before it go out would drop a line handed over at that moment: this one is
        written even then."""
        line = self._encode(message) + "\n"
        try:
            self._out.flush()
        finally:
            self._out.write(line)
            self._out.flush()

    def batch(self, stream: str, encoding: Mapping[str, str], manifest: Iterable[str]) -> None:
        # flushed: the target can start loading this file while the tap goes on
        self._write_flushed({"type": "BATCH", "stream": stream, "encoding": encoding,
                             "manifest": list(manifest)})

    def state(self, value: Mapping[str, Any]) -> None:
        """`value`: the state (dds/bookmarks.py says what it holds)."""
        self._write_flushed({"type": "STATE", "value": value})

    def flush(self) -> None:
        self._out.flush()


class RecordSinks:
    """RECORD messages: each record goes to stdout as it is built."""

    def __init__(self, writer: SingerWriter) -> None:
        self.writer = writer

    def open(self, stream: str, version: int | None = None) -> RecordSink:
        return RecordSink(self.writer.record_writer(stream, version))

    def close(self) -> None:
        """Nothing to release (batches.BatchSinks has the same method)."""


class RecordSink:
    """The sink of one source file's records (see batches.BatchSink for the BATCH one)."""

    def __init__(self, write: RecordWriter) -> None:
        self.write = write
        self.line_format = write.line_format  # (before, after) a record's JSON in its line
        self._write_lines = write.write_lines

    def write_block(self, text: str, count: int) -> None:
        """`count` records at once (the fast engine), each in its line as line_format says:
        the same text as `count` calls of write()."""
        if count:
            self._write_lines(text)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exception: object) -> Literal[False]:
        return False
