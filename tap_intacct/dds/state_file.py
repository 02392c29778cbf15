"""What a --state file may hold (README, "Sync, state and bookmarks"): the Singer state, or one
of the wrappers users hand over instead, never taken for a state without bookmarks (which would
read every stream again from start_date).

- the state: {"bookmarks": {...}, ...};
- a whole STATE message, as the tap writes it ({"type": "STATE", "value": <the state>}): its
  value is the state, with a warning;
- `meltano state get` output ({"singer_state": <the state>}): the same;
- `currently_syncing` (other Singer taps mark the stream they were in): every stream resumes
  from its own bookmark, in catalog order, so a stream named there is cleared (null) rather than
  carried, stale, into every STATE (other top-level keys are kept as they are);
- refused (exit 2, naming the file): another Singer message (a RECORD line), a wrapper that also
  holds bookmarks of its own, stream bookmarks at the top level instead of under "bookmarks".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from tap_intacct.errors import ConfigError

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State

LOGGER = logging.getLogger("tap_intacct")
MESSAGE_TYPES = frozenset({"SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION", "BATCH"})
MELTANO_KEY = "singer_state"


def state_of(value: Any, source: str) -> State:
    """The state a --state file's JSON `value` holds; `source` names the file in messages."""
    value = _unwrapped_message(_object(value, source), source)
    if MELTANO_KEY in value:
        value = _unwrapped(value, MELTANO_KEY, source,
                           f'Meltano\'s state (`meltano state get` output: {{"{MELTANO_KEY}": '
                           "<the state>})")
    if value.get("bookmarks") is None:
        _refuse_top_level_bookmarks(value, source)
    elif not isinstance(value["bookmarks"], dict):
        # checked here, not only per selected stream: every stream's bookmark is carried along
        raise ConfigError(f"{source}: 'bookmarks' must be an object of stream bookmarks")
    if value.get("currently_syncing") is not None:
        LOGGER.info("%s: currently_syncing (%r) is cleared: every stream resumes from its own "
                    "bookmark", source, value["currently_syncing"])
        value["currently_syncing"] = None
    return cast("State", value)  # each selected stream's bookmark: Bookmark.from_state


def _object(value: Any, source: str, what: str = "must be a JSON object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {what}")
    return value


def _unwrapped_message(value: dict[str, Any], source: str) -> dict[str, Any]:
    kind = value.get("type")
    if not (isinstance(kind, str) and kind in MESSAGE_TYPES):
        return value
    if kind != "STATE":
        raise ConfigError(f"{source}: this is a Singer {kind} message, not a state; give the "
                          "value of the last STATE message the tap wrote")
    if "value" not in value:
        raise ConfigError(f"{source}: a STATE message without its 'value' (the state)")
    return _unwrapped(value, "value", source,
                      'a whole STATE message ({"type": "STATE", "value": <the state>})')


def _unwrapped(value: dict[str, Any], key: str, source: str, what: str) -> dict[str, Any]:
    if "bookmarks" in value:
        raise ConfigError(f"{source}: holds both 'bookmarks' and '{key}': it is unclear which "
                          f"is the state; keep only the state (the '{key}' object, or the "
                          "bookmarks)")
    inner = _object(value[key], source, f"'{key}' must be a JSON object (the state)")
    LOGGER.warning("%s is %s: its '%s' is taken as the state", source, what, key)
    return inner


def _refuse_top_level_bookmarks(value: dict[str, Any], source: str) -> None:
    """No "bookmarks": refuse a file whose top-level entries look like stream bookmarks (it
    would otherwise read every stream again from start_date)."""
    streams = sorted(name for name, entry in value.items()
                     if isinstance(entry, dict) and "modified_since" in entry)
    if streams:
        raise ConfigError(f"{source}: {', '.join(streams)} look like stream bookmarks but are "
                          'not under "bookmarks"; the state is {"bookmarks": {"'
                          f'{streams[0]}": {{"modified_since": ...}}, ...}}')
