"""DDS jobs and job order (`full_exports: replace`; README "Full exports"). Pure: no I/O.

A DDS file's name says which job wrote it: `<OBJECT>.<all|change>.<job record number>.<...>`
(the names DDS writes), or `<OBJECT>.<all|change>.<job timestamp>...` (a job timestamp such as
`2024-03-04T08:00:00Z` in place of the number). A file whose name carries neither
(`OBJECT.csv`) is a job of its own. The parts of a long full export can land interleaved with
other jobs' files, so landing order is not job order; job order is:

1. the jobs ordered by their oldest file's LastModified (ties by key), which gives each job a
   slot;
2. then the numbered jobs take the numbered jobs' slots in job number order, and the timestamped
   jobs the timestamped jobs' slots in timestamp order; a job with neither keeps its slot.

So numbered jobs are applied in number order (DDS job record numbers grow with the jobs, `all`
and `change` alike), timestamped ones in timestamp order, and the two kinds (never seen together
in one object's exports) and files with neither are placed by landing. Each job's files are
applied together, oldest first.

`plan` then chooses what a run reads: everything up to the first job still arriving (a job named
by number or timestamp whose newest file is not older than the quiet period: every job after it
waits, since a later part of it must not come after them, and so does a full job itself, read
whole or not at all), and of that, only the newest full job and what follows it: what precedes
it in job order (older full jobs, change jobs before it, late files of jobs before the table's
activated job) is superseded, since that job's activation drops it from the table anyway.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from tap_intacct.dds.files import StoredFile

_JOB_NAME = re.compile(r"[^.]+\.(all|change)\.([^.]+)\.", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]+")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:[T_ ]?([0-9]{2})[:-]?([0-9]{2})(?:[:-]?([0-9]{2}))?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?", re.IGNORECASE)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def rank_of(ident: str) -> tuple[str, int] | None:
    """("number", the job record number) or ("timestamp", microseconds since 1970 in UTC) of a
    job identifier as a file name carries it; None if it is neither. Only ranks of one kind
    compare."""
    if _NUMBER.fullmatch(ident):
        return "number", int(ident)
    match = _TIMESTAMP.fullmatch(ident)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    offset = datetime.timedelta(0)
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = -offset if zone[0] == "-" else offset
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0),
                                   int(minute or 0), int(second or 0),
                                   tzinfo=datetime.timezone(offset))
    except ValueError:  # not a date (month 13, a 25th hour, an offset of a day or more)
        return None
    return "timestamp", (moment - _EPOCH) // datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class JobName:
    """What a file's name says of its job."""

    full: bool  # an `all` job (a full export)
    ident: str  # the job record number or job timestamp, as written
    rank: tuple[str, int]  # rank_of(ident)


def job_name(stored: StoredFile) -> JobName | None:
    """The job a file's name names; None for names with neither a job number nor timestamp."""
    match = _JOB_NAME.match(stored.name)
    if not match:
        return None
    rank = rank_of(match.group(2))
    if rank is None:
        return None
    return JobName(match.group(1).lower() == "all", match.group(2), rank)


def at_or_before(ident: str, other: str | None) -> bool:
    """True if job `ident` is job `other` or comes before it in job order (only jobs named the
    same way compare: a number and a timestamp do not)."""
    if other is None:
        return False
    mine, theirs = rank_of(ident), rank_of(other)
    return mine is not None and theirs is not None and mine[0] == theirs[0] and (
        mine[1] <= theirs[1])


@dataclass
class Job:
    """One job's files among those a run considers, oldest first."""

    name: JobName | None  # None: a file whose name names no job (a job of its own)
    parts: list[StoredFile] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return self.name is not None and self.name.full

    @property
    def label(self) -> str:
        return self.name.ident if self.name else self.parts[0].name

    @property
    def newest(self) -> datetime.datetime:
        return max(stored.last_modified for stored in self.parts)


def in_job_order(files: list[StoredFile]) -> list[Job]:
    """The files grouped into jobs, the jobs in job order (see the module's docstring)."""
    grouped: dict[tuple[bool, str], Job] = {}
    jobs: list[Job] = []
    for stored in sorted(files, key=lambda f: f.sort_key):
        name = job_name(stored)
        if name is None:
            jobs.append(Job(None, [stored]))
            continue
        job = grouped.get((name.full, name.ident))
        if job is None:
            job = grouped[(name.full, name.ident)] = Job(name)
            jobs.append(job)  # its slot: its oldest file's
        job.parts.append(stored)
    for kind in ("number", "timestamp"):
        named = [(slot, job, job.name) for slot, job in enumerate(jobs)
                 if job.name is not None and job.name.rank[0] == kind]
        ordered = sorted(named, key=lambda entry: (entry[2].rank[1], not entry[2].full))
        for (slot, _, _), (_, job, _) in zip(named, ordered, strict=True):
            jobs[slot] = job
    return jobs


@dataclass(frozen=True)
class Waiting:
    """A job still arriving (its newest file is not older than the quiet period): every job
    after it waits for a later run, and so does a full job itself."""

    job: str
    full: bool
    parts: int
    newest: datetime.datetime
    until: datetime.datetime
    files_after: int  # the files of the jobs after it


@dataclass
class Plan:
    """What a run reads of a stream's pending files, and what it skips."""

    files: list[StoredFile]  # to read, in job order
    late: list[Job]  # not read: jobs before the table's activated job (their files came late)
    superseded: list[Job]  # not read: the jobs before newest_full
    newest_full: str | None  # the newest complete full job, if it supersedes anything
    waiting: Waiting | None

    @property
    def skipped(self) -> list[StoredFile]:
        """The files not read (late and superseded): done all the same."""
        return [stored for job in self.late + self.superseded for stored in job.parts]


def plan(pending: list[StoredFile], *, quiet: datetime.timedelta, now: datetime.datetime,
         activated: str | None) -> Plan:
    """What to read of `pending` (a stream's files not read yet) and in which order.
    `activated`: the full job whose version the table holds (the bookmark's), if any."""
    late: list[Job] = []
    jobs: list[Job] = []
    for job in in_job_order(pending):
        before = job.name is not None and job.name.ident != activated and at_or_before(
            job.name.ident, activated)
        (late if before else jobs).append(job)
    waiting = None
    for position, job in enumerate(jobs):
        if job.name is not None and now - job.newest < quiet:
            # still arriving: a later part must not come after the jobs that follow it
            after = sum(len(other.parts) for other in jobs[position + 1:])
            waiting = Waiting(job.label, job.full, len(job.parts), job.newest,
                              job.newest + quiet, after)
            # a full job is read whole (then activated); a change job's parts as they come
            jobs = jobs[:position] if job.full else jobs[:position + 1]
            break
    # a late part of the activated job joins the table's version: it supersedes nothing
    newest_full = max((n for n, job in enumerate(jobs) if job.full and job.label != activated),
                      default=0)
    return Plan([stored for job in jobs[newest_full:] for stored in job.parts], late,
                jobs[:newest_full], jobs[newest_full].label if newest_full else None, waiting)
