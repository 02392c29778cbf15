"""The fast engine (the `fast` extra: pyarrow, numpy): a file's decompressed CSV bytes to exactly
the record JSON texts the row path builds, handed to the same sink.

The reading thread cuts the bytes into chunks ending at record ends (chunks.py); the workers
(WORKERS: one per CPU the process may run on) check and parse them (Arrow releases the GIL; Arrow's
own threads are off) and assemble each record's JSON from the file's RecordLayout, column by column
(fragments.py); the reading thread writes the results in file order. A file whose first line does
not end in LF or CRLF, a header that is not one simple line, or any chunk that fails a check or
raises, hands the rest of the file, from that chunk's first byte, to the unchanged row path
(CsvRows.resume), which then produces its own records, line numbers, `_sdc_extra`, padding and
errors.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Literal, TypeAlias, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as arrow_csv

from tap_intacct.engines.chunks import (
    CHUNK_BYTES,
    MAX_CHUNK_BYTES,
    Chained,
    Chunk,
    Chunks,
    NotFast,
    read_block,
    record_lines,
)
from tap_intacct.engines.fragments import column_fragments, deleted_at_fragments
from tap_intacct.engines.records import COLUMN, CONSTANT, DELETED_AT, LINENO, DeletedAt
from tap_intacct.reading.csvfile import CsvRows, line_end_of
from tap_intacct.values.encoding import encode_string

if TYPE_CHECKING:
    from concurrent.futures import Future

    import numpy.typing as npt

    from tap_intacct.engines.file_reading import FileReading
    from tap_intacct.engines.fragments import ColumnFragments
    from tap_intacct.engines.records import FileRecords, StreamRecords
    from tap_intacct.reading.dialect import Dialect
    from tap_intacct.reading.sources import BufferedSource

    # A plan's part: literal text, or (kind, ...) for a per-row fragment.
    Part: TypeAlias = (str | tuple[Literal["column"], int | None, ColumnFragments]
                       | tuple[Literal["lineno"]] | tuple[Literal["deleted_at"], DeletedAt])
    # Chunks whose records are being built, with the future (text, count) of each.
    Pending: TypeAlias = collections.deque[tuple[Chunk, Future[tuple[str, int]]]]

LOGGER = logging.getLogger("tap_intacct")
# as many workers as the CPUs this process may run on (its affinity; 2 on the project's machine
# class); memory stays bounded by the chunks in flight (AHEAD), not by the workers
WORKERS = max(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
              (os.cpu_count() or 2), 1)
# chunks read ahead of the one being written (memory: AHEAD x a few CHUNK_BYTES), enough to keep
# every worker busy
AHEAD = max(2, WORKERS)
BOM = b"\xef\xbb\xbf"


@functools.cache
def _use_jemalloc() -> None:
    """Arrow's jemalloc pool hands memory back to the system sooner than its default. Chosen at
    the first file, not at import: importing a module changes no process-wide setting."""
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow build without jemalloc
        pass


def read_file(binary: BufferedSource, reading: FileReading) -> None:
    """Reads one file (binary: its open stream) into `reading` (file_reading.FileReading)."""
    _use_jemalloc()
    name = reading.name
    source = CsvRows.decompress(binary, name)
    start, error = _first_bytes(source)
    header_end = _header_end(start, error)
    if header_end:  # the header's dialect and checks, as the row path reads them
        first = CsvRows.resume(Chained([start[:header_end]]), name, dialect=reading.dialect)
        dialect, header = first.dialect, first.header
        delimiter, quote = cast(str, dialect.delimiter).encode(), dialect.quotechar.encode()
        if not _followable(start, header_end, delimiter, quote):
            header_end = 0
    if not header_end:
        LOGGER.info("%s: fast engine not used (line ends or header); row path", name)
        reading.rows(CsvRows.resume(Chained([start], None if error else source, error), name,
                                    dialect=reading.dialect))
        return
    plan = Plan(reading.records, reading.file_records(header), reading.line_format, dialect)
    chunks = Chunks(source, start[header_end:], lines_before=1, quote=quote)
    left = _write_in_order(chunks, plan, reading)
    pieces = [chunk.data for chunk in left] + [chunks.carry]
    if not (any(pieces) or chunks.error or not chunks.finished):
        LOGGER.info("%s: fast engine: all %d record(s)", name, reading.count)
        return
    lines_before = left[0].lines_before if left else chunks.lines
    LOGGER.info("%s: fast engine: %d record(s), then the row path from line %d", name,
                reading.count, lines_before + 1)
    rest = Chained(pieces, None if chunks.finished or chunks.error else source, chunks.error)
    reading.rows(CsvRows.resume(rest, name, header=header, lines_before=lines_before,
                                line_end=b"\n", dialect=dialect),
                 bytes_before=chunks.bytes_read)


def _first_bytes(source: BufferedSource) -> tuple[bytes, Exception | None]:
    """(bytes from the start of the file up to at least its first LF, or all of it; the error
    reading raised, or None). Only the header's line end is looked for: a header the fast
    engine cannot follow (a stray quote) must not make it read on (issue 15)."""
    data = b""
    while True:
        block, error = read_block(source, max(CHUNK_BYTES, len(data)))
        data += block
        if error is not None:
            return data, error
        if not block or b"\n" in block or len(data) > MAX_CHUNK_BYTES:
            return data, None


def _header_end(data: bytes, error: Exception | None) -> int:
    """Where the header ends if it is one line (LF or CRLF) of UTF-8 text the fast engine may
    follow the file from; 0 otherwise (the row path reads the file)."""
    start = len(BOM) if data.startswith(BOM) else 0
    end = data.find(b"\n", start) + 1
    if error is not None or not end or line_end_of(data, complete=True) != b"\n":
        return 0
    try:
        data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return 0
    if not data[start:end].strip(b"\r\n"):
        return 0
    return end


def _followable(data: bytes, header_end: int, delimiter: bytes, quote: bytes) -> bool:
    """True if the header line passes the byte checks of every chunk (an odd number of quotes,
    a quoted line end or a stray quote fail them)."""
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        record_lines(Chunk(data[start:header_end], 0), delimiter, quote)
    except NotFast:
        return False
    return True


def _write_in_order(chunks: Chunks, plan: Plan, reading: FileReading) -> list[Chunk]:
    """Builds the chunks' records in the workers and writes them in file order; returns the
    chunks not written (the first of them failed), [] if all were."""
    pending: Pending = collections.deque()
    pool = _pool()
    try:
        for chunk in chunks:
            pending.append((chunk, pool.submit(plan.records, chunk)))
            while len(pending) > AHEAD:
                if not _write_first(pending, reading, chunks.bytes_read):
                    return [chunk for chunk, _ in pending]
        while pending:
            if not _write_first(pending, reading, chunks.bytes_read):
                return [chunk for chunk, _ in pending]
    finally:
        for _, future in pending:  # a failure: nothing more of this file is wanted from them
            future.cancel()
        wait([future for _, future in pending])
    return []


_workers: list[ThreadPoolExecutor] = []


def shutdown() -> None:
    """Stop the run's workers (after the last file; a later file starts them again)."""
    while _workers:
        _workers.pop().shutdown(wait=True)


def _pool() -> ThreadPoolExecutor:
    """The run's WORKERS workers, started once (new threads per file would each grow their own
    allocator caches)."""
    if not _workers:
        _workers.append(ThreadPoolExecutor(WORKERS, thread_name_prefix="tap-intacct-fast"))
    return _workers[0]


def _write_first(pending: Pending, reading: FileReading, bytes_read: int) -> bool:
    chunk, future = pending[0]
    try:
        text, count = future.result()
    except Exception as exc:  # noqa: BLE001 (any failure hands the chunk to the row path)
        LOGGER.info("%s: fast engine: line %d onwards goes to the row path (%s: %s)",
                    reading.name, chunk.lines_before + 1, type(exc).__name__,
                    str(exc)[:200])
        return False
    reading.write_block(text, count, bytes_read)
    pending.popleft()
    return True


class Plan:
    """How one file's records are assembled from a parsed chunk: literal JSON text between
    per-row parts, in the order of the file's RecordLayout."""

    def __init__(self, records: StreamRecords, build: FileRecords, line_format: tuple[str, str],
                 dialect: Dialect) -> None:
        layout = build.layout
        self._delimiter, self._quote = cast(str, dialect.delimiter), dialect.quotechar
        self._delimiter_byte, self._quote_byte = self._delimiter.encode(), self._quote.encode()
        before, after = line_format
        self.width = layout.width
        self._parts: list[Part] = []  # literal text, or (kind, function) for per-row fragments
        part: Part
        literal = before + "{"
        for index, member in enumerate(layout.members):
            literal += ("," if index else "") + encode_string(member.key) + ":"
            if member.source == CONSTANT:
                literal += encode_string(cast(str, member.value))
                continue
            if member.source == COLUMN:
                quoted, fragments = column_fragments(records.converters[member.key],
                                                     records.encoders[member.key])
                part = (COLUMN, member.position, fragments)
                if quoted:
                    self._parts += [literal + '"', part]
                    literal = '"'
                    continue
            elif member.source == LINENO:
                part = (LINENO,)
            elif (member.source == DELETED_AT
                  and cast(DeletedAt, build.deleted_at).change_at is None):
                literal += "null"
                continue
            elif member.source == DELETED_AT:
                part = (DELETED_AT, cast(DeletedAt, build.deleted_at))
            else:  # _sdc_extra: only rows longer than the header have it, and those fall back
                literal = literal[:-len(encode_string(member.key) + ":") - (1 if index else 0)]
                continue
            self._parts += [literal, part]
            literal = ""
        self._parts.append(literal + "}" + after)
        self._names = [f"c{position}" for position in range(self.width)]

    def records(self, chunk: Chunk) -> tuple[str, int]:
        """(the chunk's records as lines of text, how many), or an exception (NotFast, Arrow's,
        a Misfit...)."""
        lines = record_lines(chunk, self._delimiter_byte, self._quote_byte)
        if not chunk.data.isascii():
            chunk.data.decode("utf-8")  # the row path's own check: invalid UTF-8 falls back
        table = self._parse(chunk.data)
        if table.num_rows != lines.size:
            raise NotFast(f"{table.num_rows} records parsed, {lines.size} line ends outside "
                          "quotes (blank lines?)")
        arguments = [self._part(part, table, lines) for part in self._parts]
        lines_of_text = pc.binary_join_element_wise(*arguments, "")
        offsets = np.frombuffer(lines_of_text.buffers()[1], np.int32)[lines_of_text.offset:]
        start, end = int(offsets[0]), int(offsets[len(lines_of_text)])
        # record JSON is ASCII (encode_string escapes everything else)
        return str(lines_of_text.buffers()[2][start:end], "ascii"), len(lines_of_text)

    def _parse(self, data: bytes) -> pa.Table:
        if not self.width:
            raise NotFast("no columns")
        table = arrow_csv.read_csv(
            pa.BufferReader(data),
            read_options=arrow_csv.ReadOptions(column_names=self._names, use_threads=False,
                                               block_size=len(data) + 1),
            parse_options=arrow_csv.ParseOptions(delimiter=self._delimiter,
                                                 quote_char=self._quote,
                                                 newlines_in_values=True,
                                                 ignore_empty_lines=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(self._names, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False,
                check_utf8=False))  # records() checks UTF-8 exactly as the row path does
        return table.combine_chunks()

    @staticmethod
    def _part(part: Part, table: pa.Table,
              lines: npt.NDArray[np.int64]) -> str | pa.StringArray:
        if isinstance(part, str):
            return part
        if part[0] == COLUMN:
            return part[2](table.column(part[1]).chunk(0) if table.num_rows else
                           pa.array([], pa.string()))
        if part[0] == LINENO:
            return pa.array(lines).cast(pa.string())
        deleted_at = part[1]
        read_at = deleted_at.read_at
        return deleted_at_fragments(
            deleted_at, table.column(deleted_at.change_at).chunk(0),
            None if read_at is None else table.column(read_at).chunk(0))
