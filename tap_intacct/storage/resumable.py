"""A whole object (or its first bytes) read as one stream that survives cut connections, for any
store: the store supplies one GET attempt from a given byte, pinned to the listed version, and
says which failures are worth another attempt."""

import io
import logging
import threading
from typing import Any, Protocol

from tap_intacct.dds.files import StoredFile
from tap_intacct.errors import FileGone, TapError
from tap_intacct.settings.knobs import Knobs
from tap_intacct.storage.readahead import ReadAhead
from tap_intacct.storage.retry import retry_wait

LOGGER = logging.getLogger("tap_intacct")


class Body(Protocol):
    """One GET's response body."""

    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


class Backend(Protocol):
    """What a store supplies to ResumableBody (and ResumableReads): one attempt, and the store's
    one classification of failures."""

    knobs: Knobs

    def get(self, stored: StoredFile, first_byte: int,
            last_byte: int | None = None) -> tuple[Body, int]:
        """One GET attempt for bytes first_byte..last_byte (default: to the end), pinned to the
        listed ETag: (body, bytes to skip, when the server ignored the range). A failure worth
        another attempt is raised as it is; any other as a TapError or FileGone."""

    def is_transient(self, exc: BaseException) -> bool:
        """Whether asking again may succeed."""

    def failure(self, exc: BaseException, what: str, key: str | None = None) -> TapError:
        """The error to raise for a failure that is not transient, or when attempts run out."""

    def describe(self, exc: BaseException) -> str:
        """The failure on one line, without secrets."""

    def interrupt(self, body: Any) -> None:
        """From any thread: end a read of `body` blocked on the network."""


class ShortBody(Exception):
    """The server ended a body before the bytes it promised."""

    def __init__(self, received: int, expected: int) -> None:
        super().__init__(f"{received} read, but total of {expected} bytes expected")


class Closed(Exception):
    """The body was closed (from another thread) while it was being read."""


class ResumableBody(io.RawIOBase):
    """Reads the first `length` bytes of an object (default: all of it). After a failed GET or a
    network failure it waits and continues with a ranged GET pinned to the listed ETag from the
    first byte not yet received, up to knobs.max_tries times in a row without progress. Never
    reports end of file early. stop() works from any thread and stops it at once.

    `store` is the Backend; waits follow storage/retry.py.
    """

    def __init__(self, store: Backend, stored: StoredFile, length: int | None = None) -> None:
        super().__init__()
        self._store = store
        self._stored = stored
        self._last_byte = None if length is None else length - 1
        self._end = stored.size if length is None else min(length, stored.size)
        self._position = 0
        self._body: Body | None = None
        self._skip = 0
        self._failures = 0
        self._closing = threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._position < self._end:
            try:
                chunk = self._next_chunk(len(buffer))
            except (TapError, FileGone, Closed):
                raise  # already classified (get) or stopped
            except Exception as exc:  # noqa: BLE001 (classified here: retried or raised)
                if not (isinstance(exc, ShortBody) or self._store.is_transient(exc)):
                    key = self._stored.key
                    raise self._store.failure(exc, f"read '{key}' at byte {self._position}",
                                              key) from None
                self._retry_after(exc)
                continue
            if self._skip:  # the server ignored Range: drop the bytes already received
                dropped = min(self._skip, len(chunk))
                self._skip -= dropped
                chunk = chunk[dropped:]
                if not chunk:
                    continue
            self._failures = 0
            self._position += len(chunk)
            buffer[:len(chunk)] = chunk
            return len(chunk)
        self._drop_body()
        return 0

    def _next_chunk(self, size: int) -> bytes:
        if self._body is None:
            self._open_body()
        assert self._body is not None
        chunk = self._body.read(min(size, self._end - self._position + self._skip))
        if not chunk:
            raise ShortBody(self._position, self._end)
        return chunk

    def _open_body(self) -> None:
        if self._closing.is_set():
            raise Closed
        self._body, self._skip = self._store.get(self._stored, self._position, self._last_byte)
        if self._closing.is_set():  # closed while the request was on its way
            self._drop_body()
            raise Closed

    def _retry_after(self, exc: BaseException) -> None:
        self._drop_body()
        self._failures += 1
        key = self._stored.key
        if self._failures >= self._store.knobs.max_tries:
            raise self._store.failure(exc, f"read '{key}' at byte {self._position}", key)
        wait = retry_wait(self._store.knobs, self._failures)
        LOGGER.warning("Reading %s stopped at byte %d (%s); retry %d in %.1fs", key,
                       self._position, self._store.describe(exc), self._failures, wait)
        if self._closing.wait(wait):
            raise Closed

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()

    def stop(self) -> None:
        """From any thread: no further request or retry wait, and a read blocked on the network
        returns now (closing would wait for that read; interrupting the connection ends it)."""
        self._closing.set()
        if self._body is not None:
            self._store.interrupt(self._body)

    def close(self) -> None:
        self._closing.set()
        self._drop_body()
        super().close()


def read_prefix(store: Backend, stored: StoredFile, length: int) -> bytes:
    """The first `length` bytes of the object (fewer if it is shorter)."""
    body = ResumableBody(store, stored, length)
    try:
        chunks = []
        while chunk := body.read(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        body.close()


class ResumableReads:
    """The reading half of a Store (storage/store.py), the same for every backend: a bounded
    prefix, or the whole object fetched ahead of the reader in a thread, resuming where it
    stopped after a cut. A backend supplies what ResumableBody needs: knobs, get(),
    is_transient(), failure(), describe() and interrupt() (the Backend protocol)."""

    def read_range(self: Backend, stored: StoredFile, length: int) -> bytes:
        """The first `length` bytes of the object (fewer if it is shorter)."""
        return read_prefix(self, stored, length)

    def open(self: Backend, stored: StoredFile) -> io.BufferedReader:
        """A binary stream of the whole object; the GET starts now."""
        return io.BufferedReader(ReadAhead(ResumableBody(self, stored)), buffer_size=1 << 16)
