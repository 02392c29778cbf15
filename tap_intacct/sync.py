"""Sync: for each selected stream, read every file past its bookmark and emit records and state."""

from __future__ import annotations

import collections
import datetime
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tap_intacct.dds.cursor import Cursors, Rules
from tap_intacct.engines.engine import engine_for, sync_file
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import DataError, FileGone
from tap_intacct.settings.knobs import Knobs

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.dds.cursor import StreamCursor
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.engines.engine import Engine
    from tap_intacct.listing import Sources
    from tap_intacct.output.messages import SingerWriter, Sinks
    from tap_intacct.settings.config import Config
    from tap_intacct.storage.store import Store

LOGGER = logging.getLogger("tap_intacct")
FILES_AHEAD = 3  # memory: up to (1 + FILES_AHEAD) x readahead.DEPTH x readahead.FETCH_BYTES


@dataclass(frozen=True)
class Run:
    """What a sync run goes by and writes to, besides the store and the listing. `state` is
    updated in place and emitted; `now`: the run's start (by default this machine's clock when
    the Run is made, before the listing): a file modified later is in the future and moves no
    bookmark past it (Bookmark.advance)."""

    state: State
    config: Config
    writer: SingerWriter
    sinks: Sinks
    knobs: Knobs = field(default_factory=Knobs)
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))


def sync(store: Store, sources: Sources, selected: Sequence[SelectedStream], run: Run) -> None:
    """Sync the selected streams in catalog order, each through its cursor (dds/cursor.py).

    `sources.files`: (table, file) of every readable data file, as candidates.data_files yields
    them; only the files the bookmarks want are kept. The listing is read to its end before
    anything is emitted (no SCHEMA, RECORD, STATE or ACTIVATE_VERSION): a listing that fails on
    a later page (storage/pages.py) then fails the run with nothing bookmarked, never after a
    bookmark moved past files that page held. A file that cannot be read stops its own stream
    at that file (its bookmark stays before it); the other streams still sync, and the run then
    fails naming every such file.

    The event mode (dds/horizons.py): `sources.horizons` maps the streams whose files came from
    the queue's events to their horizon, the moment their bookmark holds at (their Bookmark's
    `now`); `sources.listed_in_full` names the streams listed in full, whose horizon becomes
    `run.now` in the state once every file that listing wanted is read.
    """
    rules = Rules.of(run.config, run.now, sources.horizons, sources.listed_in_full)
    cursors = Cursors(run.state, [stream.name for stream in selected], sources.files, rules,
                      run.writer)
    engine = engine_for(run.knobs.engine, cursors.bytes_wanted())
    failures: list[str] = []
    try:
        for stream in selected:
            cursor = cursors.of(stream.name)
            try:
                _sync_stream(store, stream, cursor, run, engine)
                cursor.end()
            except DataError as exc:
                LOGGER.warning("%s: stopped at a file that cannot be read (the other streams go "
                               "on): %s", stream.name, exc)
                failures += exc.problems
            finally:
                cursor.write_state()  # the bookmark after the last file read, if not written yet
    finally:
        engine.shutdown()
    if failures:
        raise DataError(*failures)


def _sync_stream(store: Store, stream: SelectedStream, cursor: StreamCursor, run: Run,
                 engine: Engine) -> None:
    """Every file the cursor gives of one stream into the sinks, and after each what the cursor
    says to emit."""
    run.writer.schema(stream.name, stream.schema, stream.key_properties)
    pending = cursor.files_to_sync()
    if pending is None:
        LOGGER.warning("%s: no files for this stream under %s any more; nothing to "
                       "sync, state unchanged", stream.name,
                       store.location(run.config.company_prefix))
        return
    records = StreamRecords(stream)
    total = 0
    for stored, binary in opened_ahead(store, pending):
        try:
            total += sync_file(store, stored, binary, records, run.sinks,
                               progress_seconds=run.knobs.progress_seconds, engine=engine,
                               dialect=run.config.dialect, version=cursor.version_for(stored))
        except FileGone as gone:
            step = cursor.gone(stored, gone)
        else:
            step = cursor.done(stored)
        if step.activate is not None:
            run.writer.activate_version(stream.name, step.activate)
        if cursor.state_due(step):
            cursor.write_state()
    LOGGER.info("%s: %d record(s) from %d file(s)", stream.name, total, len(pending))


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
