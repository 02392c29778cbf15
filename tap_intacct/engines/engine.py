"""The engines and the one place one is chosen: a file's open stream read into a sink of records,
by the row path (`RowEngine`: CsvRows, one record at a time) or the fast engine (columnar.py,
imported when it reads its first file). `sync_file` reads one file with an engine into a sink.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Protocol

from tap_intacct.engines.file_reading import FileReading
from tap_intacct.output import logs
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.reading.dialect import DEFAULT_DIALECT
from tap_intacct.settings.knobs import fast_engine_installed

if TYPE_CHECKING:
    import io

    from tap_intacct.dds.files import StoredFile
    from tap_intacct.engines.records import StreamRecords
    from tap_intacct.output.messages import Sinks
    from tap_intacct.reading.dialect import Dialect
    from tap_intacct.storage.store import Store

LOGGER = logging.getLogger("tap_intacct")


class Engine(Protocol):
    """Reads a file's open stream into its FileReading: every record, in file order."""

    def read_file(self, binary: io.BufferedReader, reading: FileReading) -> None: ...

    def shutdown(self) -> None:
        """Stops what the engine started (the fast engine's worker threads); a later file
        read with it starts them again."""


# auto: below this many bytes to read in a run, the row path finishes before the fast engine
# has loaded Arrow and numpy (about 0.3 s of CPU; measured crossover about 5 MB of CSV, README
# "The fast engine")
AUTO_FAST_BYTES = 4 * 1024 * 1024


def engine_for(choice: str, bytes_to_read: int | None = None) -> Engine:
    """The engine for TAP_INTACCT_ENGINE=`choice`. auto: the fast one when its extra is
    installed and the run has at least AUTO_FAST_BYTES to read (`bytes_to_read`, the stored
    size of the files it wants; None: unknown), else the row path."""
    if choice == "rows":
        return RowEngine()
    if choice == "auto":
        if not fast_engine_installed():
            return RowEngine()
        if bytes_to_read is not None and bytes_to_read < AUTO_FAST_BYTES:
            LOGGER.info("engine auto: the row path for this run's %d bytes to read (the fast "
                        "engine pays for loading Arrow from %d MiB)", bytes_to_read,
                        AUTO_FAST_BYTES // (1024 * 1024))
            return RowEngine()
    return _ColumnarOnFirstFile()


class RowEngine:
    """The row path: CsvRows, one record at a time (FileReading.rows)."""

    def read_file(self, binary: io.BufferedReader, reading: FileReading) -> None:
        reading.rows(CsvRows(binary, reading.name, dialect=reading.dialect))

    def shutdown(self) -> None:
        pass


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


def sync_file(store: Store, stored: StoredFile, binary: io.BufferedReader,
              records: StreamRecords, sinks: Sinks, *, progress_seconds: float,
              engine: Engine, dialect: Dialect = DEFAULT_DIALECT,
              version: int | None = None) -> int:
    """Emit every record of one file (binary: its open stream, closed here) into a sink of
    `sinks` (RECORD messages or batch files); returns how many. `engine`: engine_for's (or the
    columnar module itself); `dialect`: the configured one (the delimiter may be found in the
    file's header line); `version`: the table version the records carry (full_exports
    replace), or None."""
    started = time.monotonic()
    with binary, sinks.open(records.name, version) as sink:
        reading = FileReading(store, stored, records, sink, progress_seconds, dialect=dialect)
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
