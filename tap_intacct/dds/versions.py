"""Full exports as table versions (`full_exports: replace`; README "Full exports"). Pure: no I/O.

A DDS full (`all`) job writes `<OBJECT>.all.<job record number>.<timestamp>.csv`, possibly in
several parts; nothing marks the last part. A job is taken as complete once its newest part is
older than the quiet period. Each complete job becomes a new table version: its records carry the
version, ACTIVATE_VERSION follows its last part. A job still arriving is not read, nor anything
after it in its stream, so the bookmark never passes a part that was skipped.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_intacct.dds.files import StoredFile

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import Bookmark

FULL_EXPORT_PART = re.compile(r"[^.]+\.all\.([0-9]+)\.", re.IGNORECASE)


def job_of(stored: StoredFile) -> str | None:
    """The job record number of a full export's part; None for any other file."""
    match = FULL_EXPORT_PART.match(stored.name)
    return match.group(1) if match else None


def version_of(parts: list[StoredFile]) -> int:
    """The version a job's records carry: its newest part's LastModified in milliseconds (so
    versions grow with the jobs, and never depend on the day the tap runs)."""
    newest = max(stored.last_modified for stored in parts)
    return int(newest.timestamp() * 1000)


@dataclass(frozen=True)
class Waiting:
    """A job still arriving: it and every file after it wait for a later run."""

    job: str
    parts: int
    newest: datetime.datetime
    until: datetime.datetime


def ready(pending: list[StoredFile], quiet: datetime.timedelta,
          now: datetime.datetime) -> tuple[list[StoredFile], Waiting | None]:
    """(the files of `pending` (oldest first) that may be read now, the Waiting job or None):
    `pending` up to the first part of the first job whose newest part is not older than
    `quiet`."""
    newest: dict[str, datetime.datetime] = {}
    for stored in pending:
        job = job_of(stored)
        if job is not None and (job not in newest or stored.last_modified > newest[job]):
            newest[job] = stored.last_modified
    for position, stored in enumerate(pending):
        job = job_of(stored)
        if job is not None and now - newest[job] < quiet:
            parts = sum(1 for f in pending if job_of(f) == job)
            return pending[:position], Waiting(job, parts, newest[job], newest[job] + quiet)
    return pending, None


class TableVersions:
    """Per stream and run: the version each file's records carry, and which file completes a
    job (then its version is activated). Keeps the stream's Bookmark up to date: the version
    its table holds, and the job being read, so that a run stopped in the middle of a job
    resumes it with the same version."""

    def __init__(self, bookmark: Bookmark, pending: list[StoredFile]) -> None:
        self._bookmark = bookmark
        self._parts: dict[str, list[StoredFile]] = {}
        for stored in pending:
            job = job_of(stored)
            if job is not None:
                self._parts.setdefault(job, []).append(stored)
        self._last = {job: parts[-1].key for job, parts in self._parts.items()}

    def _activated_already(self, job: str) -> bool:
        """True for a part of the activated job or an older one (a part that arrived late,
        e.g. with lookback_seconds): its rows belong to the table as it is; it starts no new
        version, which would drop every row it does not have. DDS job record numbers grow."""
        activated = self._bookmark.activated_job
        return activated is not None and int(job) <= int(activated)

    def version_for(self, stored: StoredFile) -> int | None:
        """The version the records of `stored` carry (None: no version, as with append)."""
        bookmark = self._bookmark
        job = job_of(stored)
        if job is None or self._activated_already(job):  # its rows belong to the table as it is
            return bookmark.table_version
        current = bookmark.full_export_job
        if current is None or current["job"] != job:
            version = version_of(self._parts[job])
            if bookmark.table_version is not None and version <= bookmark.table_version:
                version = bookmark.table_version + 1  # versions only grow
            bookmark.full_export_job = {"job": job, "version": version}
        return bookmark.full_export_job["version"]  # type: ignore[index]  # current, or set above

    def completes(self, stored: StoredFile) -> int | None:
        """After `stored` was read whole: the version to activate if it was its job's last
        part (the bookmark then holds that version), else None."""
        job = job_of(stored)
        if job is None or self._last.get(job) != stored.key or self._activated_already(job):
            return None
        version = self._bookmark.full_export_job["version"]  # type: ignore[index]  # version_for set it
        self._bookmark.table_version = version
        self._bookmark.activated_job = job
        self._bookmark.full_export_job = None
        return version
