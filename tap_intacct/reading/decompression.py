"""A DDS export's CSV bytes, whatever its compression, told by its magic bytes: gzip (every
member, as gzip does), a zip archive's one file member (ziparchive.py), or none. Streamed, and
nothing of the file is left unread: after the compressed data only what its format allows may
follow (zero padding after gzip, the rest of the archive after a zip member).
"""

from __future__ import annotations

import io
import zlib

from tap_intacct.errors import DataError
from tap_intacct.reading import ziparchive
from tap_intacct.reading.sources import BufferedSource, ByteSource

GZIP_MAGIC = b"\x1f\x8b"


def decompressed(binary: BufferedSource, name: str) -> BufferedSource:
    """The CSV bytes of `binary` (a buffered stream), whatever its compression; DataError
    when the compressed data cannot even be opened."""
    try:
        return _decompressed(binary, name)
    except (EOFError, zlib.error) as exc:
        raise DataError(f"{name}: compressed data is corrupt or truncated ({exc})") from None


def _decompressed(binary: BufferedSource, name: str) -> BufferedSource:
    """The stream of CSV bytes inside `binary` (a buffered stream), whatever its compression."""
    magic = binary.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return io.BufferedReader(Inflated(binary, name, GZIP_WBITS), buffer_size=1 << 20)
    if magic in ziparchive.ZIP_MAGICS:
        return io.BufferedReader(_first_zip_member(binary, name), buffer_size=1 << 20)
    return binary


GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip header and CRC checked by zlib
RAW_DEFLATE_WBITS = -zlib.MAX_WBITS
GZIP_HEADER_BYTES = 10


class Inflated(io.RawIOBase):
    """Decompresses a gzip (every member, as gzip does) or raw deflate stream as it is read.

    Only the compressed bytes are taken from `binary` (peeked, then read as far as zlib used
    them), so that a raw deflate stream leaves `binary` at the first byte after it (a zip's
    data descriptor or next header). After the last gzip member, zero bytes (padding some
    writers add) are read and ignored; any other byte is an error naming the file.

    Unlike gzip.GzipFile, the data decompressed before a cut is returned before the error, so a
    ranged sample of a compressed file still yields its first rows.
    """

    def __init__(self, binary: BufferedSource, name: str, wbits: int) -> None:
        super().__init__()
        self._binary = binary
        self._name = name
        self._wbits = wbits
        self._inflater = zlib.decompressobj(wbits)
        self._pending = b""
        self.consumed = 0  # compressed bytes used
        self._member_start = 0  # where the current gzip member starts (in compressed bytes)

    def readable(self) -> bool:
        return True

    # io passes a memoryview (BufferedReader) or a bytearray (RawIOBase.read), not any buffer
    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            self._pending = self._next_chunk()
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next_chunk(self) -> bytes:
        while True:
            if self._inflater.eof and not self._next_member():
                return b""
            data = self._binary.peek(1 << 16)
            if not data:
                raise EOFError("the compressed stream ends before its end marker")
            try:
                out = self._inflater.decompress(data, 1 << 20)
            except zlib.error as exc:
                if self.consumed and self.consumed - self._member_start < GZIP_HEADER_BYTES:
                    raise DataError(f"{self._name}: bytes after the end of its gzip data are "
                                    f"not gzip data ({exc}); upload the export as DDS wrote "
                                    "it") from None
                raise
            used = (len(data) - len(self._inflater.unconsumed_tail)
                    - len(self._inflater.unused_data))
            self._binary.read(used)
            self.consumed += used
            if out:
                return out

    def _next_member(self) -> bool:
        """After a gzip member: True if another one follows (a new inflater is ready for it).
        Raw deflate ends at its end marker."""
        if self._wbits != GZIP_WBITS:
            return False
        following = self._binary.peek(1)
        if not following:
            return False
        if following.startswith(b"\x00"):
            self._skip_padding()
            return False
        self._inflater = zlib.decompressobj(self._wbits)
        self._member_start = self.consumed
        return True

    def _skip_padding(self) -> None:
        while data := self._binary.read1(1 << 16):
            if data.count(0) != len(data):
                raise DataError(f"{self._name}: bytes after the end of its gzip data are not "
                                "gzip data; upload the export as DDS wrote it")


def _first_zip_member(binary: BufferedSource, name: str) -> io.RawIOBase:
    """The file member of a zip archive, streamed, then the rest of the archive read to its end
    (ziparchive.finish). DDS zips hold one CSV; only deflate and stored members are supported."""
    member = ziparchive.first_file_member(binary, name)
    if member.flags & ziparchive.ENCRYPTED:
        raise DataError(f"{name}: encrypted zip archives are not supported")
    if member.method == ziparchive.DEFLATED:
        return _ZipMember(Inflated(binary, name, RAW_DEFLATE_WBITS), binary, member, name)
    if member.method == ziparchive.STORED and not member.has_descriptor:
        return _ZipMember(_Limited(binary, member.compressed_size), binary, member, name)
    if member.method == ziparchive.STORED:
        raise DataError(f"{name}: a stored (uncompressed) zip member whose size follows its "
                        "data cannot be streamed; deflate it, or gzip the CSV instead")
    raise DataError(f"{name}: zip compression method {member.method} is not supported (use "
                    "deflate, or gzip the CSV instead)")


class _ZipMember(io.RawIOBase):
    """A zip member's data (`data`: inflated or stored), its CRC-32 and size counted; at its
    end, ziparchive.finish checks them and reads the rest of the archive."""

    def __init__(self, data: Inflated | _Limited, binary: BufferedSource,
                 member: ziparchive.LocalHeader, name: str) -> None:
        super().__init__()
        self._data = data
        self._binary = binary
        self._member = member
        self._name = name
        self._crc = 0
        self._size = 0
        self._finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        size = self._data.readinto(buffer)
        if size:
            self._crc = zlib.crc32(buffer[:size], self._crc)
            self._size += size
            return size
        if not self._finished:
            self._finished = True
            ziparchive.finish(self._binary, self._member, self._name, crc=self._crc,
                              size=self._size, compressed_size=self._data.consumed)
        return 0


class _Limited(io.RawIOBase):
    """The next `size` bytes of a stream."""

    def __init__(self, binary: ByteSource, size: int) -> None:
        super().__init__()
        self._binary = binary
        self._remaining = size
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if not self._remaining:
            return 0
        chunk = self._binary.read1(min(len(buffer), self._remaining))
        if not chunk:
            raise EOFError("the zip member ends early")
        self._remaining -= len(chunk)
        self.consumed += len(chunk)
        buffer[:len(chunk)] = chunk
        return len(chunk)
