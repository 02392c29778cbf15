"""The byte streams the readers read from: what decompression (decompression.py, ziparchive.py),
CSV rows (csvfile.py) and the fast engine need of a binary stream."""

from typing import Protocol


class ByteSource(Protocol):
    """A binary stream read a chunk at a time (read1, as io.BufferedReader has it)."""

    def read1(self, size: int = ..., /) -> bytes: ...


class BufferedSource(ByteSource, Protocol):
    """A buffered binary stream (io.BufferedReader): what decompression reads."""

    def peek(self, size: int = ..., /) -> bytes: ...

    def read(self, size: int | None = ..., /) -> bytes: ...
