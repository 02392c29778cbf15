"""Sync: for each selected stream, read every file past its bookmark and emit records and state."""

from __future__ import annotations

import collections
import datetime
import io
import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from tap_intacct.dds import candidates, horizons, jobs, versions
from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.checkpoints import Checkpoints
from tap_intacct.engines.engine import engine_for, sync_file
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import DataError, FileGone
from tap_intacct.settings.knobs import Knobs

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.candidates import StreamFiles
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.engines.engine import Engine
    from tap_intacct.output.messages import SingerWriter, Sinks
    from tap_intacct.settings.config import Config
    from tap_intacct.storage.store import Store

LOGGER = logging.getLogger("tap_intacct")
FILES_AHEAD = 3  # memory: up to (1 + FILES_AHEAD) x readahead.DEPTH x readahead.FETCH_BYTES
# How far a store's clock may run ahead of this machine's before the log warns about it (a
# file modified "in the future" is handled the same either way: Bookmark.advance)
CLOCK_SKEW = datetime.timedelta(minutes=5)


def sync(bucket: Store, listing: Iterable[tuple[str, StoredFile]],
         selected: Sequence[SelectedStream], *, state: State, config: Config,
         writer: SingerWriter, sinks: Sinks, knobs: Knobs | None = None,
         now: datetime.datetime | None = None,
         held: Mapping[str, datetime.datetime] | None = None,
         listed_in_full: Collection[str] = ()) -> None:
    """Sync the selected streams in catalog order; `state` is updated in place and emitted.

    `listing`: (table, file) of every readable data file, as candidates.data_files yields them;
    only the files the bookmarks want are kept (candidates.for_sync). The listing is read to its
    end before anything is emitted (no SCHEMA, RECORD, STATE or ACTIVATE_VERSION): a listing
    that fails on a later page (storage/pages.py) then fails the run with nothing bookmarked,
    never after a bookmark moved past files that page held. A file that cannot be read
    stops its own stream at that file (its bookmark stays before it); the other streams still
    sync, and the run then fails naming every such file. `now`: the run's start (by default
    this machine's clock, read before the listing is): a file modified later is in the future
    and moves no bookmark past it (Bookmark.advance).

    The event mode (dds/horizons.py): `held` maps the streams whose files came from the queue's
    events to their horizon, the moment their bookmark holds at (their Bookmark's `now`);
    `listed_in_full` names the streams listed in full, whose horizon becomes `now` in the state
    once every file that listing wanted is read.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    # every bookmark is checked before anything is emitted
    held = held or {}
    bookmarks = {stream.name: Bookmark.from_state(state, stream.name, config.start_date,
                                                  config.lookback_seconds,
                                                  now=held.get(stream.name, now))
                 for stream in selected}
    if not state.get("bookmarks"):
        state["bookmarks"] = {}
    _warn_if_no_bookmark_matches(state, selected)
    # the whole listing, before any output (see the docstring)
    tables = candidates.for_sync(listing, bookmarks)
    checkpoints = Checkpoints(writer, state, bookmarks)
    knobs = knobs or Knobs()
    progress_seconds = knobs.progress_seconds
    engine = engine_for(knobs.engine)
    failures: list[str] = []
    try:
        for stream in selected:
            try:
                _sync_stream(bucket, tables.get(stream.name), stream,
                             bookmark=bookmarks[stream.name], checkpoints=checkpoints,
                             config=config, writer=writer, sinks=sinks,
                             progress_seconds=progress_seconds, engine=engine, clock=now)
                if stream.name in listed_in_full and horizons.complete(
                        state, stream.name, tables.get(stream.name), bookmarks[stream.name], now):
                    checkpoints.changed(stream.name, file_read=False)
            except DataError as exc:
                LOGGER.warning("%s: stopped at a file that cannot be read (the other streams go "
                               "on): %s", stream.name, exc)
                failures += exc.problems
            finally:
                checkpoints.write()  # the bookmark after the last file read, if not written yet
    finally:
        engine.shutdown()
    if failures:
        raise DataError(*failures)


def _warn_if_no_bookmark_matches(state: State, selected: Sequence[SelectedStream]) -> None:
    """A state with bookmarks, none of them for a selected stream (another company's or
    catalog's state, streams renamed?): every stream is read from start_date; say so."""
    held = sorted(state["bookmarks"])
    if held and selected and not any(stream.name in state["bookmarks"] for stream in selected):
        LOGGER.warning("the state holds bookmarks only for %s, none for the selected stream(s) "
                       "%s: they are read from start_date", ", ".join(held[:10]) +
                       (f" and {len(held) - 10} more" if len(held) > 10 else ""),
                       ", ".join(stream.name for stream in selected))


def _sync_stream(bucket: Store, files: StreamFiles | None, stream: SelectedStream, *,
                 bookmark: Bookmark, checkpoints: Checkpoints, config: Config,
                 writer: SingerWriter, sinks: Sinks, progress_seconds: float,
                 engine: Engine, clock: datetime.datetime) -> None:
    writer.schema(stream.name, stream.schema, stream.key_properties)
    _warn_if_bookmark_in_future(stream.name, bookmark, clock)
    if files is None:
        LOGGER.warning("%s: no files for this stream under %s any more; nothing to "
                       "sync, state unchanged", stream.name,
                       bucket.location(config.company_prefix))
        return
    # files.newest: for_sync keeps streams with a file; later_than: modified_since is set
    if bookmark.later_than(files.newest):  # type: ignore[arg-type]
        LOGGER.warning("%s: the bookmark %s is later than every file of this stream (newest: "
                       "%s), so nothing is read until newer files arrive; if the state was "
                       "edited or copied from elsewhere, fix it", stream.name,
                       bookmark.modified_since.isoformat(),  # type: ignore[union-attr]
                       files.newest.last_modified.isoformat())  # type: ignore[union-attr]
    # lookback_seconds was raised (cover_window), a state of an earlier version shrinks, or
    # files read in the future are no longer (settle)
    oldest = files.wanted[0].last_modified if files.wanted else None
    if bookmark.cover_window(files.covered) | bookmark.prune() | bookmark.settle(oldest):
        checkpoints.changed(stream.name, file_read=False)
    pending = files.wanted
    table_versions = None
    if config.full_exports == "replace":
        pending = _in_job_order(stream.name, files.wanted, bookmark, checkpoints,
                                quiet_seconds=config.full_export_quiet_seconds, clock=clock)
        table_versions = versions.TableVersions(bookmark, pending)
    LOGGER.info("%s: %d new file(s) since %s", stream.name, len(pending),
                (bookmark.modified_since or config.start_date).isoformat())
    _log_future_files(stream.name, pending, clock)
    records = StreamRecords(stream)
    total = 0
    for stored, binary in opened_ahead(bucket, pending):
        version = table_versions.version_for(stored) if table_versions else None
        try:
            total += sync_file(bucket, stored, binary, records, sinks,
                               progress_seconds=progress_seconds, engine=engine,
                               dialect=config.dialect, version=version)
        except FileGone as gone:
            if table_versions and versions.job_of(stored) is not None:
                raise DataError(f"{gone.key}: this part of full export job "
                                f"{versions.job_of(stored)} cannot be read ({gone.why}); the "
                                "job is not activated without it (re-run once the export is "
                                "complete)") from None
            LOGGER.warning("%s: skipped %s: %s", stream.name, gone.key, gone.why)
            if table_versions:  # in job order: done, so that the frontier passes it
                bookmark.advance(stored)
                checkpoints.changed(stream.name)
            continue
        bookmark.advance(stored)
        activated = table_versions.completes(stored) if table_versions else None
        if activated is not None:
            writer.activate_version(stream.name, activated)
        checkpoints.changed(stream.name)
        if activated is not None:
            checkpoints.write()  # the STATE with the activated version follows at once
    LOGGER.info("%s: %d record(s) from %d file(s)", stream.name, total, len(pending))


def _warn_if_bookmark_in_future(stream: str, bookmark: Bookmark,
                                clock: datetime.datetime) -> None:
    """A bookmark later than the run's start (`clock`, by more than CLOCK_SKEW) hides every
    file modified before it: say so (earlier builds moved it to a future LastModified)."""
    moment = bookmark.modified_since
    if moment is not None and moment - clock > CLOCK_SKEW:
        LOGGER.warning("%s: the bookmark %s is %s ahead of this machine's clock, so files "
                       "modified before it are not read (earlier builds of this tap moved it "
                       "to the LastModified of a file from a store whose clock ran ahead, "
                       "skipping the files that arrived after that file); to read them, set "
                       "bookmarks.%s.modified_since in the state to the last LastModified "
                       "read before that file", stream, moment.isoformat(),
                       _duration(moment - clock), stream)


def _log_future_files(stream: str, pending: Sequence[StoredFile],
                      clock: datetime.datetime) -> None:
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
               latest.key, _duration(lead))


def _duration(span: datetime.timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{span.total_seconds():.0f} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _in_job_order(stream: str, wanted: list[StoredFile], bookmark: Bookmark,
                  checkpoints: Checkpoints, *, quiet_seconds: int,
                  clock: datetime.datetime) -> list[StoredFile]:
    """full_exports replace: the wanted files to read, in job order (jobs.plan): none of a full
    export job still arriving nor after it, none of what the newest complete full job
    supersedes; those are marked done (the bookmark passes them) and logged. The quiet period
    runs to `clock`, the run's start (in the event mode a bookmark's `now` is its horizon)."""
    plan = jobs.plan(wanted, quiet=datetime.timedelta(seconds=quiet_seconds),
                     now=clock, activated=bookmark.activated_job)
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
                    _jobs_text(plan.late), bookmark.activated_job)
    if plan.superseded:
        LOGGER.info("%s: not read: %s, superseded by full export job %s (its activation drops "
                    "what they hold)", stream, _jobs_text(plan.superseded), plan.newest_full)
    bookmark.read_in_job_order(wanted)
    skipped = plan.skipped
    for stored in skipped:
        bookmark.advance(stored)
    if skipped:
        checkpoints.changed(stream, file_read=False)
    return plan.files


def _jobs_text(skipped: list[jobs.Job], shown: int = 5) -> str:
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


def opened_ahead(store: Store, files: Sequence[StoredFile]
                 ) -> Iterator[tuple[StoredFile, io.BufferedReader]]:
    """Yield (file, its open stream) in order, the downloads of the next FILES_AHEAD files
    already started, so that small files on a slow link do not each wait for their first byte.
    """
    upcoming: collections.deque[io.BufferedReader] = collections.deque()
    try:
        for position, stored in enumerate(files):
            while len(upcoming) <= FILES_AHEAD and position + len(upcoming) < len(files):
                upcoming.append(store.open(files[position + len(upcoming)]))
            yield stored, upcoming.popleft()
    finally:
        for stream in upcoming:
            stream.close()
