"""Reading a DDS export: its CSV bytes (decompression.py) to CSV rows: UTF-8 decoding, the
dialect and the header check, physical line numbers; `bounded` for the setup check's ranged
reads, `sample` for discovery's, `first_bytes_rows` for both.

Works on any binary stream, streamed line by line; nothing here knows about S3.
"""

from __future__ import annotations

import codecs
import csv
import io
import zlib
from collections.abc import Callable, Iterator
from typing import Self, cast

from tap_intacct.errors import DataError
from tap_intacct.reading.decompression import decompressed
from tap_intacct.reading.dialect import (
    DEFAULT_DIALECT,
    Dialect,
    ShapeError,
    compression_problem,
    encoding_problem,
    encryption_problem,
    header_problem,
    quote_problem,
    resolve,
)
from tap_intacct.reading.sources import BufferedSource, ByteSource

# A single field may be several MB (memo fields, attachments); the csv default is 128 KB.
FIELD_BYTES = 256 * 1024 * 1024


def line_end_of(data: bytes | bytearray, complete: bool) -> bytes | None:
    """b"\\r" if the first line of `data` ends in a lone CR (DDS's "mac" line endings), b"\\n"
    if it ends in LF or CRLF (unix, windows), None if `data` does not tell yet. `complete`:
    nothing follows `data`."""
    cr, lf = data.find(b"\r"), data.find(b"\n")
    if lf != -1 and (cr == -1 or lf < cr):
        return b"\n"
    if cr == -1:
        return b"\n" if complete else None
    if cr + 1 < len(data):
        return b"\n" if data[cr + 1:cr + 2] == b"\n" else b"\r"
    return b"\r" if complete else None


class _CountedBytes(io.BufferedIOBase):
    """Hands the decoder chunks of the CSV bytes, counting line ends so a decoding error can be
    placed on its line, and NUL bytes (in UTF-8 a 0 byte is only ever U+0000, a character kept
    like any other: README "Encoding and compression").

    `line_end` is the file's line ending, found in its first bytes. With `check_utf8`, bytes that
    are not UTF-8 are never handed out: everything before them is, then InvalidUtf8 is raised, so
    that every record before the bad line is read whatever the sizes of the reads (the fast
    engine relies on it).
    """

    def __init__(self, source: ByteSource, line_end: bytes | None = None, newlines_before: int = 0,
                 check_utf8: bool = True) -> None:
        super().__init__()
        self._source = source
        self._check_utf8 = check_utf8
        self._incomplete = b""  # the start of a UTF-8 sequence the last chunk ended in
        self._invalid: InvalidUtf8 | None = None
        self.newlines_before_chunk = newlines_before
        self.newlines = newlines_before
        self.nul_characters = 0
        self.bytes_read = 0
        self._error: Exception | None = None
        self._pending = b""
        self.first_bytes = b""  # what the probe for the line end read (the first line)
        self.line_end = line_end or self._probe_line_end()

    def _probe_line_end(self) -> bytes:
        """Reads until the first line end; what was read is handed out first by read1."""
        data = bytearray()
        line_end: bytes | None = None
        try:
            while line_end is None and len(data) < PROBE_BYTES:
                chunk = self._source.read1(DECOMPRESSED_READ_BYTES)
                data += chunk
                line_end = line_end_of(data, complete=not chunk)
        except (EOFError, zlib.error) as exc:
            self._error = exc  # raised when the reader gets past the bytes before it
        self._pending = bytes(data)
        self.first_bytes = self._pending
        return line_end or b"\n"

    def readable(self) -> bool:
        return True

    def _next_chunk(self, size: int) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        if self._error is not None:
            raise self._error
        return self._source.read1(size)

    def read1(self, size: int | None = -1) -> bytes:
        while True:
            if self._invalid is not None:
                raise self._invalid
            chunk = self._next_chunk(size if size and size > 0 else DECOMPRESSED_READ_BYTES)
            if not chunk:  # the end: every path below consumes input, so no loop spins here
                if self._check_utf8 and self._incomplete:
                    # the file ends inside a UTF-8 character (an upload cut short)
                    self._invalid = InvalidUtf8(self.newlines + 1, self._incomplete[0])
                    raise self._invalid
                return b""
            if b"\x00" in chunk:
                self.nul_characters += chunk.count(b"\x00")
            if self._check_utf8 and not (chunk.isascii() and not self._incomplete):
                chunk = self._valid_utf8(chunk)
                if not chunk:
                    continue
            self.newlines_before_chunk = self.newlines
            self.newlines += chunk.count(self.line_end)
            self.bytes_read += len(chunk)
            return chunk

    read = read1

    def _valid_utf8(self, chunk: bytes) -> bytes:
        """The part of `chunk` before any byte that is not UTF-8 (then InvalidUtf8 is raised at
        the next read)."""
        data = self._incomplete + chunk
        try:
            _text, used = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            valid = chunk[:max(exc.start - len(self._incomplete), 0)]
            line = self.newlines + valid.count(self.line_end) + 1
            self._invalid = InvalidUtf8(line, data[exc.start])
            return valid
        self._incomplete = data[used:]
        return chunk


class InvalidUtf8(ValueError):
    def __init__(self, line: int, byte: int) -> None:
        super().__init__(line, byte)
        self.line = line
        self.byte = byte


DECOMPRESSED_READ_BYTES = 1 << 16  # asked of the decompressed stream per read
PROBE_BYTES = 1 << 20  # no line end in the first MiB: taken as an LF file


class CutShort(io.RawIOBase):
    """The bytes of a ranged read that stopped before the end of the file. Reading past them
    raises EOFError, as a truncated compressed stream does, so that the record the range cut
    is never taken for a whole one (CsvRows with sample=True then ends there)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        size = min(len(buffer), len(self._data) - self._position)
        if size <= 0:
            raise EOFError("the ranged read ends here")
        buffer[:size] = self._data[self._position:self._position + size]
        self._position += size
        return size


class CsvRows:
    """Iterates (line_number, fields) for the data rows of one file; `header` is read first.

    line_number is the physical line where the record starts, the header being line 1; lines
    end in LF or CRLF, or in a lone CR when that is how the file's first line ends. Blank lines
    between records are skipped. With sample=True (discovery's ranged reads, which only shape
    types), reading is lenient: a record cut by the end of the range (where the stream raises
    EOFError, see CutShort) is left out, bytes that are not UTF-8 are replaced, and a
    malformed record ends the sample instead of failing the run. With bounded=True (the setup
    check's ranged reads of a file's first bytes), reading is as strict as sync's except at
    the end of the range: the record it cuts is left out and reading ends there.
    """

    def __init__(self, binary: BufferedSource, name: str, sample: bool = False,
                 dialect: Dialect = DEFAULT_DIALECT, bounded: bool = False) -> None:
        self._start(self.decompress(binary, name), name, sample=sample, dialect=dialect,
                    bounded=bounded)

    @staticmethod
    def decompress(binary: BufferedSource, name: str) -> BufferedSource:
        """The CSV bytes of `binary` (a buffered stream), whatever its compression
        (decompression.decompressed); DataError when the compressed data cannot even be
        opened."""
        return decompressed(binary, name)

    @classmethod
    def resume(cls, data: ByteSource, name: str, *, header: list[str] | None = None,
               lines_before: int = 0, line_end: bytes | None = None,
               dialect: Dialect = DEFAULT_DIALECT) -> Self:
        """The rows of already decompressed CSV bytes `data`: the whole file (header None), or
        the file read from the middle, `data` starting at the first byte of a record that
        starts after `lines_before` physical lines, `header` and `line_end` (b"\\n" or b"\\r")
        being the file's. Line numbers, errors and everything else are exactly those of
        reading the whole file. With a `header`, `dialect` is the one the file's header was read
        with (`dialect` of that CsvRows)."""
        rows = cls.__new__(cls)  # not __init__: `data` is already decompressed
        cls._start(rows, data, name, header=header, lines_before=lines_before, line_end=line_end,
                   dialect=dialect)
        return rows

    def _start(self, source: ByteSource, name: str, *, sample: bool = False,
               header: list[str] | None = None, lines_before: int = 0,
               line_end: bytes | None = None, dialect: Dialect = DEFAULT_DIALECT,
               bounded: bool = False) -> None:
        self.name = name
        self._sample = sample
        self._bounded = bounded
        self._lines_before = lines_before
        self._bytes = _CountedBytes(source, line_end, lines_before, check_utf8=not sample)
        if header is None:
            dialect = self._file_dialect(dialect)
        self.dialect = dialect  # as resolved for this file (the delimiter found in its header)
        # C-level decoding and line splitting at the file's line end only: '\r' stays data in
        # LF and CRLF files (the csv module drops the CR of CRLF), '\n' in CR files. A BOM is
        # only dropped at the start of the file.
        encoding = "utf-8" if header is not None else "utf-8-sig"
        # (typeshed types the buffer as a file with a name; any buffered reader will do)
        text = io.TextIOWrapper(cast(io.BufferedReader, self._bytes), encoding=encoding,
                                newline=self._bytes.line_end.decode(),
                                errors="replace" if sample else "strict")
        # strict: an unbalanced quote is an error, not a field that swallows the rest of the file
        csv.field_size_limit(FIELD_BYTES)  # process-wide: set when reading, not at import
        self._reader = csv.reader(text, strict=True, **dialect.csv_options)
        self.header = header if header is not None else self._read_header()

    def _file_dialect(self, dialect: Dialect) -> Dialect:
        """The dialect of this file, from its first line (read by _CountedBytes's probe);
        DataError for an encrypted file or a header line of another shape."""
        first = self._bytes.first_bytes
        end = first.find(self._bytes.line_end)
        first_line = first[:end if end >= 0 else len(first)]
        problem = (encryption_problem(first) or compression_problem(first)
                   or encoding_problem(first_line))
        if problem:
            raise DataError(f"{self.name}: {problem}")
        line = first_line.decode("utf-8-sig", "replace")
        try:
            return resolve(dialect, line)
        except ShapeError as exc:
            raise DataError(f"{self.name}: {exc}") from None

    @property
    def nul_characters(self) -> int:
        """How many NUL characters (U+0000) were read (kept in the values)."""
        return self._bytes.nul_characters

    @property
    def bytes_read(self) -> int:
        return self._bytes.bytes_read

    def _read_header(self) -> list[str]:
        for _start, fields in self._rows():
            problem = quote_problem(fields, self.dialect) or header_problem(fields, self.dialect)
            # a sample's bytes that are not UTF-8 are replaced: sync reports them, not this
            if problem and not (self._sample and "\ufffd" in "".join(fields)):
                raise DataError(f"{self.name}: {problem}")
            return fields
        return []

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        before = self._lines_before
        previous_end = before + self._reader.line_num
        try:
            for fields in self._reader:
                start = previous_end + 1
                previous_end = before + self._reader.line_num
                if fields:
                    yield start, fields
        except csv.Error as exc:
            if self._sample:
                return  # the sample ends inside a record: that record is left out
            raise DataError(f"{self.name}: the record starting at line {previous_end + 1} is "
                            f"not valid CSV ({exc}; is a quote left open?)") from None
        except InvalidUtf8 as exc:
            raise DataError(f"{self.name}: line {exc.line} is not valid UTF-8 (byte "
                            f"{exc.byte:#04x}); DDS exports must be UTF-8") from None
        except UnicodeDecodeError as exc:
            line = (self._bytes.newlines_before_chunk
                    + exc.object[:exc.start].count(self._bytes.line_end) + 1)
            raise DataError(f"{self.name}: line {line} is not valid UTF-8 (byte "
                            f"{exc.object[exc.start]:#04x}); DDS exports must be UTF-8") from None
        except EOFError as exc:
            if self._sample or self._bounded:
                return  # the end of the range (see CutShort): the record it cut is left out
            raise DataError(f"{self.name}: compressed data is corrupt or truncated after line "
                            f"{previous_end} ({exc})") from None
        except zlib.error as exc:
            if self._sample:
                return
            raise DataError(f"{self.name}: compressed data is corrupt or truncated after line "
                            f"{previous_end} ({exc})") from None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows()


MAX_HEADER_BYTES = 16 * 1024 * 1024  # how far a ranged read grows to find the header line


def first_bytes_rows(read: Callable[[int], bytes], name: str, length: int, *,
                     dialect: Dialect = DEFAULT_DIALECT, sample: bool = False
                     ) -> tuple[CsvRows, bool, int]:
    """CsvRows of a file's first `length` bytes (`read(n)` returns its first n), read again four
    times longer while its header line does not fit, up to MAX_HEADER_BYTES: (the rows, True if
    the bytes stop before the file's end, the length read). `sample`: discovery's lenient
    reading; else the setup check's, as strict as sync's except where the range cuts a record."""
    while True:
        data = read(length)
        cut = len(data) >= length
        binary = io.BufferedReader(CutShort(data) if cut else io.BytesIO(data))
        rows = CsvRows(binary, name, dialect=dialect, sample=sample, bounded=cut and not sample)
        if rows.header or not cut or length >= MAX_HEADER_BYTES:
            return rows, cut, length
        length *= 4
