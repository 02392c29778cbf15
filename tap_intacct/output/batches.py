"""BATCH output, as Meltano SDK taps write it: the records of each source file go into JSONL files
(gzip-compressed in a worker thread), each announced by a BATCH message before that source
file's STATE. A batch file holds exactly the record objects RECORD messages would carry.

The tap never deletes a batch file: the target reads it when it receives the message, and
whoever runs the pipeline expires old files (README "BATCH messages").
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import os
import queue
import re
import shutil
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Literal, NoReturn, Self, TypeAlias, cast

from tap_intacct.errors import StorageError, TapError

if TYPE_CHECKING:
    from tap_intacct.output.messages import SingerWriter
    from tap_intacct.settings.batch_config import BatchConfig

LINES_PER_CHUNK = 2_000  # records joined into one write handed to the compressing thread

Upload: TypeAlias = Callable[[str, str], None]  # (local path, s3:// URL): storage/s3.BatchUploader


def file_stem(stream: str) -> str:
    """The stream's part of a batch file name, a different one for every stream name.

    A name of letters, digits, `_` and `-` is used as it is; any other is cleaned and given the
    first 16 hex digits of its SHA-256 after a `.`, which no name kept as it is has, so
    `GL ENTRY` and `GL_ENTRY` never share batch files.
    """
    if re.fullmatch(r"[A-Za-z0-9_-]+", stream):
        return stream
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", stream)
    return f"{cleaned}.{hashlib.sha256(stream.encode('utf-8')).hexdigest()[:16]}"


class BatchSinks:
    """Per run: where batch files go and what they are called (unique per run and stream)."""

    def __init__(self, batch: BatchConfig, writer: SingerWriter, upload: Upload | None = None
                 ) -> None:
        self.batch = batch
        self.writer = writer
        self.run_id = (datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                       + "-" + uuid.uuid4().hex[:8])
        self._upload = upload  # (local path, s3:// URL) -> None, for an s3:// root
        self._numbers: dict[str, int] = {}
        if batch.scheme == "file":
            self.folder = urllib.parse.unquote(urllib.parse.urlsplit(batch.root).path)
            try:
                os.makedirs(self.folder, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"batch_config storage.root {batch.root}: cannot create the "
                                   f"folder: {exc.strerror}") from None
        else:
            self.folder = tempfile.mkdtemp(prefix="tap-intacct-batches-")

    def open(self, stream: str, version: int | None = None) -> BatchSink:
        """`version`: never set (config.validate refuses batch_config with full_exports
        replace: batch files cannot carry a table version)."""
        if version is not None:
            raise ValueError("batch files cannot carry a table version")
        return BatchSink(self, stream)

    def close(self) -> None:
        """After the run: an s3:// root's local staging folder is removed (each file in it was
        uploaded and deleted, or discarded)."""
        if self.batch.scheme != "file":
            shutil.rmtree(self.folder, ignore_errors=True)

    def next_file(self, stream: str) -> tuple[str, str]:
        """(local path, URL for the manifest) of the stream's next batch file."""
        number = self._numbers[stream] = self._numbers.get(stream, 0) + 1
        suffix = ".jsonl.gz" if self.batch.compression == "gzip" else ".jsonl"
        name = f"{self.batch.prefix}{file_stem(stream)}-{self.run_id}-{number:05d}{suffix}"
        path = os.path.join(self.folder, name)
        if self.batch.scheme == "file":
            return path, "file://" + path
        return path, self.batch.root.rstrip("/") + "/" + name

    def publish(self, stream: str, path: str, url: str) -> None:
        """Make a finished batch file readable at its URL, then announce it."""
        if self.batch.scheme == "s3":
            try:
                cast(Upload, self._upload)(path, url)  # an s3:// root is given one
            finally:
                os.remove(path)  # the local copy only; the target reads the uploaded one
        self.writer.batch(stream, self.batch.encoding, [url])


class BatchSink:
    """The records of one source file, written into batch files of at most batch_size records.

    Used as a context manager: leaving it normally (or with a TapError, whose records RECORD
    mode would also have emitted) announces the last file; any other exit discards the file
    that was never announced.
    """

    def __init__(self, sinks: BatchSinks, stream: str) -> None:
        self._sinks = sinks
        self._stream = stream
        self._size = sinks.batch.batch_size
        self._lines: list[str] = []
        self._in_file = 0
        self._file: _BatchFile | None = None

    def write(self, record_json: str) -> None:
        lines = self._lines
        lines.append(record_json)
        if len(lines) >= LINES_PER_CHUNK or self._in_file + len(lines) >= self._size:
            self._flush()

    line_format = ("", "\n")  # a batch file line is the record's JSON

    def write_block(self, text: str, count: int) -> None:
        """`count` records at once (the fast engine), each in its line: the same as `count`
        calls of write()."""
        if self._in_file + len(self._lines) + count < self._size:
            self._flush()
            if self._file is None:
                self._file = _BatchFile(*self._sinks.next_file(self._stream),
                                        self._sinks.batch.compression == "gzip")
            self._file.write(text)
            self._in_file += count
            return
        for line in text.splitlines():  # this block completes a batch file
            self.write(line)

    def _flush(self) -> None:
        if not self._lines:
            return
        if self._file is None:
            self._file = _BatchFile(*self._sinks.next_file(self._stream),
                                    self._sinks.batch.compression == "gzip")
        self._file.write("\n".join(self._lines) + "\n")
        self._in_file += len(self._lines)
        self._lines = []
        if self._in_file >= self._size:
            self._finish_file()

    def _finish_file(self) -> None:
        batch_file, self._file, self._in_file = cast(_BatchFile, self._file), None, 0
        batch_file.close()
        self._sinks.publish(self._stream, batch_file.path, batch_file.url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        if kind is None or issubclass(kind, TapError):
            self._flush()
            if self._file is not None:
                self._finish_file()
        elif self._file is not None:
            self._file.discard()
        return False


def _gzip_writer(raw: io.BufferedWriter) -> gzip.GzipFile:
    """gzip at level 1 into `raw`: ISA-L's (the `fast` extra's isal: the same format, about 4x
    zlib's speed on record JSON, so BATCH mode keeps up with the fast engine) when installed,
    else the standard library's."""
    try:
        from isal import igzip
    except ImportError:
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1)
    return igzip.IGzipFile(fileobj=raw, mode="wb", compresslevel=1)


class _BatchFile:
    """One batch file being written; compression and disk writes happen in a worker thread
    (zlib releases the GIL, so the reading thread keeps parsing meanwhile)."""

    def __init__(self, path: str, url: str, compress: bool) -> None:
        self.path = path
        self.url = url
        try:
            raw = open(path, "xb")  # noqa: SIM115 (closed by the worker thread)
        except OSError as exc:
            raise StorageError(f"cannot create the batch file {path}: {exc.strerror}") from None
        self._out: gzip.GzipFile | io.BufferedWriter = _gzip_writer(raw) if compress else raw
        self._raw = raw
        self._chunks: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._drain, name="batch-writer", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            chunk = self._chunks.get()
            if chunk is None:
                break
            if self._error is None:
                try:
                    self._out.write(chunk.encode("utf-8"))
                except OSError as exc:
                    self._error = exc
        try:
            self._out.close()
            self._raw.close()
        except OSError as exc:
            self._error = self._error or exc

    def write(self, text: str) -> None:
        if self._error is not None:
            self._fail()
        self._chunks.put(text)

    def close(self) -> None:
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            self._fail()

    def discard(self) -> None:
        """Stop writing and remove the file (it was never announced, so no target reads it)."""
        self._chunks.put(None)
        self._thread.join()
        try:
            os.remove(self.path)
        except OSError:
            pass

    def _fail(self) -> NoReturn:
        raise StorageError(f"cannot write the batch file {self.path}: {self._error}")

