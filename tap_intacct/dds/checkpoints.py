"""When sync writes STATE (README, "Sync, state and bookmarks").

A STATE follows every file while the state holds per stream its bookmark and at most one key
(the newest file's): a STATE then costs the same after the first file as after the millionth.
The state holds more keys when files share the bookmark's second (a DDS job's parts, a bulk
copy), with lookback_seconds (the keys inside the window) and for files modified in the future;
those grow with the files read, and a STATE after every file would make the output grow with the
square of the files read (1,000 files in one second: 32 MB). So, once the keys beyond one per
stream are more than KEYS_PER_FILE, a STATE follows a file only when the files read since the
last STATE are at least (those keys / KEYS_PER_FILE): on average a file then pays for at most
KEYS_PER_FILE keys of STATE, and a stop repeats at most the files read since the last STATE
(each STATE still records exactly the files read before it). A stream's end and a stream that
stops always write one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import Bookmark, State

KEYS_PER_FILE = 32


class StateWriter(Protocol):
    def state(self, value: State) -> None:
        """Write one STATE message carrying `value`."""


class Checkpoints:
    """The run's state (updated in place) and the bookmarks of its selected streams."""

    def __init__(self, writer: StateWriter, state: State,
                 bookmarks: Mapping[str, Bookmark]) -> None:
        self._writer = writer
        self._state = state
        self._bookmarks = bookmarks
        self._changed: set[str] = set()
        self._files = 0  # files read since the last STATE
        # other streams' bookmarks are carried as they are (never checked): count what is there
        others = [value.get("synced_keys") for stream, value in state["bookmarks"].items()
                  if stream not in bookmarks and isinstance(value, dict)]
        self._other_keys = sum(_beyond_one(len(keys)) for keys in others
                               if isinstance(keys, dict))

    @property
    def state(self) -> State:
        """The run's state, as the next STATE carries it (dds/horizons.py adds to it)."""
        return self._state

    def changed(self, stream: str, file_read: bool = True) -> None:
        """The stream's bookmark changed (after a file read, or before any was): a STATE now
        if one is due."""
        if self.note_change(stream, file_read):
            self.write()

    def note_change(self, stream: str, file_read: bool = True) -> bool:
        """Records that the stream's bookmark changed (once per change: it counts the files
        read since the last STATE); True if a STATE is due now (the caller writes it)."""
        self._changed.add(stream)
        self._files += file_read
        held = self._other_keys + sum(_beyond_one(b.key_count) for b in self._bookmarks.values())
        return held <= KEYS_PER_FILE or self._files * KEYS_PER_FILE >= held

    def write(self) -> None:
        """A STATE now, if a bookmark changed since the last one."""
        if not self._changed:
            return
        bookmarks = self._state.setdefault("bookmarks", {})
        for stream in sorted(self._changed):
            value = self._bookmarks[stream].to_state()
            if value is not None:  # nothing read (dds/horizons.py moved listed_at alone)
                bookmarks[stream] = value
        self._changed.clear()
        self._files = 0
        self._writer.state(self._state)


def _beyond_one(keys: int) -> int:
    """The keys of one stream's bookmark that a STATE after every file could not afford."""
    return max(keys - 1, 0)
