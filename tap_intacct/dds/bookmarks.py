"""Per-stream bookmarks: which files a sync reads, and the state it writes after each file.

State format (compatible with singer-io's tap-intacct, which wrote only modified_since):
    {"bookmarks": {"GLENTRY": {"modified_since": "2024-01-02T03:04:05+00:00",
                               "synced_keys": {"<key>": "<its LastModified>", ...},
                               "synced_keys_since": "2024-01-01T03:04:05+00:00"}}}
modified_since is the newest LastModified read that was not in the future. synced_keys lists
every file read whose LastModified is at or after synced_keys_since; older files are taken as
read. Only what exactness needs is kept (README, "Sync, state and bookmarks"): by default the
keys at exactly modified_since (so that two files in the same second are never skipped), with
lookback_seconds the keys inside that window (so that a late file is read once); raising
lookback_seconds re-reads nothing already synced (cover_window). The state therefore stays the
same size however many files were read.

A file modified after the run started (`now`: the store's clock runs ahead of this machine's) is
read, but moves the bookmark no further than the files modified before `now`: its key is kept
(it is later than modified_since), so that it is read once and a file arriving later with an
earlier LastModified is still read. Once `now` has passed it, settle moves the bookmark there.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Required, Self, TypedDict, cast

from tap_intacct.dds.jobs import rank_of
from tap_intacct.errors import ConfigError
from tap_intacct.values.datetimes import (
    EARLIEST,
    LATEST,
    Invalid,
    OutOfRange,
    checked_datetime,
    parse_datetime,
)

if TYPE_CHECKING:
    from tap_intacct.dds.files import StoredFile

_JUST_AFTER = datetime.timedelta(microseconds=1)  # finer than any store's LastModified


class FullExportJob(TypedDict):
    """The full-export job being read and the table version its records carry."""

    job: str  # the DDS job record number (or job timestamp) as the file name writes it
    version: int


class StreamState(TypedDict, total=False):
    """One stream's bookmark in the state, as Bookmark.to_state writes it."""

    modified_since: Required[str]
    synced_keys: dict[str, str]
    synced_keys_since: str
    table_version: int
    table_version_job: str
    full_export_job: FullExportJob


class State(TypedDict, total=False):
    """The Singer state: {"bookmarks": {stream: its StreamState}}. Bookmark.from_state checks a
    selected stream's bookmark; the others are carried as they are."""

    bookmarks: dict[str, Any]


def _before(moment: datetime.datetime, span: datetime.timedelta) -> datetime.datetime:
    """`span` before `moment`, or the earliest moment there is (no store holds older files)."""
    try:
        return moment - span
    except OverflowError:
        return EARLIEST


def _after(moment: datetime.datetime, span: datetime.timedelta) -> datetime.datetime:
    """`span` after `moment`, or the latest moment there is."""
    try:
        return moment + span
    except OverflowError:
        return LATEST


@dataclass
class Position:
    """How far a bookmark has read, once it has read a file (or, in job order, passed one):
    modified_since, synced_keys and synced_keys_since of the state (the module's docstring)."""

    modified_since: datetime.datetime
    keys_since: datetime.datetime  # synced_keys_since
    synced_keys: dict[str, datetime.datetime] = field(default_factory=dict)

    def later_than(self, newest: StoredFile) -> bool:
        """True if this is past the stream's newest file (a hand-edited state?)."""
        return newest.last_modified < self.modified_since


@dataclass
class _Frontier:
    """read_in_job_order's bookkeeping: the run's wanted files (oldest first), and those done."""

    wanted: list[StoredFile]
    done: set[str] = field(default_factory=set)
    first_not_done: int = 0  # wanted[:first_not_done] are done

    def mark_done(self, stored: StoredFile) -> datetime.datetime | None:
        """Mark `stored` done; the LastModified of the oldest wanted file not done yet (None:
        every one is done)."""
        self.done.add(stored.key)
        wanted = self.wanted
        while self.first_not_done < len(wanted) and wanted[self.first_not_done].key in self.done:
            self.first_not_done += 1
        if self.first_not_done < len(wanted):
            return wanted[self.first_not_done].last_modified
        return None


class Bookmark:
    def __init__(self, start_date: datetime.datetime, lookback_seconds: int = 0,
                 position: Position | None = None, *,
                 now: datetime.datetime = LATEST) -> None:
        self.start_date = start_date
        self.lookback = datetime.timedelta(seconds=lookback_seconds)
        self.now = now  # when the run started: later LastModified times are in the future
        # None: nothing read yet, every file after start_date is wanted (and the state holds no
        # bookmark of the stream); set by the first file read, never unset
        self.position = position
        # full_exports: replace (tap_intacct/dds/versions.py): the version the stream's table holds,
        # and the full-export job being read, as {"job": number, "version": its version}
        self.table_version: int | None = None
        self.activated_job: str | None = None  # the job number of table_version
        self.full_export_job: FullExportJob | None = None
        self._frontier: _Frontier | None = None  # read_in_job_order's

    @property
    def modified_since(self) -> datetime.datetime | None:
        """The newest LastModified read that was not in the future; None if nothing was read."""
        return self.position.modified_since if self.position else None

    @property
    def keys_since(self) -> datetime.datetime | None:
        return self.position.keys_since if self.position else None

    @property
    def synced_keys(self) -> Mapping[str, datetime.datetime]:
        return self.position.synced_keys if self.position else {}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], stream: str, start_date: datetime.datetime,
                   lookback_seconds: int = 0, source: str = "state", *,
                   now: datetime.datetime = LATEST) -> Self:
        bookmarks = state.get("bookmarks")
        if bookmarks is None:
            bookmarks = {}
        if not isinstance(bookmarks, dict):
            raise ConfigError(f"{source}: 'bookmarks' must be an object of stream bookmarks")
        value = bookmarks.get(stream)
        if value is None:
            return cls(start_date, lookback_seconds, now=now)
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: bookmarks.{stream} must be an object")
        modified_since = _moment(value, "modified_since", stream, source)
        synced = value.get("synced_keys") or {}
        if not isinstance(synced, dict):
            raise ConfigError(f"{source}: bookmarks.{stream}.synced_keys must be an object")
        try:
            synced = {key: parse_datetime(moment) for key, moment in synced.items()}
        except OutOfRange as exc:
            raise ConfigError(f"{source}: bookmarks.{stream}.synced_keys holds a value that is "
                              f"out of range: {exc}") from None
        except ValueError:
            raise ConfigError(f"{source}: bookmarks.{stream}.synced_keys holds a value that is "
                              "not an ISO 8601 date-time") from None
        keys_since = _moment(value, "synced_keys_since", stream, source)
        table_version, activated, job = _versions(value, stream, source)
        if modified_since is None:
            bookmark = cls(start_date, lookback_seconds, now=now)
            bookmark.table_version, bookmark.activated_job = table_version, activated
            return bookmark
        if keys_since is None:
            # Older states: singer-io's (no keys) read everything up to modified_since; this
            # tap's earlier versions kept every key from the oldest one they list.
            keys_since = min([*synced.values(), _after(modified_since, _JUST_AFTER)])
        bookmark = cls(start_date, lookback_seconds, Position(modified_since, keys_since, synced),
                       now=now)
        bookmark.table_version, bookmark.activated_job = table_version, activated
        bookmark.full_export_job = job
        return bookmark

    def wants(self, stored: StoredFile) -> bool:
        """True if the file has not been read yet and is in the replication range."""
        moment = stored.last_modified
        position = self.position
        if position is None:
            return moment > self.start_date
        if moment < position.keys_since or moment < _before(position.modified_since,
                                                             self.lookback):
            return False
        # a file after the bookmark is wanted unless its key is recorded (read in the future)
        return position.synced_keys.get(stored.key) != moment

    def cover_window(self, files: Iterable[StoredFile]) -> bool:
        """Before a sync: if the lookback window reaches back past what the keys record (it was
        raised), record the files listed there as read, so that only files appearing in the
        window from now on are read. Returns True if the bookmark changed."""
        position = self.position
        if position is None:
            return False
        window_start = _before(position.modified_since, self.lookback)
        if window_start >= position.keys_since:
            return False
        for stored in files:
            if self.would_cover(stored):
                position.synced_keys[stored.key] = stored.last_modified
        position.keys_since = window_start
        return True

    def would_cover(self, stored: StoredFile) -> bool:
        """True if cover_window records this file as read (it lies in the part of the window
        that the keys do not record yet)."""
        position = self.position
        return (position is not None
                and _before(position.modified_since, self.lookback) <= stored.last_modified
                < position.keys_since)

    def read_in_job_order(self, wanted: list[StoredFile]) -> None:
        """full_exports replace: this run reads the files the bookmark wants (`wanted`, oldest
        first) in job order, and marks done without reading those jobs.plan skips; so from now
        on advance moves modified_since only to the frontier: the newest LastModified (not
        after the run's start) such that every wanted file modified at or before it is done.
        The keys of the files done past the frontier are kept (they are later than
        modified_since, so prune keeps them and wants checks them): the state then holds the
        files read out of order, not the history, and a run stopped after any STATE resumes
        exactly."""
        self._frontier = _Frontier(wanted)

    def advance(self, stored: StoredFile) -> None:
        """Record that the file has been read completely (or, in job order, skipped). A file in
        the future does not move modified_since (its key records it), so that no file is
        skipped that arrives later with a LastModified between the run's start and this
        file's."""
        if self._frontier is not None:
            self._advance_to_frontier(stored, self._frontier)
            return
        moment = stored.last_modified
        position = self.position
        if position is None:
            # every file after start_date is then wanted unless its key is recorded
            position = self.position = Position(moment if moment <= self.now else self.start_date,
                                                _after(self.start_date, _JUST_AFTER))
        elif position.modified_since < moment <= self.now:
            position.modified_since = moment
        position.synced_keys[stored.key] = moment
        self.prune()

    def _advance_to_frontier(self, stored: StoredFile, frontier: _Frontier) -> None:
        oldest_not_done = frontier.mark_done(stored)
        position = self.position
        if position is None:
            # every file after start_date is then wanted unless its key is recorded
            position = self.position = Position(self.start_date,
                                                _after(self.start_date, _JUST_AFTER))
        position.synced_keys[stored.key] = stored.last_modified
        # the frontier: every file modified before the oldest one not done is done (this run's
        # wanted files, and the files of the keys, read out of order by earlier runs)
        self.settle(oldest_not_done)

    def settle(self, before: datetime.datetime | None) -> bool:
        """Before a stream's files are read: move modified_since to the newest file read while
        it was in the future that is no longer (not after the run's start), if no file still
        to be read (`before`: the LastModified of the oldest, None if none) is older. Files
        read in the future are read once whatever modified_since is; this keeps the state
        small. Returns True if the bookmark changed."""
        position = self.position
        if position is None:
            return False
        limit = self.now if before is None else min(self.now, before)
        passed = [moment for moment in position.synced_keys.values()
                  if position.modified_since < moment <= limit]
        if not passed:
            return False
        position.modified_since = max(passed)
        self.prune()
        return True

    def prune(self) -> bool:
        """Forget the keys older than the lookback window (by default: older than the bookmark
        itself); files before the window are taken as read anyway. Returns True if the bookmark
        changed (a state of an earlier version, which kept a day of keys, shrinks here)."""
        position = self.position
        if position is None:
            return False
        horizon = _before(position.modified_since, self.lookback)
        if position.keys_since >= horizon:
            return False
        position.keys_since = horizon
        position.synced_keys = {key: moment for key, moment in position.synced_keys.items()
                                if moment >= horizon}
        return True

    @property
    def key_count(self) -> int:
        """How many keys the state of this bookmark holds."""
        return len(self.synced_keys)

    def to_state(self) -> StreamState | None:
        """The stream's bookmark in the state; None while nothing was read (the state then
        holds no bookmark of the stream, or keeps the one it has)."""
        position = self.position
        if position is None:
            return None
        value: StreamState = {"modified_since": position.modified_since.isoformat()}
        if position.synced_keys:
            value["synced_keys"] = {key: moment.isoformat()
                                    for key, moment in sorted(position.synced_keys.items())}
        value["synced_keys_since"] = position.keys_since.isoformat()
        if self.table_version is not None:
            value["table_version"] = self.table_version
        if self.activated_job is not None:
            value["table_version_job"] = self.activated_job
        if self.full_export_job is not None:
            value["full_export_job"] = self.full_export_job.copy()
        return value


def _versions(value: Mapping[str, Any], stream: str, source: str
              ) -> tuple[int | None, str | None, FullExportJob | None]:
    """(table_version, table_version_job, full_export_job) of a stream's bookmark, checked."""
    version = value.get("table_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 0):
        raise ConfigError(f"{source}: bookmarks.{stream}.table_version must be a whole number, "
                          f"got {version!r}")
    job = value.get("full_export_job")
    if job is not None and not (isinstance(job, dict) and isinstance(job.get("job"), str)
                                and isinstance(job.get("version"), int)
                                and not isinstance(job.get("version"), bool)):
        raise ConfigError(f"{source}: bookmarks.{stream}.full_export_job must be "
                          f'{{"job": "<job number>", "version": <whole number>}}, got {job!r}')
    activated = value.get("table_version_job")
    if activated is not None and not (isinstance(activated, str) and rank_of(activated)):
        raise ConfigError(f"{source}: bookmarks.{stream}.table_version_job must be a DDS job "
                          f"number (text of digits) or job timestamp, got {activated!r}")
    return version, activated, cast("FullExportJob | None", job)  # checked above


def _moment(value: Mapping[str, Any], name: str, stream: str, source: str
            ) -> datetime.datetime | None:
    text = value.get(name)
    if text is None:
        return None
    try:
        return checked_datetime(text, f"{source}: bookmarks.{stream}.{name}",
                                out_of_range=" is out of range: ",
                                invalid=f" is not an ISO 8601 date-time: {text!r}")
    except Invalid as exc:
        raise ConfigError(*exc.problems) from None
