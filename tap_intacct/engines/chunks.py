"""The fast engine's reading side: a file's decompressed CSV bytes cut into chunks that end at
record ends (found by quote parity), each knowing how many physical lines come before it, and the
byte checks a chunk must pass before Arrow may parse it. Only bytes and numpy; no Arrow.

A chunk that passes `record_lines` holds only what Python's strict csv reader reads exactly as
Arrow does: no NUL, no CR except in CRLF, every quote at a field edge (or doubled inside a
quoted field), an even number of quotes. Anything else is left to the row path.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tap_intacct.errors import TapError

if TYPE_CHECKING:
    import numpy.typing as npt

    from tap_intacct.reading.sources import ByteSource

CHUNK_BYTES = 1 << 20  # 1 MiB: peak RSS 165 MB instead of 209 MB with 2 MiB, same CPU time
# No record end within this many bytes: the rest of the file is left to the row path (memory).
MAX_CHUNK_BYTES = 32 << 20
LF, CR = 0x0A, 0x0D
# What reading may raise; it is raised again where the row path reaches that byte.
READ_ERRORS = (EOFError, zlib.error, OSError, TapError)


class NotFast(ValueError):
    """A chunk the fast engine leaves to the row path."""


@dataclass(frozen=True)
class Chunk:
    data: bytes
    lines_before: int  # physical lines before its first byte (the header is line 1)


def record_end(buffer: bytes, start: int = 0, quote: bytes = b'"') -> int:
    """The end of the last line end (LF) of buffer[start:] that lies outside quotes, buffer[start]
    being the first byte of a record; 0 if there is none."""
    quotes = buffer.count(quote, start)
    position = len(buffer)
    after = 0
    while True:
        newline = buffer.rfind(b"\n", start, position)
        if newline < 0:
            return 0
        after += buffer.count(quote, newline, position)
        if (quotes - after) % 2 == 0:
            return newline + 1
        position = newline


def read_block(source: ByteSource, size: int) -> tuple[bytes, Exception | None]:
    """(up to `size` bytes of `source`, fewer only at its end; what reading raised, or None).
    Bytes read before an error are returned with it, as the row path would have read them."""
    parts: list[bytes]
    parts, got = [], 0
    while got < size:
        try:
            data = source.read1(size - got)
        except READ_ERRORS as exc:
            return b"".join(parts), exc
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts), None


class Chunks:
    """Iterates the Chunks of `source` (a binary stream), `carry` (bytes already read, starting
    at a record) first. When iteration stops, `carry` holds the bytes read but not handed out,
    `error` what reading raised (None if nothing), `finished` whether the source is used up."""

    def __init__(self, source: ByteSource, carry: bytes, lines_before: int,
                 quote: bytes = b'"') -> None:
        self.carry = carry
        self._quote = quote
        self.lines = lines_before
        self.error: Exception | None = None
        self.finished = False
        self.bytes_read = len(carry)
        self._source = source

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            # a record longer than a chunk: read as much again (no quadratic rescans)
            block, self.error = read_block(self._source, max(CHUNK_BYTES, len(self.carry)))
            if self.error is not None:
                self.carry += block
                return
            self.bytes_read += len(block)
            buffer = self.carry + block if self.carry else block
            end = record_end(buffer, quote=self._quote)
            if not block:
                self.finished = True
            if not end:
                self.carry = buffer
                if self.finished or len(buffer) > MAX_CHUNK_BYTES:
                    return
                continue
            chunk = Chunk(buffer[:end], self.lines)
            self.lines += buffer.count(b"\n", 0, end)
            self.carry = buffer[end:]
            yield chunk
            if self.finished:
                return


def record_lines(chunk: Chunk, delimiter: bytes = b",",
                 quote: bytes = b'"') -> npt.NDArray[np.int64]:
    """The physical line of each record of the chunk (numpy int64), after the byte checks;
    NotFast if a check fails. `delimiter`, `quote`: the file's (one byte each)."""
    data = chunk.data
    quote_byte, delimiter_byte = quote[0], delimiter[0]
    if b"\x00" in data:
        raise NotFast("NUL bytes")
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        raise NotFast("a CR that does not end a line")
    array = np.frombuffer(data, np.uint8)
    quotes = np.flatnonzero(array == quote_byte)
    if quotes.size % 2:
        raise NotFast("a quote left open")
    if quotes.size:
        opening, closing = quotes[0::2], quotes[1::2]
        before = array[np.maximum(opening - 1, 0)]
        before[opening == 0] = LF
        # what may precede an opening quote, and follow a closing one
        if not np.isin(before, [delimiter_byte, LF, quote_byte]).all():
            raise NotFast("a quote inside an unquoted field")
        if not np.isin(array[closing + 1], [delimiter_byte, LF, CR, quote_byte]).all():
            raise NotFast("text after a closing quote")
    newlines = np.flatnonzero(array == LF)
    outside = np.flatnonzero(np.searchsorted(quotes, newlines) % 2 == 0)
    # a record starts on the line after the previous record's end
    starts = np.empty(outside.size, np.int64)
    if outside.size:
        starts[0] = 0
        starts[1:] = outside[:-1] + 1
    return starts + (chunk.lines_before + 1)


class Chained(io.RawIOBase):
    """`pieces` (bytes), then what is left of `source` (None: nothing), then `error` raised."""

    def __init__(self, pieces: Iterable[bytes], source: ByteSource | None = None,
                 error: Exception | None = None) -> None:
        super().__init__()
        self._pieces = [memoryview(piece) for piece in pieces if piece]
        self._source = source
        self._error = error

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        if self._pieces:
            piece = self._pieces[0]
            size = len(piece) if size is None or size < 0 else size
            part, self._pieces[0] = piece[:size], piece[size:]
            if not self._pieces[0]:
                self._pieces.pop(0)
            return bytes(part)
        if self._source is not None:
            data = self._source.read1(size)
            if data:
                return data
            self._source = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return b""

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read1(len(buffer))
        buffer[:len(data)] = data
        return len(data)
