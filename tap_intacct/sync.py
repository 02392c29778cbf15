"""Sync: for each selected stream, read every file past its bookmark and emit records and state."""

from __future__ import annotations

import collections
import datetime
import io
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from tap_intacct.dds import candidates, versions
from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.checkpoints import Checkpoints
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import DataError, FileGone
from tap_intacct.output import logs
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.reading.dialect import DEFAULT_DIALECT
from tap_intacct.settings.knobs import Knobs, fast_engine_installed
from tap_intacct.values.conversion import ValueMismatch

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.candidates import StreamFiles
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.engines.records import FileRecords
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


def sync(bucket: Store, listing: Iterable[tuple[str, StoredFile]],
         selected: Sequence[SelectedStream], *, state: State, config: Config,
         writer: SingerWriter, sinks: Sinks, knobs: Knobs | None = None) -> None:
    """Sync the selected streams in catalog order; `state` is updated in place and emitted.

    `listing`: (table, file) of every readable data file, as candidates.data_files yields them;
    only the files the bookmarks want are kept (candidates.for_sync). A file that cannot be read
    stops its own stream at that file (its bookmark stays before it); the other streams still
    sync, and the run then fails naming every such file.
    """
    # every bookmark is checked before anything is emitted
    bookmarks = {stream.name: Bookmark.from_state(state, stream.name, config.start_date,
                                                  config.lookback_seconds)
                 for stream in selected}
    if not state.get("bookmarks"):
        state["bookmarks"] = {}
    tables = candidates.for_sync(listing, bookmarks)
    checkpoints = Checkpoints(writer, state, bookmarks, paced=config.lookback_seconds > 0)
    knobs = knobs or Knobs()
    progress_seconds = knobs.progress_seconds
    engine = fast_engine(knobs.engine)
    failures: list[str] = []
    try:
        for stream in selected:
            try:
                _sync_stream(bucket, tables.get(stream.name), stream,
                             bookmark=bookmarks[stream.name], checkpoints=checkpoints,
                             config=config, writer=writer, sinks=sinks,
                             progress_seconds=progress_seconds, engine=engine)
            except DataError as exc:
                LOGGER.warning("%s: stopped at a file that cannot be read (the other streams go "
                               "on): %s", stream.name, exc)
                failures += exc.problems
            finally:
                checkpoints.write()  # the bookmark after the last file read, if not written yet
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


def _sync_stream(bucket: Store, files: StreamFiles | None, stream: SelectedStream, *,
                 bookmark: Bookmark, checkpoints: Checkpoints, config: Config,
                 writer: SingerWriter, sinks: Sinks, progress_seconds: float,
                 engine: Engine | None) -> None:
    writer.schema(stream.name, stream.schema, stream.key_properties)
    if files is None:
        LOGGER.warning("%s: no files for this stream under %s any more; nothing to "
                       "sync, state unchanged", stream.name,
                       bucket.location(config.company_prefix))
        return
    # files.newest: for_sync keeps streams with a file; later_than: modified_since is set
    if bookmark.later_than(files.newest):  # type: ignore[arg-type]
        LOGGER.warning("%s: the bookmark %s is later than every file of this stream (newest: "
                       "%s), so nothing is read until newer files arrive; if the state was "
                       "edited or copied from elsewhere, fix it", stream.name,
                       bookmark.modified_since.isoformat(),  # type: ignore[union-attr]
                       files.newest.last_modified.isoformat())  # type: ignore[union-attr]
    # lookback_seconds was raised (cover_window), or a state of an earlier version shrinks
    if bookmark.cover_window(files.covered) | bookmark.prune():
        checkpoints.changed(stream.name, file_read=False)
    pending = files.wanted
    table_versions = None
    if config.full_exports == "replace":
        pending = _ready(stream.name, pending, config.full_export_quiet_seconds)
        table_versions = versions.TableVersions(bookmark, pending)
    LOGGER.info("%s: %d new file(s) since %s", stream.name, len(pending),
                (bookmark.modified_since or config.start_date).isoformat())
    records = StreamRecords(stream)
    total = 0
    for stored, binary in opened_ahead(bucket, pending):
        version = table_versions.version_for(stored) if table_versions else None
        try:
            total += sync_file(bucket, stored, binary, records, sinks,
                               progress_seconds=progress_seconds, engine=engine,
                               dialect=config.dialect, version=version)
        except FileGone as gone:
            if table_versions and versions.job_of(stored) is not None:
                raise DataError(f"{gone.key}: this part of full export job "
                                f"{versions.job_of(stored)} cannot be read ({gone.why}); the "
                                "job is not activated without it (re-run once the export is "
                                "complete)") from None
            LOGGER.warning("%s: skipped %s: %s", stream.name, gone.key, gone.why)
            continue
        bookmark.advance(stored)
        activated = table_versions.completes(stored) if table_versions else None
        if activated is not None:
            writer.activate_version(stream.name, activated)
        checkpoints.changed(stream.name)
        if activated is not None:
            checkpoints.write()  # the STATE with the activated version follows at once
    LOGGER.info("%s: %d record(s) from %d file(s)", stream.name, total, len(pending))


def _ready(stream: str, pending: list[StoredFile], quiet_seconds: int) -> list[StoredFile]:
    """The pending files that may be read now: none from a full export job still arriving."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ready, waiting = versions.ready(pending, datetime.timedelta(seconds=quiet_seconds), now)
    if waiting:
        LOGGER.info("%s: full export job %s (%d part(s) so far, the newest modified %s) may "
                    "still be arriving: it and the %d file(s) after it wait until %s "
                    "(full_export_quiet_seconds)", stream, waiting.job, waiting.parts,
                    waiting.newest.isoformat(), len(pending) - len(ready) - waiting.parts,
                    waiting.until.isoformat())
    return ready


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
    return "fix the export, or declare the column with a string fallback in the catalog"


def _allows_plain_string(schema: object) -> bool:
    if not isinstance(schema, dict):
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
