"""What a sync run lists, by the `listing` setting (README, "Running at scale"):

- `streams` (default): each selected stream's own prefix, `<path>/<company_id>/<OBJECT>.` (the
  dot included: `GL.` never lists `GLENTRY.csv`), up to storage/listings.LISTINGS_IN_FLIGHT
  listings at once;
- `folder`: the company folder in one listing (as discovery and `--test` always do);
- `events`: the objects named by the queue's events, each looked at with a HEAD request, and a
  full listing of each stream that never had one or whose last is `events_full_listing_hours`
  old (dds/horizons.py says why and what the state keeps).

Whatever the mode, sync gets (table, file) pairs as candidates.data_files yields them, reads them
to the end before any output, and applies the same bookmarks in the same order: switching modes
never loses or repeats a file. Like sync.py, this module drives the other parts.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tap_intacct.dds import horizons
from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.candidates import LogSkip, data_files
from tap_intacct.storage.events import CreatedObject, NotAnEvent, QueuedMessage, created_objects
from tap_intacct.storage.listings import listed_together, mapped_together

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.settings.config import Config
    from tap_intacct.settings.knobs import Knobs
    from tap_intacct.storage.store import EventQueue, Store

LOGGER = logging.getLogger("tap_intacct")


@dataclass
class Sources:
    """A sync run's candidate files, and what the event mode tells sync about its streams."""

    files: Iterable[tuple[str, StoredFile]]
    # event mode: per stream whose files came from events, the moment its bookmark holds at
    horizons: dict[str, datetime.datetime] = field(default_factory=dict)
    # event mode: the streams listed in full this run (their horizon moves once complete)
    listed_in_full: frozenset[str] = frozenset()


def stream_prefixes(company_prefix: str, streams: Sequence[str]) -> list[str]:
    """Each stream's own prefix: its files are `<OBJECT>.<anything>` directly under the
    company folder (a file's stream is its name up to the first dot)."""
    return [f"{company_prefix}{stream}." for stream in streams]


def for_sync(store: Store, config: Config, knobs: Knobs, *, state: State, streams: Sequence[str],
             now: datetime.datetime, log_skip: LogSkip) -> Sources:
    """The candidate files of a sync of `streams` (the selected ones, catalog order)."""
    prefix = config.company_prefix
    if config.listing == "folder":
        LOGGER.info("Listing %s", store.location(prefix))
        return Sources(data_files(store.list(prefix), log_skip))
    if config.listing == "streams":
        return Sources(data_files(_listed(store, prefix, streams), log_skip))
    from tap_intacct.storage.store import connect_queue
    return from_events(store, connect_queue(config, knobs, store), config, state=state,
                       streams=streams, now=now, log_skip=log_skip)


def _listed(store: Store, company_prefix: str, streams: Sequence[str]) -> Iterator[StoredFile]:
    if streams:
        LOGGER.info("Listing %s for %d stream(s): %s", store.location(company_prefix),
                    len(streams), ", ".join(f"{stream}.*" for stream in streams))
    return listed_together(store.list, stream_prefixes(company_prefix, streams))


def drained(queue: EventQueue) -> list[QueuedMessage]:
    """Every message the queue gives until it gives none that is new (a message received
    twice, once its invisibility ran out, counts once, with its latest receipt)."""
    found: dict[str, QueuedMessage] = {}
    while True:
        batch = queue.receive()
        fresh = [message for message in batch if message.message_id not in found]
        found.update((message.message_id, message) for message in batch)
        if not fresh:
            return list(found.values())


def from_events(store: Store, queue: EventQueue, config: Config, *, state: State,
                streams: Sequence[str], now: datetime.datetime, log_skip: LogSkip) -> Sources:
    """The event mode: the queue read to its end, its messages judged against the state the run
    started with (dds/horizons.py), the covered ones deleted; the candidates are the new files
    events name for the streams not listed in full this run, and the listing of the others."""
    prefix = config.company_prefix
    plan = horizons.plan(state, streams, now,
                         every=datetime.timedelta(hours=config.events_full_listing_hours),
                         start_date=config.start_date, lookback_seconds=config.lookback_seconds)
    bookmarks = {stream: Bookmark.from_state(state, stream, config.start_date,
                                             config.lookback_seconds) for stream in streams}
    messages = drained(queue)
    by_key: dict[str, list[QueuedMessage]] = defaultdict(list)
    others = unreadable = 0
    for message in messages:
        try:
            objects = created_objects(message.body)
        except NotAnEvent as exc:
            unreadable += 1
            LOGGER.warning("%s: message %s is left in the queue: %s (check what the queue is "
                           "subscribed to: README 'Event mode')", queue.location(),
                           message.message_id, exc)
            continue
        ours = [created.key for created in objects if _ours(created, store.name, prefix)]
        if ours:
            for key in dict.fromkeys(ours):
                by_key[key].append(message)
        elif objects:
            others += 1  # another bucket, container or folder: its owner's
        else:
            by_key[""].append(message)  # names no object (S3's test event, a deletion)
    nothing = by_key.pop("", [])
    keys = sorted(by_key)
    looked = dict(zip(keys, mapped_together(store.head, keys), strict=True))
    to_delete: dict[str, QueuedMessage] = {m.message_id: m for m in nothing}
    read: list[tuple[str, StoredFile]] = []
    kept: set[str] = set()
    for key in keys:
        judged = horizons.judge(key, looked[key], prefix, bookmarks, plan.from_events)
        if judged.skipped and looked[key] is not None:
            log_skip(looked[key], judged.skipped)  # type: ignore[arg-type]
        if judged.verdict is horizons.Verdict.DELETE:
            to_delete.update((m.message_id, m) for m in by_key[key])
            continue
        kept.update(m.message_id for m in by_key[key])
        if judged.verdict is horizons.Verdict.READ:
            read.append((judged.table, looked[key]))  # type: ignore[arg-type]
    # a message naming several objects is deleted only once every one of them is covered
    deletable = [m for message_id, m in to_delete.items() if message_id not in kept]
    queue.delete(deletable)
    # the others are back in the queue at once: for the next run (its state may not cover
    # them if this run's target fails to commit), or for their owner
    deleted = {message.message_id for message in deletable}
    queue.release([message for message in messages if message.message_id not in deleted])
    LOGGER.info("Events in %s: %d message(s), %d new file(s) to read for %d stream(s), %d "
                "message(s) deleted (their files are in the state, gone, or not read by this "
                "run), %d left for other folders, %d not understood", queue.location(),
                len(messages), len(read), len(plan.from_events), len(deletable), others,
                unreadable)
    if plan.listed:
        LOGGER.info("Full listing (first run in event mode, or the last one is %d hour(s) old "
                    "or more) of %d stream(s)", config.events_full_listing_hours,
                    len(plan.listed))
    listed = data_files(_listed(store, prefix, plan.listed), log_skip)
    return Sources(_chained(read, listed), plan.horizons, frozenset(plan.listed))


def _ours(created: CreatedObject, container: str, company_prefix: str) -> bool:
    return created.container == container and created.key.startswith(company_prefix)


def _chained(first: list[tuple[str, StoredFile]],
             then: Iterable[tuple[str, StoredFile]]) -> Iterator[tuple[str, StoredFile]]:
    yield from first
    yield from then
