"""Full exports as table versions (`full_exports: replace`; README "Full exports"). Pure: no I/O.

A DDS full (`all`) job writes `<OBJECT>.all.<job record number>.<timestamp>.csv`, possibly in
several parts; nothing marks the last part. jobs.plan puts a run's files in job order, each full
job's parts together, and leaves out a job still arriving (and what follows it) and what the
newest complete full job supersedes. Each full job read becomes a new table version: its records
carry the version, ACTIVATE_VERSION follows its last part; the records of other jobs carry the
table's current version (that of the newest full job before them in job order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_intacct.dds.jobs import at_or_before, job_name

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import Bookmark
    from tap_intacct.dds.files import StoredFile


def job_of(stored: StoredFile) -> str | None:
    """The job (record number or timestamp, as the name writes it) of a full export's part;
    None for any other file."""
    name = job_name(stored)
    return name.ident if name is not None and name.full else None


def version_of(parts: list[StoredFile]) -> int:
    """The version a job's records carry: its newest part's LastModified in milliseconds (so
    versions grow with the jobs, and never depend on the day the tap runs)."""
    newest = max(stored.last_modified for stored in parts)
    return int(newest.timestamp() * 1000)


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
        e.g. with lookback_seconds; jobs.plan skips those of older jobs): its rows belong to the
        table as it is; it starts no new version, which would drop every row it does not have."""
        return at_or_before(job, self._bookmark.activated_job)

    def version_for(self, stored: StoredFile) -> int | None:
        """The version the records of `stored` carry (None: no version, as with append)."""
        job = job_of(stored)
        if job is None or self._activated_already(job):  # its rows belong to the table as it is
            return self._bookmark.table_version
        return self._job_version(job)

    def _job_version(self, job: str) -> int:
        """The version of full export job `job` (not activated yet): the bookmark's if it is
        the job being read, else a new one, which the bookmark then holds as that job's."""
        bookmark = self._bookmark
        current = bookmark.full_export_job
        if current is not None and current["job"] == job:
            return current["version"]
        version = version_of(self._parts[job])
        # versions only grow: past the table's, and past that of a job left unfinished
        # (superseded now) whose records a target holds
        emitted = [v for v in (bookmark.table_version, current and current["version"])
                   if v is not None]
        if emitted and version <= max(emitted):
            version = max(emitted) + 1
        bookmark.full_export_job = {"job": job, "version": version}
        return version

    def completes(self, stored: StoredFile) -> int | None:
        """After `stored` was read whole: the version to activate if it was its job's last
        part (the bookmark then holds that version), else None."""
        job = job_of(stored)
        if job is None or self._last.get(job) != stored.key or self._activated_already(job):
            return None
        version = self._job_version(job)  # the one version_for gave its records
        self._bookmark.table_version = version
        self._bookmark.activated_job = job
        self._bookmark.full_export_job = None
        return version
