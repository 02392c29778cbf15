"""Discovery: one catalog stream per exported table, schema inferred from the files themselves."""

import concurrent.futures
import io
import logging

from tap_intacct.catalog import stream_entry
from tap_intacct.columns import unique_header
from tap_intacct.conversion import ColumnTypes
from tap_intacct.csvfile import CsvRows, CutShort
from tap_intacct.errors import DataError, FileGone

LOGGER = logging.getLogger("tap_intacct")

# Sampling rates as in singer-io's tap-intacct (5 files, every 5th row, 1000 rows a file); the
# files sampled are the newest of those a first sync would read.
SAMPLE_FILES = 5
SAMPLE_EVERY = 5
SAMPLE_ROWS = 1000
HEADER_BYTES = 64 * 1024
SAMPLE_BYTES = 4 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024 * 1024
READERS = 8
SAMPLE_READERS = 2


def discover(bucket, tables, config):
    """The catalog (a dict) for tables: {table name: its files, oldest first}."""
    jobs = []  # (table, stored file, is a sample)
    for table, files in tables.items():
        in_range = [f for f in files if f.last_modified > config.start_date] or files[-1:]
        samples = set(in_range[-SAMPLE_FILES:])
        jobs += [(table, f, f in samples) for f in in_range]

    # Sample reads (SAMPLE_BYTES each) get their own few threads: memory stays bounded, also
    # the memory the allocator keeps per thread after a large read.
    by_table = {}
    with (concurrent.futures.ThreadPoolExecutor(READERS) as header_pool,
          concurrent.futures.ThreadPoolExecutor(SAMPLE_READERS) as sample_pool):
        pending = [(table, (sample_pool if is_sample else header_pool).submit(
            _file_types, bucket, stored, is_sample, config.dialect))
            for table, stored, is_sample in jobs]
        for table, future in pending:
            by_table.setdefault(table, []).append(future.result())

    streams = []
    for table in tables:
        types = ColumnTypes()
        for file_types in reversed(by_table.get(table, [])):  # newest file's column order first
            types.merge(file_types)
        schema = {name: types.schema_for(name, config.string_fallback) for name in types.seen}
        streams.append(stream_entry(table, schema))
    return {"streams": streams}


def _file_types(bucket, stored, is_sample, dialect):
    """The ColumnTypes of one file's header and sampled rows, from a bounded ranged read of its
    first bytes; a file that vanished or cannot be read adds nothing (sync reports a bad file
    loudly). Only these few sets per column are kept, never the sampled rows."""
    types = ColumnTypes()
    try:
        if is_sample:
            header, rows = _header_and_rows(bucket, stored, SAMPLE_BYTES, dialect)
            _add_samples(types, header, rows)
        else:
            header, _rows = _header_and_rows(bucket, stored, HEADER_BYTES, dialect)
            for name in header:
                types.add_column(name)
    except (FileGone, DataError) as exc:
        LOGGER.warning("Discovery skipped %s: %s", stored.key, exc)
    return types


def _header_and_rows(bucket, stored, length, dialect):
    """(unique header names, CsvRows past the header) of the file's first `length` bytes, read
    again longer while the header itself does not fit."""
    while True:
        data = bucket.read_range(stored, length)
        cut = len(data) >= length
        binary = io.BufferedReader(CutShort(data) if cut else io.BytesIO(data))
        rows = CsvRows(binary, stored.key, sample=True, dialect=dialect)
        if rows.header or not cut or length >= MAX_HEADER_BYTES:
            break
        length *= 4
    if not rows.header:
        LOGGER.warning("%s has no header row; it adds no columns", stored.key)
    return unique_header(rows.header), rows


def _add_samples(types, header, rows):
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
