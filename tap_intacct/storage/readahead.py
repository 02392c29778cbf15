"""Read-ahead: a thread fetches the next chunks of a stream while the caller parses the current
one, so network time and CPU time overlap instead of adding up. Memory stays bounded (depth x
chunk bytes per stream)."""

import io
import queue
import threading
from typing import Any, Protocol, cast

FETCH_BYTES = 1 << 20  # asked of the source per read by the fetching thread
DEPTH = 4
_END = object()


class StoppableSource(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...

    def stop(self) -> None:
        """From any thread: end any wait or read in progress."""


class ReadAhead(io.RawIOBase):
    """source: a raw binary stream that also has stop(), callable from another thread."""

    def __init__(self, source: StoppableSource, fetch_bytes: int = FETCH_BYTES,
                 depth: int = DEPTH) -> None:
        super().__init__()
        self._source = source
        self._fetch_bytes = fetch_bytes
        # chunks, then _END or the exception that ended the reads
        self._chunks: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._current = memoryview(b"")
        self._finished = False
        self._thread = threading.Thread(target=self._fetch, daemon=True, name="read-ahead")
        self._thread.start()

    def _fetch(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._source.read(self._fetch_bytes)
                if not chunk:
                    break
                self._put(chunk)
            self._put(_END)
        except Exception as exc:  # noqa: BLE001 (handed to the reading thread, raised there)
            self._put(exc)
        finally:
            self._source.close()  # here, not in close(): closing waits for a read in progress

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=0.1)
            except queue.Full:
                continue
            return

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current:
            if self._finished:
                return 0
            item = self._chunks.get()
            if item is _END:
                self._finished = True
                return 0
            if isinstance(item, Exception):
                self._finished = True
                raise item
            self._current = memoryview(cast(bytes, item))
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size

    def close(self) -> None:
        """Stop the thread now: the source's stop(), called from this thread, ends any wait and
        unblocks any read there, so that no new request starts after this returns."""
        if not self.closed:
            self._stop.set()
            self._source.stop()
            self._thread.join(timeout=5)
        super().close()
