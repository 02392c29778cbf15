"""Discovery: one catalog stream per exported table, schema inferred from the files themselves."""

from __future__ import annotations

import collections
import concurrent.futures
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias

from tap_intacct.dds.catalog import stream_entry
from tap_intacct.dds.columns import unique_header
from tap_intacct.errors import DataError, FileGone
from tap_intacct.reading.csvfile import CsvRows, first_bytes_rows
from tap_intacct.values.conversion import ColumnTypes

if TYPE_CHECKING:
    from tap_intacct.dds.catalog import Catalog
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.reading.dialect import Dialect
    from tap_intacct.settings.config import Config

LOGGER = logging.getLogger("tap_intacct")

# Sampling rates as in singer-io's tap-intacct (5 files, every 5th row, 1000 rows a file); the
# files sampled are the newest of those a first sync would read.
SAMPLE_FILES = 5
SAMPLE_EVERY = 5
SAMPLE_ROWS = 1000
# A header read is small: a DDS header line (even of a few hundred columns) fits in the first
# HEADER_BYTES; a longer one is read again, 4 times longer each time (csvfile.first_bytes_rows).
HEADER_BYTES = 16 * 1024
SAMPLE_BYTES = 4 * 1024 * 1024
# Header reads are tiny: each store says how many to keep in flight (small_reads_in_flight).
SAMPLE_READERS = 2

Header: TypeAlias = tuple[str, ...]
# One file's header (or sample) to read: (table, position, file, is a sample).
HeaderRead: TypeAlias = tuple[str, int, "StoredFile", bool]
Where: TypeAlias = tuple[str, int]  # (table, position)


class RangedReads(Protocol):
    """What discovery reads files through: a store (storage.store.Store), of which it needs
    only this."""

    small_reads_in_flight: int  # header reads kept in flight

    def read_range(self, stored: StoredFile, length: int) -> bytes:
        """The file's first `length` bytes (fewer if it is shorter)."""


def discover(store: RangedReads, tables: Mapping[str, Sequence[StoredFile]], config: Config
             ) -> Catalog:
    """The catalog (a dict) for tables: {table name: its files, oldest first}."""
    # per table: the samples' ColumnTypes and each distinct header, by the position (oldest
    # first) of the newest file that has it; only these are kept, never one result per file
    samples: dict[str, list[tuple[int, ColumnTypes]]] = {table: [] for table in tables}
    headers: dict[str, dict[Header, int]] = {table: {} for table in tables}
    for (table, position), result in _read_all(store, _header_reads(tables, config),
                                               config.dialect):
        if isinstance(result, ColumnTypes):
            samples[table].append((position, result))
        else:
            found = headers[table]
            found[result] = max(position, found.get(result, position))

    streams = []
    for table in tables:
        by_position = samples[table] + [(position, header)
                                        for header, position in headers[table].items()]
        types = ColumnTypes()
        for _position, result in sorted(by_position, key=lambda item: item[0], reverse=True):
            # newest file's column order first
            if isinstance(result, ColumnTypes):
                types.merge(result)
            else:
                for name in result:
                    types.add_column(name)
        schema = {name: types.schema_for(name, config.string_fallback) for name in types.seen}
        streams.append(stream_entry(table, schema))
    return {"streams": streams}


def _header_reads(tables: Mapping[str, Sequence[StoredFile]], config: Config
                  ) -> Iterator[HeaderRead]:
    """(table, position, file, is a sample) for each file whose header makes the schema: those
    a first sync would read (or the newest), the newest SAMPLE_FILES of them sampled."""
    for table, files in tables.items():
        in_range = [f for f in files if f.last_modified > config.start_date] or files[-1:]
        first_sample = len(in_range) - SAMPLE_FILES
        for position, stored in enumerate(in_range):
            yield table, position, stored, position >= first_sample


def _read_all(store: RangedReads, reads: Iterable[HeaderRead], dialect: Dialect
              ) -> Iterator[tuple[Where, ColumnTypes | Header]]:
    """((table, position), ColumnTypes of a sample or header tuple) of every read, in order,
    with a bounded number of reads submitted ahead. Sample reads (SAMPLE_BYTES each) get their
    own few threads: memory stays bounded, also the memory the allocator keeps per thread after
    a large read."""
    readers = store.small_reads_in_flight
    ahead = 4 * (readers + SAMPLE_READERS)  # reads submitted ahead of the one awaited
    with (concurrent.futures.ThreadPoolExecutor(readers) as header_pool,
          concurrent.futures.ThreadPoolExecutor(SAMPLE_READERS) as sample_pool):
        pending: collections.deque[
            tuple[Where, concurrent.futures.Future[ColumnTypes | Header]]] = collections.deque()
        for table, position, stored, is_sample in reads:
            pool = sample_pool if is_sample else header_pool
            pending.append(((table, position), pool.submit(_file_types, store, stored,
                                                           is_sample, dialect)))
            if len(pending) > ahead:
                where, future = pending.popleft()
                yield where, future.result()
        while pending:
            where, future = pending.popleft()
            yield where, future.result()


def _file_types(store: RangedReads, stored: StoredFile, is_sample: bool, dialect: Dialect
                ) -> ColumnTypes | Header:
    """A sample's ColumnTypes (header and sampled rows), or else the file's header as a tuple of
    names, from a bounded ranged read of its first bytes; a file that vanished or cannot be read
    adds nothing (sync reports a bad file loudly). Only these few sets per column are kept,
    never the sampled rows."""
    types = ColumnTypes()
    try:
        if not is_sample:
            return tuple(_header_and_rows(store, stored, HEADER_BYTES, dialect)[0])
        header, rows = _header_and_rows(store, stored, SAMPLE_BYTES, dialect)
        _add_samples(types, header, rows)
    except (FileGone, DataError) as exc:
        LOGGER.warning("Discovery skipped %s: %s", stored.key, exc)
        return types if is_sample else ()
    return types


def _header_and_rows(store: RangedReads, stored: StoredFile, length: int, dialect: Dialect
                     ) -> tuple[list[str], CsvRows]:
    """(unique header names, CsvRows past the header) of the file's first `length` bytes, read
    again longer while the header itself does not fit."""
    rows, _cut, _length = first_bytes_rows(lambda size: store.read_range(stored, size),
                                           stored.key, length, dialect=dialect, sample=True)
    if not rows.header:
        LOGGER.warning("%s has no header row; it adds no columns", stored.key)
    return unique_header(rows.header, stored.key), rows


def _add_samples(types: ColumnTypes, header: list[str], rows: CsvRows) -> None:
    for name in header:
        types.add_column(name)
    sampled = 0
    for position, (_line, fields) in enumerate(rows):
        if position % SAMPLE_EVERY == 0:
            for name, value in zip(header, fields, strict=False):
                types.add_sample(name, value)
            sampled += 1
            if sampled >= SAMPLE_ROWS:
                break
