"""One file being read into its sink: what both engines write through (`FileReading`), the row
path (`FileReading.rows`), the progress line, and the advice for a value that does not fit its
column. Nothing here chooses an engine (engine.py does) or knows about streams and bookmarks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tap_intacct.errors import DataError
from tap_intacct.reading.dialect import DEFAULT_DIALECT
from tap_intacct.values.conversion import Misfit

if TYPE_CHECKING:
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.engines.records import FileRecords, StreamRecords
    from tap_intacct.output.messages import Sink
    from tap_intacct.reading.csvfile import CsvRows
    from tap_intacct.reading.dialect import Dialect
    from tap_intacct.storage.store import Store

LOGGER = logging.getLogger("tap_intacct")
PROGRESS_EVERY = 50_000  # records between two looks at the clock


class FileReading:
    """One file being read into its sink, by the row path (`rows`) or, in file order, by the
    fast engine (`write_block`) and then possibly the row path for the rest of the file."""

    def __init__(self, store: Store, stored: StoredFile, records: StreamRecords, sink: Sink,
                 progress_seconds: float, *, dialect: Dialect = DEFAULT_DIALECT) -> None:
        self.name = stored.key
        self.dialect = dialect
        self.records = records
        self.count = 0
        self.nul_characters = 0
        self._store = store
        self._stored = stored
        self._sink = sink
        self._build: FileRecords | None = None
        self._progress = Progress(stored, progress_seconds)
        self._check_at = PROGRESS_EVERY

    def file_records(self, header: Sequence[str]) -> FileRecords:
        """The FileRecords of this file (its header read), built once."""
        if self._build is None:
            self._build, unknown = self.records.for_file(self._store.name, self._stored, header)
            if unknown:
                LOGGER.warning("%s: column(s) %s are not in the catalog and are dropped; run "
                               "discovery again to add them", self.name, ", ".join(unknown))
        return self._build

    @property
    def line_format(self) -> tuple[str, str]:
        """(before, after) a record's JSON in a line of write_block's text."""
        return self._sink.line_format

    def write_block(self, text: str, count: int, bytes_read: int) -> None:
        """`count` records built elsewhere, in file order, each in its line (line_format)."""
        self._sink.write_block(text, count)
        self.count += count
        if self.count >= self._check_at:
            self._check_at = self.count + PROGRESS_EVERY
            self._progress.maybe_log(self.count, bytes_read)

    def rows(self, rows: CsvRows, bytes_before: int = 0) -> None:
        """The row path: every row of `rows` (a CsvRows) into the sink."""
        build = self.file_records(rows.header)
        emit = self._sink.write
        build_record = build.build
        count = self.count
        check_at = self._check_at
        try:
            for line_number, fields in rows:
                emit(build_record(line_number, fields))
                count += 1
                if count == check_at:
                    check_at += PROGRESS_EVERY
                    self._progress.maybe_log(count, bytes_before + rows.bytes_read)
        except Misfit as exc:
            column = build.column_that_fails(fields)
            raise DataError(f"{self.name}: line {line_number}, column {column}: {exc}; "
                            f"{_misfit_advice(self.records.emitted.get(column))}") from None
        finally:
            self.count = count
            self._check_at = check_at
            self.nul_characters += rows.nul_characters


def _misfit_advice(schema: object) -> str:
    """What to do about a cell its column's catalog schema cannot carry as written."""
    if _allows_plain_string(schema):
        return ("the column's catalog schema (edited by hand?) would change this text; use "
                "the schema discovery writes for it, or a plain string column "
                "({\"type\": [\"null\", \"string\"]})")
    return ("the column's schema has no string fallback (string_fallback off, and "
            "discovery's sample of every 5th row held no such value; or a hand edit): fix the "
            "export, or give the column a string fallback (string_fallback on, the default, "
            "then discover again)")


def _allows_plain_string(schema: object) -> bool:
    if not isinstance(schema, dict) or "format" in schema:
        return False
    types = schema.get("type")
    if types == "string" or (isinstance(types, list) and "string" in types):
        return True
    return any(_allows_plain_string(option) and "format" not in option
               for option in schema.get("anyOf") or [])


class Progress:
    """A progress line on stderr every `seconds` while a long file is read."""

    def __init__(self, stored: StoredFile, seconds: float) -> None:
        self.stored = stored
        self.seconds = seconds
        self.started = self.last = time.monotonic()

    def maybe_log(self, records: int, bytes_read: int) -> None:
        now = time.monotonic()
        if now - self.last < self.seconds:
            return
        self.last = now
        rate = records / max(now - self.started, 1e-9)
        LOGGER.info("%s: %d records so far, %.1f MB read (uncompressed; file is %.1f MB), "
                    "%.0f records/s", self.stored.key, records, bytes_read / 1e6,
                    self.stored.size / 1e6, rate)
