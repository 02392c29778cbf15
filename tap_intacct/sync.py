"""Sync: for each selected stream, read every file past its bookmark and emit records and state."""

from __future__ import annotations

import collections
import datetime
import io
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from tap_intacct.dds.cursor import Cursors, Rules
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import DataError, FileGone
from tap_intacct.output import logs
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.reading.dialect import DEFAULT_DIALECT
from tap_intacct.settings.knobs import Knobs, fast_engine_installed
from tap_intacct.values.conversion import ValueMismatch

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.dds.cursor import StreamCursor
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.engines.records import FileRecords
    from tap_intacct.listing import Sources
    from tap_intacct.output.messages import SingerWriter, Sink, Sinks
    from tap_intacct.reading.dialect import Dialect
    from tap_intacct.settings.config import Config
    from tap_intacct.storage.store import Store

LOGGER = logging.getLogger("tap_intacct")
FILES_AHEAD = 3  # memory: up to (1 + FILES_AHEAD) x readahead.DEPTH x CHUNK_BYTES


class Engine(Protocol):
    """The fast engine as sync uses it: tap_intacct.engines.columnar, imported by fast_engine's
    loader when the first file is read."""

    def read_file(self, binary: io.BufferedReader, reading: FileReading) -> None: ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class Run:
    """What a sync run goes by and writes to, besides the store and the listing. `state` is
    updated in place and emitted; `now`: the run's start (by default this machine's clock when
    the Run is made, before the listing): a file modified later is in the future and moves no
    bookmark past it (Bookmark.advance)."""

    state: State
    config: Config
    writer: SingerWriter
    sinks: Sinks
    knobs: Knobs = field(default_factory=Knobs)
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))


def sync(store: Store, sources: Sources, selected: Sequence[SelectedStream], run: Run) -> None:
    """Sync the selected streams in catalog order, each through its cursor (dds/cursor.py).

    `sources.files`: (table, file) of every readable data file, as candidates.data_files yields
    them; only the files the bookmarks want are kept. The listing is read to its end before
    anything is emitted (no SCHEMA, RECORD, STATE or ACTIVATE_VERSION): a listing that fails on
    a later page (storage/pages.py) then fails the run with nothing bookmarked, never after a
    bookmark moved past files that page held. A file that cannot be read stops its own stream
    at that file (its bookmark stays before it); the other streams still sync, and the run then
    fails naming every such file.

    The event mode (dds/horizons.py): `sources.horizons` maps the streams whose files came from
    the queue's events to their horizon, the moment their bookmark holds at (their Bookmark's
    `now`); `sources.listed_in_full` names the streams listed in full, whose horizon becomes
    `run.now` in the state once every file that listing wanted is read.
    """
    rules = Rules.of(run.config, run.now, sources.horizons, sources.listed_in_full)
    cursors = Cursors(run.state, [stream.name for stream in selected], sources.files, rules,
                      run.writer)
    engine = fast_engine(run.knobs.engine)
    failures: list[str] = []
    try:
        for stream in selected:
            cursor = cursors.of(stream.name)
            try:
                _sync_stream(store, stream, cursor, run, engine)
                cursor.end()
            except DataError as exc:
                LOGGER.warning("%s: stopped at a file that cannot be read (the other streams go "
                               "on): %s", stream.name, exc)
                failures += exc.problems
            finally:
                cursor.write_state()  # the bookmark after the last file read, if not written yet
    finally:
        if engine is not None:
            engine.shutdown()
    if failures:
        raise DataError(*failures)


def fast_engine(choice: str) -> Engine | None:
    """The fast engine for TAP_INTACCT_ENGINE=`choice`, or None (the row path)."""
    if choice == "rows" or (choice == "auto" and not fast_engine_installed()):
        return None
    return _ColumnarOnFirstFile()


class _ColumnarOnFirstFile:
    """The fast engine's module (tap_intacct.engines.columnar), imported when the first file is
    read: Arrow and numpy take about 0.1 s of CPU to import, which a run that reads no file
    (nothing new, a failed check) need not spend.

    numpy starts OpenBLAS's thread pool (one spinning thread per core) when imported; the tap
    does no linear algebra, so unless the user chose otherwise the pool has one thread."""

    def __init__(self) -> None:
        self._module: Engine | None = None

    def read_file(self, binary: io.BufferedReader, reading: FileReading) -> None:
        if self._module is None:
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            from tap_intacct.engines import columnar
            self._module = columnar
        self._module.read_file(binary, reading)

    def shutdown(self) -> None:
        if self._module is not None:
            self._module.shutdown()


def _sync_stream(store: Store, stream: SelectedStream, cursor: StreamCursor, run: Run,
                 engine: Engine | None) -> None:
    """Every file the cursor gives of one stream into the sinks, and after each what the cursor
    says to emit."""
    run.writer.schema(stream.name, stream.schema, stream.key_properties)
    pending = cursor.files_to_sync()
    if pending is None:
        LOGGER.warning("%s: no files for this stream under %s any more; nothing to "
                       "sync, state unchanged", stream.name,
                       store.location(run.config.company_prefix))
        return
    records = StreamRecords(stream)
    total = 0
    for stored, binary in opened_ahead(store, pending):
        try:
            total += sync_file(store, stored, binary, records, run.sinks,
                               progress_seconds=run.knobs.progress_seconds, engine=engine,
                               dialect=run.config.dialect, version=cursor.version_for(stored))
        except FileGone as gone:
            step = cursor.gone(stored, gone)
        else:
            step = cursor.done(stored)
        if step.activate is not None:
            run.writer.activate_version(stream.name, step.activate)
        if cursor.state_due(step):
            cursor.write_state()
    LOGGER.info("%s: %d record(s) from %d file(s)", stream.name, total, len(pending))


def opened_ahead(bucket: Store, files: Sequence[StoredFile]
                 ) -> Iterator[tuple[StoredFile, io.BufferedReader]]:
    """Yield (file, its open stream) in order, the downloads of the next FILES_AHEAD files
    already started, so that small files on a slow link do not each wait for their first byte.
    """
    upcoming: collections.deque[io.BufferedReader] = collections.deque()
    try:
        for position, stored in enumerate(files):
            while len(upcoming) <= FILES_AHEAD and position + len(upcoming) < len(files):
                upcoming.append(bucket.open(files[position + len(upcoming)]))
            yield stored, upcoming.popleft()
    finally:
        for stream in upcoming:
            stream.close()


def sync_file(bucket: Store, stored: StoredFile, binary: io.BufferedReader, records: StreamRecords,
              sinks: Sinks, *, progress_seconds: float, engine: Engine | None = None,
              dialect: Dialect = DEFAULT_DIALECT, version: int | None = None) -> int:
    """Emit every record of one file (binary: its open stream, closed here) into a sink of
    `sinks` (RECORD messages or batch files); returns how many. `engine`: the fast engine
    (fast_engine's, or the columnar module itself), or None for the row path alone;
    `dialect`: the configured one (the delimiter may be found in the file's header line);
    `version`: the table version the records carry (full_exports replace), or None."""
    started = time.monotonic()
    with binary, sinks.open(records.name, version) as sink:
        reading = FileReading(bucket, stored, records, sink, progress_seconds, dialect=dialect)
        if engine is None:
            reading.rows(CsvRows(binary, stored.key, dialect=dialect))
        else:
            engine.read_file(binary, reading)
    if reading.nul_characters:
        LOGGER.warning("%s: holds %d NUL character(s) (U+0000), kept in the values as written; "
                       "Postgres cannot store them in text: see the README's 'Encoding'",
                       stored.key, reading.nul_characters)
    elapsed = time.monotonic() - started
    LOGGER.info("%s: %d record(s), %d bytes in %.1fs", stored.key, reading.count, stored.size,
                elapsed)
    logs.metric("counter", "record_count", reading.count, {"endpoint": records.name})
    return reading.count


class FileReading:
    """One file being read into its sink, by the row path (`rows`) or, in file order, by the
    fast engine (`write_all`) and then possibly the row path for the rest of the file."""

    def __init__(self, bucket: Store, stored: StoredFile, records: StreamRecords, sink: Sink,
                 progress_seconds: float, *, dialect: Dialect = DEFAULT_DIALECT) -> None:
        self.name = stored.key
        self.dialect = dialect
        self.records = records
        self.count = 0
        self.nul_characters = 0
        self._bucket = bucket
        self._stored = stored
        self._sink = sink
        self._build: FileRecords | None = None
        self._progress = Progress(stored, progress_seconds)
        self._check_at = PROGRESS_EVERY

    def file_records(self, header: Sequence[str]) -> FileRecords:
        """The FileRecords of this file (its header read), built once."""
        if self._build is None:
            self._build, unknown = self.records.for_file(self._bucket.name, self._stored, header)
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
        except ValueMismatch as exc:
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


PROGRESS_EVERY = 50_000  # records between two looks at the clock


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
