"""Zip archives read front to back without seeking (so they stream): the one file member, then
the rest of the archive to its last byte.

Folder entries (names ending in '/') are skipped. After the file member's data, its CRC-32 and
sizes are checked, then everything that follows is read: folder entries, the central directory
and the end records. A second file member, or bytes after the end record, stop the read with an
error naming the file (README "Encoding and compression"): nothing in an archive is left unread.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_intacct.errors import DataError

if TYPE_CHECKING:
    from tap_intacct.reading.sources import BufferedSource

LOCAL_HEADER = b"PK\x03\x04"
# An archive ends with its central directory (PK\x01\x02 entries), then a zip64 end record
# (PK\x06\x06) and its locator (PK\x06\x07) or not, then the end record (PK\x05\x06, all an
# empty archive holds).
CENTRAL_ENTRY, ZIP64_END, ZIP64_LOCATOR, END = (b"PK\x01\x02", b"PK\x06\x06", b"PK\x06\x07",
                                                b"PK\x05\x06")
ARCHIVE_END = (CENTRAL_ENTRY, ZIP64_END, END)
DATA_DESCRIPTOR = b"PK\x07\x08"
ONE_FILE_ADVICE = ("the tap reads one CSV per zip archive, as DDS writes them: zip each CSV on its "
                   "own, or gzip it")
ZIP_MAGICS = (LOCAL_HEADER, b"PK\x05\x06")

STORED, DEFLATED = 0, 8
ENCRYPTED, HAS_DESCRIPTOR = 0x1, 0x8
_ZIP64_EXTRA = 0x0001
_NO_SIZE = 0xFFFFFFFF  # the size is in the zip64 extra field


@dataclass(frozen=True)
class LocalHeader:
    """What a member's local header says."""

    name: bytes
    flags: int
    method: int
    compressed_size: int  # 0 when the sizes follow the data (HAS_DESCRIPTOR)
    zip64: bool
    crc: int = 0  # CRC-32 and size of the uncompressed data (0 with HAS_DESCRIPTOR)
    size: int = 0

    @property
    def is_folder(self) -> bool:
        return self.name.endswith(b"/")

    @property
    def has_descriptor(self) -> bool:
        return bool(self.flags & HAS_DESCRIPTOR)


def first_file_member(binary: BufferedSource, name: str) -> LocalHeader:
    """The first file member's header; `binary` (a buffered stream) is left at its data."""
    skipped = 0
    while True:
        signature = _read(binary, 4, name)
        if signature in ARCHIVE_END:
            what = "is empty" if not skipped else f"holds only {skipped} folder entr" + (
                "y" if skipped == 1 else "ies")
            raise DataError(f"{name}: the zip archive {what}, no file; DDS zips hold one CSV")
        if signature != LOCAL_HEADER:
            raise DataError(f"{name}: not a valid zip archive (unexpected bytes {signature!r})")
        member = _local_header(binary, name)
        if not member.is_folder:
            return member
        _skip_data(binary, member, name)
        skipped += 1


def _local_header(binary: BufferedSource, name: str) -> LocalHeader:
    (_version, flags, method, _time, _date, crc, compressed_size, size, name_length,
     extra_length) = struct.unpack("<HHHHHIIIHH", _read(binary, 26, name))
    member_name = _read(binary, name_length, name)
    zip64 = _zip64_values(_read(binary, extra_length, name))
    if _NO_SIZE in (compressed_size, size):
        # the zip64 field holds the sizes marked _NO_SIZE, uncompressed size first
        values = iter(zip64 or [])
        try:
            size = next(values) if size == _NO_SIZE else size
            compressed_size = next(values) if compressed_size == _NO_SIZE else compressed_size
        except StopIteration:
            raise DataError(f"{name}: not a valid zip archive (zip64 sizes missing)") from None
    return LocalHeader(member_name, flags, method, compressed_size, zip64 is not None, crc, size)


def _zip64_values(extra: bytes) -> list[int] | None:
    """The 8-byte values of the zip64 extra field, or None without one."""
    while len(extra) >= 4:
        field, length = struct.unpack("<HH", extra[:4])
        if field == _ZIP64_EXTRA:
            body = extra[4:4 + length]
            return [value for (value,) in struct.iter_unpack("<Q", body[:len(body) // 8 * 8])]
        extra = extra[4 + length:]
    return None


def _skip_data(binary: BufferedSource, member: LocalHeader, name: str) -> None:
    """Move past a folder entry's data (normally none) and its data descriptor."""
    if not member.has_descriptor:
        _skip(binary, member.compressed_size, name)
        return
    if member.method == DEFLATED:
        _skip_deflated(binary, name)
    elif member.method != STORED:  # stored folders hold nothing; others: length unknown
        raise DataError(f"{name}: a folder entry uses zip compression method {member.method}, "
                        "which the tap cannot skip")
    _descriptor(binary, member, name)


def _descriptor(binary: BufferedSource, member: LocalHeader, name: str) -> tuple[int, int, int]:
    """(CRC-32, compressed size, size) from the data descriptor after a member's data: an
    optional signature, then the CRC, then both sizes (8 bytes each in a zip64 member)."""
    first = _read(binary, 4, name)
    if first == DATA_DESCRIPTOR:
        first = _read(binary, 4, name)
    (crc,) = struct.unpack("<I", first)
    sizes = "<QQ" if member.zip64 else "<II"
    compressed_size, size = struct.unpack(sizes, _read(binary, struct.calcsize(sizes), name))
    return crc, compressed_size, size


def finish(binary: BufferedSource, member: LocalHeader, name: str, *, crc: int, size: int,
           compressed_size: int) -> None:
    """Check the member just read (its data's CRC-32 and sizes, against its local header or
    its data descriptor), then read the rest of the archive to its end; DataError for a
    second file member, a damaged archive, or bytes after the archive's end record."""
    expected = (_descriptor(binary, member, name) if member.has_descriptor
                else (member.crc, member.compressed_size, member.size))
    if (crc, compressed_size, size) != expected:
        raise DataError(f"{name}: the zip archive is corrupt (the data of "
                        f"{_shown(member.name)} does not match its CRC-32 or size)")
    signature = _read(binary, 4, name)
    while signature == LOCAL_HEADER:
        other = _local_header(binary, name)
        if not other.is_folder:
            raise DataError(f"{name}: the zip archive holds more than one file "
                            f"({_shown(member.name)}, then {_shown(other.name)}); "
                            f"{ONE_FILE_ADVICE}")
        _skip_data(binary, other, name)
        signature = _read(binary, 4, name)
    signature = _central_directory(binary, signature, member, name)
    if signature == ZIP64_END:
        (record_size,) = struct.unpack("<Q", _read(binary, 8, name))
        _skip(binary, record_size, name)
        signature = _read(binary, 4, name)
    if signature == ZIP64_LOCATOR:
        _read(binary, 16, name)
        signature = _read(binary, 4, name)
    if signature != END:
        raise DataError(f"{name}: not a valid zip archive (unexpected bytes {signature!r} "
                        "where its end record should be)")
    (comment_length,) = struct.unpack("<H", _read(binary, 18, name)[16:])
    _skip(binary, comment_length, name)
    if binary.peek(1):
        raise DataError(f"{name}: bytes follow the end of the zip archive (a damaged or "
                        "appended upload?); upload the export as DDS wrote it")


def _central_directory(binary: BufferedSource, signature: bytes, member: LocalHeader,
                       name: str) -> bytes:
    """Read the central directory's entries (`signature`: the 4 bytes read after the last
    member); DataError if it lists another file. Returns the 4 bytes that follow it."""
    while signature == CENTRAL_ENTRY:
        fixed = _read(binary, 42, name)
        lengths = struct.unpack("<HHH", fixed[24:30])  # name, extra field, comment
        listed = _read(binary, lengths[0], name)
        _skip(binary, lengths[1] + lengths[2], name)
        if listed != member.name and not listed.endswith(b"/"):
            raise DataError(f"{name}: the zip archive holds more than one file "
                            f"({_shown(member.name)}, then {_shown(listed)}); "
                            f"{ONE_FILE_ADVICE}")
        signature = _read(binary, 4, name)
    return signature


def _shown(member_name: bytes) -> str:
    return repr(member_name.decode("utf-8", "replace"))


def _skip(binary: BufferedSource, size: int, name: str) -> None:
    while size:
        size -= len(_read(binary, min(size, 1 << 16), name))


def _skip_deflated(binary: BufferedSource, name: str) -> None:
    """Inflate and discard one raw deflate stream, consuming exactly its bytes."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    while not inflater.eof:
        data = binary.peek(1 << 16)
        if not data:
            raise DataError(f"{name}: truncated zip archive")
        try:
            inflater.decompress(data, 1 << 16)
        except zlib.error as exc:
            raise DataError(f"{name}: corrupt zip folder entry ({exc})") from None
        binary.read(len(data) - len(inflater.unconsumed_tail) - len(inflater.unused_data))


def _read(binary: BufferedSource, size: int, name: str) -> bytes:
    data = binary.read(size)
    if len(data) < size:
        raise DataError(f"{name}: truncated zip archive")
    return data
