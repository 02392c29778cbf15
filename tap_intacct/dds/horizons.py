"""The event mode's rules (README, "Event mode"): which streams a run lists in full, how far each
stream's bookmark may move, and what becomes of each queue message.

Events are hints: a queue can lose one, deliver one late, twice, or out of order. So a stream's
files are only taken as known up to its *horizon*: the start of the last run that listed the
stream in full and read every file that listing wanted. The state keeps it, per stream:

    {"bookmarks": {...}, "listed_at": {"GLENTRY": "2024-05-01T10:00:00.123456+00:00", ...}}

A run in event mode builds each stream's Bookmark with the horizon as its `now`: files named by
events and modified after the horizon are read and recorded by key (synced_keys), but the
bookmark itself does not move past the horizon (dds/bookmarks.py, "in the future"). A file whose
event never came is therefore still wanted when the next full listing (the first run, then every
`events_full_listing_hours`) finds it, and files read from events are not read again. The state
holds the keys of the files read since the last full listing, and no more.

A message is deleted once the state the run started with covers its file (the bookmark does not
want it: read, or before start_date), when its object is gone, or when its object is not a data
file of a selected stream of this company; messages about other buckets, containers or folders
are left in the queue. So a target that fails to commit a run loses nothing: the messages of the
files it read are still there for the next run.

Pure: no cloud SDK, no request.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.files import StoredFile, looks_like_data_file, skip_reason, table_name
from tap_intacct.errors import ConfigError
from tap_intacct.values.datetimes import Invalid, checked_datetime

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.candidates import StreamFiles

LISTED_AT = "listed_at"


def listed_at(state: Mapping[str, Any], source: str = "state") -> dict[str, datetime.datetime]:
    """{stream: the start of its last complete full listing} from the state (ConfigError for a
    value that is not one)."""
    value = state.get(LISTED_AT)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: '{LISTED_AT}' must be an object of stream: date-time "
                          "(the event mode's last full listings)")
    found = {}
    for stream, text in value.items():
        try:
            found[stream] = checked_datetime(
                text, f"{source}: {LISTED_AT}.{stream}", out_of_range=" is out of range: ",
                invalid=f" is not an ISO 8601 date-time: {text!r}")
        except Invalid as exc:
            raise ConfigError(*exc.problems) from None
    return found


@dataclass
class Plan:
    """What one run in event mode does for each selected stream."""

    listed: list[str] = field(default_factory=list)  # listed in full (their prefix) this run
    from_events: list[str] = field(default_factory=list)  # their files named by events
    horizons: dict[str, datetime.datetime] = field(default_factory=dict)  # of from_events


def plan(state: Mapping[str, Any], streams: Sequence[str], now: datetime.datetime, *,
         every: datetime.timedelta, start_date: datetime.datetime,
         lookback_seconds: int = 0) -> Plan:
    """Which streams to list in full (never listed, or last listed `every` or more ago, or the
    time kept is later than `now`) and, for the others, their horizon: the time kept, or the
    bookmark's modified_since if later (a listing run moved it there: nothing up to it is
    unknown)."""
    times = listed_at(state)
    result = Plan()
    for stream in streams:
        moment = times.get(stream)
        if moment is None or moment > now or now - moment >= every:
            result.listed.append(stream)
            continue
        bookmark = Bookmark.from_state(state, stream, start_date, lookback_seconds)
        since = bookmark.modified_since
        result.from_events.append(stream)
        result.horizons[stream] = min(max(moment, since) if since else moment, now)
    return result


def complete(state: State, stream: str, files: StreamFiles | None, bookmark: Bookmark,
             now: datetime.datetime) -> bool:
    """After a stream listed in full was synced: if its bookmark wants none of the files the
    listing found any more (none failed, none waits for its full export job), its horizon
    becomes `now` (the run's start, before the listing). True if the state changed."""
    if files is not None and any(bookmark.wants(stored) for stored in files.wanted):
        return False
    times = cast("dict[str, Any]", state).setdefault(LISTED_AT, {})
    times[stream] = now.isoformat()
    return True


class Verdict(enum.Enum):
    READ = "read"      # a new file of a stream read from events: keep its messages
    KEEP = "keep"      # a new file of a stream listed in full this run: keep its messages
    DELETE = "delete"  # covered by the state, gone, or nothing this run will ever read


@dataclass(frozen=True)
class Judged:
    verdict: Verdict
    table: str = ""
    skipped: str | None = None  # why a data file of a selected stream cannot be read


def judge(key: str, stored: StoredFile | None, company_prefix: str,
          bookmarks: Mapping[str, Bookmark], from_events: Sequence[str]) -> Judged:
    """What to do with the messages about `key` (an object of the company folder), given the
    object as it is now (`stored`; None: gone) and the bookmarks of the state the run started
    with (selected streams only)."""
    name = key[len(company_prefix):]
    if stored is None or "/" in name or not looks_like_data_file(name):
        return Judged(Verdict.DELETE)  # gone, in a sub-folder, or not an export file
    table = table_name(name)
    bookmark = bookmarks.get(table)
    if bookmark is None:
        return Judged(Verdict.DELETE, table)  # a stream this run does not select
    reason = skip_reason(stored)
    if reason:
        return Judged(Verdict.DELETE, table, reason)
    if not bookmark.wants(stored):
        return Judged(Verdict.DELETE, table)  # the state covers it
    return Judged(Verdict.READ if table in from_events else Verdict.KEEP, table)
