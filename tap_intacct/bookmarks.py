"""Per-stream bookmarks: which files a sync reads, and the state it writes after each file.

State format (compatible with singer-io's tap-intacct, which wrote only modified_since):
    {"bookmarks": {"GLENTRY": {"modified_since": "2024-01-02T03:04:05+00:00",
                               "synced_keys": {"<key>": "<its LastModified>", ...}}}}
synced_keys lists the files already read whose LastModified is within lookback_seconds of
modified_since (with the default 0: exactly at it), so two files in the same second are never
skipped and a late file inside the window is still read.
"""

import datetime

from tap_intacct.config import parse_datetime
from tap_intacct.errors import ConfigError


class Bookmark:
    def __init__(self, modified_since=None, synced_keys=None, lookback_seconds=0):
        self.modified_since = modified_since
        self.synced_keys = dict(synced_keys or {})
        self.lookback = datetime.timedelta(seconds=lookback_seconds)

    @classmethod
    def from_state(cls, state, stream, lookback_seconds=0, source="state"):
        bookmarks = state.get("bookmarks") or {}
        if not isinstance(bookmarks, dict):
            raise ConfigError(f"{source}: 'bookmarks' must be an object of stream bookmarks")
        value = bookmarks.get(stream) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: bookmarks.{stream} must be an object")
        modified_since = value.get("modified_since")
        if modified_since is not None:
            try:
                modified_since = parse_datetime(modified_since)
            except ValueError:
                raise ConfigError(f"{source}: bookmarks.{stream}.modified_since is not an ISO "
                                  f"8601 date-time: {modified_since!r}") from None
        synced = value.get("synced_keys") or {}
        if not isinstance(synced, dict):
            raise ConfigError(f"{source}: bookmarks.{stream}.synced_keys must be an object")
        try:
            synced = {key: parse_datetime(moment) for key, moment in synced.items()}
        except ValueError:
            raise ConfigError(f"{source}: bookmarks.{stream}.synced_keys holds a value that is "
                              "not an ISO 8601 date-time") from None
        return cls(modified_since, synced, lookback_seconds)

    def wants(self, stored, start_date):
        """True if the file has not been read yet and is in the replication range."""
        if self.modified_since is None:
            return stored.last_modified > start_date
        if stored.last_modified > self.modified_since:
            return True
        if not self.synced_keys:
            return False  # state from singer-io's tap-intacct: everything up to it was read
        if stored.last_modified < self.modified_since - self.lookback:
            return False
        return self.synced_keys.get(stored.key) != stored.last_modified

    def advance(self, stored):
        """Record that the file has been read completely."""
        if self.modified_since is None or stored.last_modified > self.modified_since:
            self.modified_since = stored.last_modified
        self.synced_keys[stored.key] = stored.last_modified
        oldest_kept = self.modified_since - self.lookback
        self.synced_keys = {key: moment for key, moment in self.synced_keys.items()
                            if moment >= oldest_kept}

    def to_state(self):
        value = {"modified_since": self.modified_since.isoformat()}
        if self.synced_keys:
            value["synced_keys"] = {key: moment.isoformat()
                                    for key, moment in sorted(self.synced_keys.items())}
        return value
