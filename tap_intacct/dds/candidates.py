"""From one streamed listing, keep only the files a run will read (README, "Running at scale").

A company folder only grows (a year of hourly exports is close to a million objects), so neither
sync nor discovery holds a StoredFile for every listed object: each object is looked at once as
the listing pages arrive and kept only if the run needs it. Memory is then bounded by the files
the run reads, not by the folder's history.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from tap_intacct.dds.files import StoredFile, looks_like_data_file, skip_reason, table_name

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import Bookmark

LogSkip: TypeAlias = Callable[[StoredFile, str], None]
Listed: TypeAlias = Iterator[tuple[str, StoredFile]]  # (table, file)


def data_files(listing: Iterable[StoredFile], log_skip: LogSkip) -> Listed:
    """(table, file) for each readable data file of the listing, in listing order; objects that
    are not data files are ignored, data files that cannot be read go to log_skip(file, why)."""
    for stored in listing:
        if not looks_like_data_file(stored.name):
            continue
        reason = skip_reason(stored)
        if reason:
            log_skip(stored, reason)
            continue
        yield table_name(stored.name), stored


def _newer(stored: StoredFile, newest: StoredFile | None) -> bool:
    return newest is None or stored.sort_key > newest.sort_key


@dataclass
class StreamFiles:
    """What sync needs of one stream's listed files (it has at least one)."""

    newest: StoredFile  # for the "bookmark later than every file" warning
    wanted: list[StoredFile] = field(default_factory=list)  # not read yet, oldest first
    covered: list[StoredFile] = field(default_factory=list)  # Bookmark.cover_window's files

    def add(self, stored: StoredFile, bookmark: Bookmark) -> None:
        if _newer(stored, self.newest):
            self.newest = stored
        if bookmark.wants(stored):
            self.wanted.append(stored)
        elif bookmark.would_cover(stored):
            self.covered.append(stored)

    def sort(self) -> None:
        self.wanted.sort(key=lambda f: f.sort_key)


def for_sync(files: Iterable[tuple[str, StoredFile]],
             bookmarks: Mapping[str, Bookmark]) -> dict[str, StreamFiles]:
    """{stream: its StreamFiles} for the streams of `bookmarks` (the selected ones) that have at
    least one file; files of other tables are dropped as they are listed. It reads `files` to
    the end before it returns, so sync emits nothing (and moves no bookmark) until the listing
    is complete: a later page may hold a stream's oldest file."""
    found: dict[str, StreamFiles] = {}
    for table, stored in files:
        bookmark = bookmarks.get(table)
        if bookmark is not None:
            found.setdefault(table, StreamFiles(stored)).add(stored, bookmark)
    for stream_files in found.values():
        stream_files.sort()
    return found


@dataclass
class TableFiles:
    """What discovery needs of one table's listed files: those a first sync would read."""

    in_range: list[StoredFile] = field(default_factory=list)  # oldest first, after start_date
    newest: StoredFile | None = None

    def add(self, stored: StoredFile, start_date: datetime.datetime) -> None:
        if stored.last_modified > start_date:
            self.in_range.append(stored)
        elif _newer(stored, self.newest):
            self.newest = stored  # only looked at when no file is in range

    def to_read(self) -> list[StoredFile]:
        """The files whose headers make the schema (oldest first): those in range, or else the
        newest file, so that a table is never discovered without columns."""
        if self.in_range:
            return sorted(self.in_range, key=lambda f: f.sort_key)
        return [self.newest] if self.newest else []


def for_discovery(files: Iterable[tuple[str, StoredFile]],
                  start_date: datetime.datetime) -> dict[str, list[StoredFile]]:
    """{table: the files discovery reads, oldest first}, tables sorted by name."""
    found: dict[str, TableFiles] = {}
    for table, stored in files:
        found.setdefault(table, TableFiles()).add(stored, start_date)
    return {table: found[table].to_read() for table in sorted(found)}
