"""Zip archives read front to back without seeking (so they stream): find the first file member.

Only the local headers are used; the central directory at the end is never reached. Folder
entries (names ending in '/') before the first file are skipped.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_intacct.errors import DataError

if TYPE_CHECKING:
    from tap_intacct.reading.csvfile import BufferedSource

LOCAL_HEADER = b"PK\x03\x04"
# An archive ends with its central directory (PK\x01\x02), preceded by a zip64 end record
# (PK\x06\x06) or not, then the end record (PK\x05\x06, all an empty archive holds).
ARCHIVE_END = (b"PK\x01\x02", b"PK\x06\x06", b"PK\x05\x06")
DATA_DESCRIPTOR = b"PK\x07\x08"
ZIP_MAGICS = (LOCAL_HEADER, b"PK\x05\x06")

STORED, DEFLATED = 0, 8
ENCRYPTED, HAS_DESCRIPTOR = 0x1, 0x8
_ZIP64_EXTRA = 0x0001
_NO_SIZE = 0xFFFFFFFF  # the size is in the zip64 extra field


@dataclass(frozen=True)
class Member:
    """What a member's local header says."""

    name: bytes
    flags: int
    method: int
    compressed_size: int  # 0 when the sizes follow the data (HAS_DESCRIPTOR)
    zip64: bool

    @property
    def is_folder(self) -> bool:
        return self.name.endswith(b"/")

    @property
    def has_descriptor(self) -> bool:
        return bool(self.flags & HAS_DESCRIPTOR)


def first_file_member(binary: BufferedSource, name: str) -> Member:
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


def _local_header(binary: BufferedSource, name: str) -> Member:
    (_version, flags, method, _time, _date, _crc, compressed_size, size, name_length,
     extra_length) = struct.unpack("<HHHHHIIIHH", _read(binary, 26, name))
    member_name = _read(binary, name_length, name)
    zip64 = _zip64_values(_read(binary, extra_length, name))
    if compressed_size == _NO_SIZE:
        # the zip64 field holds the sizes marked _NO_SIZE, uncompressed size first
        position = 1 if size == _NO_SIZE else 0
        if zip64 is None or len(zip64) <= position:
            raise DataError(f"{name}: not a valid zip archive (zip64 sizes missing)")
        compressed_size = zip64[position]
    return Member(member_name, flags, method, compressed_size, zip64 is not None)


def _zip64_values(extra: bytes) -> list[int] | None:
    """The 8-byte values of the zip64 extra field, or None without one."""
    while len(extra) >= 4:
        field, length = struct.unpack("<HH", extra[:4])
        if field == _ZIP64_EXTRA:
            body = extra[4:4 + length]
            return [value for (value,) in struct.iter_unpack("<Q", body[:len(body) // 8 * 8])]
        extra = extra[4 + length:]
    return None


def _skip_data(binary: BufferedSource, member: Member, name: str) -> None:
    """Move past a folder entry's data (normally none) and its data descriptor."""
    if not member.has_descriptor:
        remaining = member.compressed_size
        while remaining:
            remaining -= len(_read(binary, min(remaining, 1 << 16), name))
        return
    if member.method == DEFLATED:
        _skip_deflated(binary, name)
    elif member.method != STORED:  # stored folders hold nothing; others: length unknown
        raise DataError(f"{name}: a folder entry uses zip compression method {member.method}, "
                        "which the tap cannot skip")
    # the descriptor: an optional signature, then CRC, compressed and full sizes
    sizes = 16 if member.zip64 else 8
    if _read(binary, 4, name) == DATA_DESCRIPTOR:
        sizes += 4  # what followed the signature was the CRC
    _read(binary, sizes, name)


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
