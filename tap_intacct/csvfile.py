"""Reading a DDS export: decompression by magic bytes, UTF-8 decoding, CSV rows with line numbers.

Works on any binary stream, streamed line by line; nothing here knows about S3.
"""

import csv
import gzip
import io
import struct
import zlib

from tap_intacct.errors import DataError

# A single field may be several MB (memo fields, attachments); the csv default is 128 KB.
csv.field_size_limit(256 * 1024 * 1024)

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
BOM = "\ufeff"


def decompressed(binary, name):
    """The stream of CSV bytes inside `binary` (a buffered stream), whatever its compression."""
    magic = binary.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return io.BufferedReader(gzip.GzipFile(fileobj=binary, mode="rb"), buffer_size=1 << 20)
    if magic == ZIP_MAGIC:
        return io.BufferedReader(ZipMemberStream(binary, name), buffer_size=1 << 20)
    return binary


class ZipMemberStream(io.RawIOBase):
    """The first member of a zip archive, read front to back without seeking (so it streams).

    DDS zips hold one CSV; members after the first are reported, not read.
    """

    def __init__(self, binary, name):
        super().__init__()
        self._binary = binary
        self._name = name
        header = binary.read(30)
        if len(header) < 30:
            raise DataError(f"{name}: truncated zip archive")
        (_sig, _version, flags, method, _time, _date, _crc, compressed_size, _size,
         name_length, extra_length) = struct.unpack("<IHHHHHIIIHH", header)
        binary.read(name_length + extra_length)
        if flags & 0x1:
            raise DataError(f"{name}: encrypted zip archives are not supported")
        if method == 8:
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            self._remaining = None
        elif method == 0 and not flags & 0x8:
            self._inflater = None
            self._remaining = compressed_size
        else:
            raise DataError(f"{name}: zip compression method {method} is not supported "
                            "(use deflate or gzip)")
        self._pending = b""
        self._tail = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._pending:
            self._pending = self._next_chunk()
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next_chunk(self):
        if self._inflater is None:  # stored: copy compressed_size bytes
            if not self._remaining:
                return b""
            chunk = self._binary.read(min(self._remaining, 1 << 20))
            if not chunk:
                raise EOFError(f"{self._name}: truncated zip archive")
            self._remaining -= len(chunk)
            return chunk
        while not self._inflater.eof:
            data = self._tail or self._binary.read(1 << 16)
            if not data:
                raise EOFError(f"{self._name}: truncated zip archive")
            out = self._inflater.decompress(data, 1 << 20)
            self._tail = self._inflater.unconsumed_tail
            if out:
                return out
        return b""


class CsvRows:
    """Iterates (line_number, fields) for the data rows of one file; `header` is read first.

    line_number is the physical line (counted in '\\n') where the record starts, the header
    being line 1. Blank lines between records are skipped. With truncated=True (a ranged
    sample), the last, possibly cut, record is dropped and a cut compressed stream is the end.
    """

    def __init__(self, binary, name, truncated=False):
        self.name = name
        self._truncated = truncated
        self._lines_read = 0
        self._lines = self._decoded_lines(decompressed(binary, name))
        self._reader = csv.reader(self._lines, strict=False)
        self.header = self._read_header()

    def _decoded_lines(self, binary):
        first = True
        try:
            for raw in binary:
                self._lines_read += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if self._truncated and not raw.endswith(b"\n"):
                        return  # a sample cut in the middle of a character
                    raise DataError(
                        f"{self.name}: line {self._lines_read} is not valid UTF-8 (byte "
                        f"{raw[exc.start]:#04x} at column {exc.start + 1}); DDS exports must be "
                        "UTF-8") from None
                if first:
                    first = False
                    if line.startswith(BOM):
                        line = line[1:]
                if self._truncated and not line.endswith("\n"):
                    return  # the sample's cut line
                yield line
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if self._truncated:
                return
            raise DataError(f"{self.name}: compressed data is corrupt or truncated after line "
                            f"{self._lines_read} ({exc})") from None

    def _read_header(self):
        for _start, fields in self._reader_rows():
            return fields
        return []

    def _reader_rows(self):
        previous_end = self._reader.line_num
        try:
            for fields in self._reader:
                start = previous_end + 1
                previous_end = self._reader.line_num
                if fields:
                    yield start, fields
        except csv.Error as exc:
            raise DataError(f"{self.name}: line {self._reader.line_num}: {exc}") from None

    def __iter__(self):
        rows = self._reader_rows()
        if not self._truncated:
            return rows
        return _all_but_last(rows)


def _all_but_last(iterable):
    iterator = iter(iterable)
    previous = next(iterator, None)
    if previous is None:
        return
    for item in iterator:
        yield previous
        previous = item
