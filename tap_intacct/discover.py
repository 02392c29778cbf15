"""Discovery: one catalog stream per exported table, schema inferred from the files themselves."""

import concurrent.futures
import io
import logging

from tap_intacct.catalog import stream_entry
from tap_intacct.columns import unique_header
from tap_intacct.conversion import ColumnTypes
from tap_intacct.csvfile import GZIP_MAGIC, ZIP_MAGIC, CsvRows
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


def discover(bucket, tables, config):
    """The catalog (a dict) for tables: {table name: its files, oldest first}."""
    jobs = []  # (table, stored file, is a sample)
    for table, files in tables.items():
        in_range = [f for f in files if f.last_modified > config.start_date] or files[-1:]
        samples = set(in_range[-SAMPLE_FILES:])
        jobs += [(table, f, f in samples) for f in in_range]

    with concurrent.futures.ThreadPoolExecutor(READERS) as pool:
        results = pool.map(lambda job: _read_file_start(bucket, job[1], job[2]), jobs)
        by_table = {}
        for (table, stored, _), result in zip(jobs, results, strict=True):
            by_table.setdefault(table, []).append((stored, result))

    streams = []
    for table in tables:
        schema = _table_schema(by_table.get(table, []), config.string_fallback)
        streams.append(stream_entry(table, schema))
    return {"streams": streams}


def _table_schema(read_files, string_fallback):
    """Column schemas for one table: the union of headers, newest file's order first."""
    types = ColumnTypes()
    for _stored, (header, sample_rows) in reversed(read_files):
        for name in header:
            types.add_column(name)
        for row in sample_rows:
            for name, value in zip(header, row, strict=False):
                types.add_sample(name, value)
    return {name: types.schema_for(name, string_fallback) for name in types.seen}


def _read_file_start(bucket, stored, is_sample):
    """(header names, sampled rows) from a bounded ranged read of the file's first bytes; a
    file that vanished or cannot be read adds nothing (sync reports a bad file loudly)."""
    try:
        return _header_and_samples(bucket, stored, is_sample)
    except (FileGone, DataError) as exc:
        LOGGER.warning("Discovery skipped %s: %s", stored.key, exc)
        return [], []


def _header_and_samples(bucket, stored, is_sample):
    length = SAMPLE_BYTES if is_sample else HEADER_BYTES
    while True:
        data = bucket.read_range(stored, length)
        truncated = len(data) >= length
        if truncated and not data.startswith((GZIP_MAGIC, ZIP_MAGIC)):
            data = data[:data.rfind(b"\n") + 1]  # whole lines only
        rows = CsvRows(io.BufferedReader(io.BytesIO(data)), stored.key, sample=True)
        if rows.header or not truncated or length >= MAX_HEADER_BYTES:
            break
        length *= 4  # the header itself is longer than the range read
    if not rows.header:
        LOGGER.warning("%s has no header row; it adds no columns", stored.key)
        return [], []
    sampled = []
    if is_sample:
        try:
            for position, (_line, fields) in enumerate(rows):
                if position % SAMPLE_EVERY == 0:
                    sampled.append(fields)
                    if len(sampled) >= SAMPLE_ROWS:
                        break
        except DataError as exc:
            LOGGER.warning("Sampling stopped early: %s", exc)
    return unique_header(rows.header), sampled
