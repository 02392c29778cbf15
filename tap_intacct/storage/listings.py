"""Several prefixes listed at once (README, "Running at scale"): each selected stream's own
prefix (`<path>/<company>/<OBJECT>.`), a bounded number of listings in flight, their objects
streamed to the caller as the pages arrive.

A run's time is then that of its slowest stream's listing, not the sum of them all, and its
requests grow with the files of the largest selected object, not with the whole company folder.
Every page is still checked by the store (storage/pages.py), and a listing that fails fails the
whole iteration: the caller (dds.candidates.for_sync) reads it to its end before any output, so
nothing is bookmarked from a partial listing.

The stores' clients are shared by the threads: boto3 clients are thread-safe, and so are the
Azure SDK's clients (each request builds its own pipeline context); the request counters take a
lock.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tap_intacct.dds.files import StoredFile

T = TypeVar("T")
R = TypeVar("R")

# Listings in flight at once. Each is a chain of requests of tens of milliseconds on S3 or
# Azure; 8 keep the slowest stream the one that decides the time for 10 to 100 selected
# streams, within both stores' connection pools (S3: 40, Azure: 10).
LISTINGS_IN_FLIGHT = 8
BLOCK = 1000  # objects handed over together (one listing page)
_AHEAD = 4    # blocks each listing may run ahead of the caller: memory stays bounded


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def listed_together(list_prefix: Callable[[str], Iterable[StoredFile]], prefixes: Sequence[str],
                    in_flight: int = LISTINGS_IN_FLIGHT) -> Iterator[StoredFile]:
    """Every object of `list_prefix(prefix)` for each prefix, up to `in_flight` listings at once,
    in the order their pages arrive (not prefix by prefix). The first listing to fail raises its
    error here, and the others stop at their next page."""
    if len(prefixes) <= 1:  # no thread for a single listing
        for prefix in prefixes:
            yield from list_prefix(prefix)
        return
    handed: queue.Queue[object] = queue.Queue(maxsize=_AHEAD * min(in_flight, len(prefixes)))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def list_one(prefix: str) -> None:
        block: list[StoredFile] = []
        try:
            for stored in list_prefix(prefix):
                if stop.is_set():
                    return
                block.append(stored)
                if len(block) >= BLOCK:
                    if not put(block):
                        return
                    block = []
            if block and not put(block):
                return
            put(_DONE)
        except Exception as exc:  # noqa: BLE001 (handed to the caller, who raises it)
            put(_Failed(exc))

    pool = ThreadPoolExecutor(max_workers=min(in_flight, len(prefixes)),
                              thread_name_prefix="listing")
    try:
        for prefix in prefixes:
            pool.submit(list_one, prefix)
        remaining = len(prefixes)
        while remaining:
            item = handed.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield from item  # type: ignore[misc]  # a block of StoredFile
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


def mapped_together(func: Callable[[T], R], items: Sequence[T],
                    in_flight: int = LISTINGS_IN_FLIGHT) -> list[R]:
    """[func(item) for item in items], up to `in_flight` calls at once (the event mode's HEAD
    requests); the first failure is raised, in item order."""
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(in_flight, len(items)),
                            thread_name_prefix="head") as pool:
        return list(pool.map(func, items))
