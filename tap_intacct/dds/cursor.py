"""One cursor per stream and run: which files the sync loop reads of a stream, in which order,
and what it emits besides the records (README "Sync, state and bookmarks", "Full exports",
"Event mode").

A stream's state in a run is its Bookmark (dds/bookmarks.py), with `full_exports: replace` its
job order (dds/jobs.py) and table versions (dds/versions.py), in the event mode its horizon
(dds/horizons.py), and the STATE every stream shares (dds/checkpoints.py). A StreamCursor holds
them and keeps them in order, so that the loop only asks and tells:

    cursors = Cursors(state, streams, listing, rules, writer)   bookmarks checked, listing read
    cursor = cursors.of(stream)
    files = cursor.files_to_sync()       in order; None: the listing found no file of the stream
    per file: its records carry cursor.version_for(file); then
        step = cursor.done(file), or cursor.gone(file, FileGone) if it vanished meanwhile;
        ACTIVATE_VERSION step.activate (unless None), then a STATE if cursor.state_due(step)
        (cursor.write_state())
    cursor.end()                         once every file was read (none failed)
    cursor.write_state()                 the stream's last STATE, if one is owed

As with the file-based cursors of airbyte-cdk and the Meltano SDK, one object answers "which
files" and "what state"; the files it holds are those of one run's listing (dds/candidates.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from tap_intacct.dds import candidates, horizons, jobs, notices
from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.checkpoints import Checkpoints
from tap_intacct.dds.versions import TableVersions, job_of
from tap_intacct.errors import DataError

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.candidates import StreamFiles
    from tap_intacct.dds.checkpoints import StateWriter
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.errors import FileGone
    from tap_intacct.settings.config import Config


@dataclass(frozen=True)
class Rules:
    """What a run's cursors go by: the settings on bookmarks and full exports, the run's start,
    and in the event mode what the listing says of each stream (listing.Sources)."""

    start_date: datetime.datetime
    now: datetime.datetime  # the run's start: later LastModified times are in the future
    lookback_seconds: int = 0
    job_order: bool = False  # full_exports: replace
    quiet: datetime.timedelta = datetime.timedelta(0)  # full_export_quiet_seconds
    # event mode: per stream whose files came from events, the moment its bookmark holds at
    horizons: Mapping[str, datetime.datetime] = field(default_factory=dict)
    # event mode: the streams listed in full (their horizon becomes `now` once all is read)
    listed_in_full: Collection[str] = ()

    @classmethod
    def of(cls, config: Config, now: datetime.datetime,
           held: Mapping[str, datetime.datetime],
           listed_in_full: Collection[str]) -> Self:
        return cls(config.start_date, now, config.lookback_seconds,
                   config.full_exports == "replace",
                   datetime.timedelta(seconds=config.full_export_quiet_seconds), held,
                   listed_in_full)


@dataclass(frozen=True)
class Step:
    """What became of the stream's state after a file: the version to activate (None: none),
    and whether the bookmark changed. The loop emits ACTIVATE_VERSION first, then asks
    StreamCursor.state_due whether a STATE follows."""

    activate: int | None = None
    changed: bool = False


class Cursors:
    """The cursors of a run's selected streams (`streams`, catalog order), over one listing
    ((table, file) pairs as candidates.data_files yields them), and the STATE they share:
    `state` is updated in place and written through `writer`.

    Every bookmark is checked (ConfigError) and the listing read to its end before any output:
    a listing that fails on a later page then fails the run with nothing bookmarked."""

    def __init__(self, state: State, streams: Sequence[str],
                 listing: Iterable[tuple[str, StoredFile]], rules: Rules,
                 writer: StateWriter) -> None:
        self._rules = rules
        self._bookmarks = {name: Bookmark.from_state(state, name, rules.start_date,
                                                     rules.lookback_seconds,
                                                     now=rules.horizons.get(name, rules.now))
                           for name in streams}
        if not state.get("bookmarks"):
            state["bookmarks"] = {}
        notices.no_bookmark_matches(state, streams)
        self._files = candidates.for_sync(listing, self._bookmarks)
        self._checkpoints = Checkpoints(writer, state, self._bookmarks)

    def bytes_wanted(self) -> int:
        """The stored size of every file the bookmarks want (an upper bound of what the run
        reads: job order may pass some unread)."""
        return sum(stored.size for files in self._files.values() for stored in files.wanted)

    def of(self, stream: str) -> StreamCursor:
        """The cursor of a selected stream, for one pass over its files."""
        return StreamCursor(stream, self._bookmarks[stream], self._files.get(stream),
                            self._checkpoints, self._rules)


class StreamCursor:
    """One stream's files in a run and its state: the bookmark, and with `full_exports:
    replace` the job order and table versions."""

    def __init__(self, stream: str, bookmark: Bookmark, files: StreamFiles | None,
                 checkpoints: Checkpoints, rules: Rules) -> None:
        self.stream = stream
        self._bookmark = bookmark
        self._files = files  # None: the listing found no file of the stream
        self._checkpoints = checkpoints
        self._rules = rules
        self._versions: TableVersions | None = None  # full_exports replace, once files_to_sync

    def files_to_sync(self) -> list[StoredFile] | None:
        """The files to read, in order (oldest first; in job order with `full_exports:
        replace`); None if the listing found no file of the stream. Asked once, before any
        file is read: it logs what the bookmark says and writes a STATE if the bookmark changed
        (lookback_seconds raised, a state of an earlier version, files read in the future no
        longer are, full export jobs that supersede files not read)."""
        bookmark, rules = self._bookmark, self._rules
        notices.bookmark_in_future(self.stream, bookmark.modified_since, rules.now)
        files = self._files
        if files is None:
            return None
        position = bookmark.position
        if position is not None and position.later_than(files.newest):
            notices.later_than_every_file(self.stream, position.modified_since, files.newest)
        # lookback_seconds was raised (cover_window), a state of an earlier version shrinks, or
        # files read in the future are no longer (settle)
        oldest = files.wanted[0].last_modified if files.wanted else None
        if bookmark.cover_window(files.covered) | bookmark.prune() | bookmark.settle(oldest):
            self._checkpoints.changed(self.stream, file_read=False)
        pending = files.wanted
        if rules.job_order:
            pending = self._in_job_order(files.wanted)
            self._versions = TableVersions(bookmark, pending)
        notices.new_files(self.stream, len(pending), bookmark.modified_since or rules.start_date)
        notices.future_files(self.stream, pending, rules.now)
        return pending

    def _in_job_order(self, wanted: list[StoredFile]) -> list[StoredFile]:
        """full_exports replace: the wanted files to read, in job order (jobs.plan): none of a
        full export job still arriving nor after it, none of what the newest complete full job
        supersedes; those are marked done (the bookmark passes them) and logged. The quiet
        period runs to the run's start (in the event mode a bookmark's `now` is its horizon)."""
        bookmark = self._bookmark
        plan = jobs.plan(wanted, quiet=self._rules.quiet, now=self._rules.now,
                         activated=bookmark.activated_job)
        notices.job_plan(self.stream, plan, bookmark.activated_job)
        bookmark.read_in_job_order(wanted)
        skipped = plan.skipped
        for stored in skipped:
            bookmark.advance(stored)
        if skipped:
            self._checkpoints.changed(self.stream, file_read=False)
        return plan.files

    def version_for(self, stored: StoredFile) -> int | None:
        """The table version the records of `stored` carry (None: none, as with append)."""
        return self._versions.version_for(stored) if self._versions is not None else None

    def done(self, stored: StoredFile) -> Step:
        """`stored` was read whole: the bookmark passes it; a full export job's last part
        activates its version."""
        self._bookmark.advance(stored)
        versions = self._versions
        return Step(versions.completes(stored) if versions is not None else None, changed=True)

    def gone(self, stored: StoredFile, gone: FileGone) -> Step:
        """`stored` vanished (or was replaced) after the listing: it is skipped, and in job
        order marked done, so that the frontier passes it; a part of a full export job stops
        the stream (DataError): the job is not activated without it."""
        job = job_of(stored) if self._versions is not None else None
        if job is not None:
            raise DataError(f"{gone.key}: this part of full export job {job} cannot be read "
                            f"({gone.why}); the job is not activated without it (re-run once "
                            "the export is complete)") from None
        notices.skipped(self.stream, gone.key, gone.why)
        if self._versions is None:
            return Step()
        self._bookmark.advance(stored)
        return Step(changed=True)

    def state_due(self, step: Step) -> bool:
        """Once the loop emitted `step`'s ACTIVATE_VERSION (if any): the change goes into the
        run's next STATE; True if that STATE is due now (after an activation, always: the
        STATE with the activated version follows at once)."""
        if not step.changed:
            return False
        return self._checkpoints.note_change(self.stream) or step.activate is not None

    def end(self) -> None:
        """Every file was read (none failed): in the event mode, a stream listed in full whose
        listing's files are all read moves its horizon to the run's start (dds/horizons.py)."""
        if self.stream in self._rules.listed_in_full and horizons.complete(
                self._checkpoints.state, self.stream, self._files, self._bookmark,
                self._rules.now):
            self._checkpoints.changed(self.stream, file_read=False)

    def write_state(self) -> None:
        """A STATE now (every stream's bookmark), if one changed since the last STATE."""
        self._checkpoints.write()
