"""Stopping on SIGINT or SIGTERM with whole lines on stdout (README "Stopping a run").

A terminal sends SIGINT; Meltano, Airflow and Kubernetes cancel a run with SIGTERM. Either one
raises Stopped in the main thread, which `cli.main` turns into one line on stderr and exit
128 + the signal's number, after the usual clean-up (the STATE of the files read whole, an
unannounced batch file removed). Every line reaches stdout through StdoutLines, and a signal
that arrives while it is writing is raised only once all its bytes are out: TextIOWrapper hands
it whole lines (every writer in output/ writes whole lines, the fast engine's blocks included),
so stdout never ends inside a line. The text being handed to TextIOWrapper when Stopped is
raised may not be written; SingerWriter writes a STATE or BATCH message even then.
"""

from __future__ import annotations

import io
import os
import signal
from types import FrameType

SIGNALS: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` takes it for a failure of the work it interrupts."""

    def __init__(self, signum: int) -> None:
        super().__init__(SIGNALS[signum])
        self.reason = SIGNALS[signum]
        self.exit_code = 128 + signum


class StdoutLines(io.RawIOBase):
    """The bytes under sys.stdout: each write goes out whole before a stop signal is raised."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(data).cast("B")
        size = len(view)
        while view:  # os.write may write part of it (a pipe's reader is slow)
            view = view[os.write(self._fd, view):]
        if _stop.deferred is not None:  # a stop signal arrived meanwhile: now the bytes are out
            signum, _stop.deferred = _stop.deferred, None
            raise Stopped(signum)
        return size


_WRITING = StdoutLines.write.__code__


class _Stop:
    raised = False  # Stopped was raised, or the run is over: later signals change nothing
    deferred: int | None = None  # a signal that arrived during a write, raised at its end


_stop = _Stop()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _stop.raised:
        return
    _stop.raised = True
    if frame is not None and frame.f_code is _WRITING:
        _stop.deferred = signum  # raised once the bytes being written are out
        return
    raise Stopped(signum)


def catch_signals() -> None:
    """From now on SIGINT and SIGTERM raise Stopped in the main thread (once)."""
    _stop.raised = False
    for number in SIGNALS:
        signal.signal(number, _on_signal)


def ignore_signals() -> None:
    """The run's work is over (or stopping): a later SIGINT or SIGTERM changes nothing while
    the process flushes its outputs and ends."""
    _stop.raised = True
