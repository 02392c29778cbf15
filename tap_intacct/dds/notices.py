"""The log lines a run's stream cursors write (dds/cursor.py): about bookmarks, files modified in
the future and job order. Their text is part of the tap's behaviour (the README and the tests
quote it)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.dds.jobs import Job, Plan

LOGGER = logging.getLogger("tap_intacct")
# How far a store's clock may run ahead of this machine's before the log warns about it (a
# file modified "in the future" is handled the same either way: Bookmark.advance)
CLOCK_SKEW = datetime.timedelta(minutes=5)


def no_bookmark_matches(state: State, streams: Sequence[str]) -> None:
    """A state with bookmarks, none of them for a selected stream (another company's or
    catalog's state, streams renamed?): every stream is read from start_date; say so."""
    held = sorted(state["bookmarks"])
    if held and streams and not any(stream in state["bookmarks"] for stream in streams):
        LOGGER.warning("the state holds bookmarks only for %s, none for the selected stream(s) "
                       "%s: they are read from start_date", ", ".join(held[:10]) +
                       (f" and {len(held) - 10} more" if len(held) > 10 else ""),
                       ", ".join(streams))


def bookmark_in_future(stream: str, moment: datetime.datetime | None,
                       clock: datetime.datetime) -> None:
    """A bookmark (`moment`, its modified_since) later than the run's start (`clock`, by more
    than CLOCK_SKEW) hides every file modified before it: say so (earlier builds moved it to a
    future LastModified)."""
    if moment is not None and moment - clock > CLOCK_SKEW:
        LOGGER.warning("%s: the bookmark %s is %s ahead of this machine's clock, so files "
                       "modified before it are not read (earlier builds of this tap moved it "
                       "to the LastModified of a file from a store whose clock ran ahead, "
                       "skipping the files that arrived after that file); to read them, set "
                       "bookmarks.%s.modified_since in the state to the last LastModified "
                       "read before that file", stream, moment.isoformat(),
                       duration(moment - clock), stream)


def later_than_every_file(stream: str, moment: datetime.datetime, newest: StoredFile) -> None:
    LOGGER.warning("%s: the bookmark %s is later than every file of this stream (newest: "
                   "%s), so nothing is read until newer files arrive; if the state was "
                   "edited or copied from elsewhere, fix it", stream, moment.isoformat(),
                   newest.last_modified.isoformat())


def new_files(stream: str, count: int, since: datetime.datetime) -> None:
    LOGGER.info("%s: %d new file(s) since %s", stream, count, since.isoformat())


def future_files(stream: str, pending: Sequence[StoredFile], clock: datetime.datetime) -> None:
    """One line about the files modified after the run's start, `clock` (they are read, and
    remembered so that they are read once); a warning if a file is more than CLOCK_SKEW
    ahead."""
    ahead = [stored for stored in pending if stored.last_modified > clock]
    if not ahead:
        return
    latest = max(ahead, key=lambda stored: stored.sort_key)  # (full exports: in job order)
    lead = latest.last_modified - clock
    LOGGER.log(logging.WARNING if lead > CLOCK_SKEW else logging.INFO,
               "%s: %d file(s) were modified after this run started (%s the latest, up to %s "
               "ahead of this machine's clock: the store's clock runs ahead, or this "
               "machine's is behind); they are read and kept in the state (synced_keys) so "
               "that they are read once, and the bookmark does not move past this run's "
               "start, so that files arriving later are not skipped", stream, len(ahead),
               latest.key, duration(lead))


def skipped(stream: str, key: str, why: str) -> None:
    LOGGER.warning("%s: skipped %s: %s", stream, key, why)


def job_plan(stream: str, plan: Plan, activated: str | None) -> None:
    """full_exports replace: what jobs.plan holds back for a later run (a job still arriving)
    and leaves unread (`activated`: the job whose version the table holds)."""
    waiting = plan.waiting
    if waiting:
        LOGGER.info("%s: %s job %s (%d part(s) so far, the newest modified %s) may still be "
                    "arriving: %s the %d file(s) after it in job order wait until %s "
                    "(full_export_quiet_seconds)", stream,
                    "full export" if waiting.full else "change", waiting.job, waiting.parts,
                    waiting.newest.isoformat(), "it and" if waiting.full else "its parts are "
                    "read;", waiting.files_after, waiting.until.isoformat())
    if plan.late:
        LOGGER.info("%s: not read: %s, before full export job %s whose version the table "
                    "holds (they came late; that export holds their rows)", stream,
                    jobs_text(plan.late), activated)
    if plan.superseded:
        LOGGER.info("%s: not read: %s, superseded by full export job %s (its activation drops "
                    "what they hold)", stream, jobs_text(plan.superseded), plan.newest_full)


def jobs_text(skipped: list[Job], shown: int = 5) -> str:
    """'2 full export job(s) (11, 12), 3 change job(s) (14, 15, 16), 1 other file(s) (V.csv):
    8 file(s)'."""
    kinds = [("full export job(s)", [job for job in skipped if job.full]),
             ("change job(s)", [job for job in skipped if job.name and not job.full]),
             ("other file(s)", [job for job in skipped if job.name is None])]
    parts = []
    for label, of_kind in kinds:
        if of_kind:
            names = ", ".join(job.label for job in of_kind[:shown])
            more = f" and {len(of_kind) - shown} more" if len(of_kind) > shown else ""
            parts.append(f"{len(of_kind)} {label} ({names}{more})")
    return f"{', '.join(parts)}: {sum(len(job.parts) for job in skipped)} file(s)"


def duration(span: datetime.timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{span.total_seconds():.0f} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
