"""Assumed-role credentials cached in a file between runs (no AWS call here).

Not botocore.utils.JSONFileCache: it writes the same way (a 0600 temporary file renamed over the
old one) but stores a whole AssumeRole response under a hash of the request, turns every read
failure into a KeyError its fetcher does not catch, and lets a failed write (and the temporary
file, credentials in it) through; this module warns, goes on, and leaves no file behind."""

import contextlib
import datetime
import hashlib
import json
import logging
import os
import tempfile
from typing import Any

LOGGER = logging.getLogger("tap_intacct")

KEYS = ("access_key", "secret_key", "token")


class CredentialCache:
    """Assumed-role credentials kept in a 0600 JSON file, used while more than `margin` of them
    remains (the refresh margin: credentials any closer to their expiry would be refreshed at
    once)."""

    def __init__(self, folder: str | None, role_arn: str, external_id: str | None,
                 margin: datetime.timedelta) -> None:
        self.margin = margin
        self.path: str | None = None
        if folder:
            digest = hashlib.sha256(f"{role_arn}|{external_id}".encode()).hexdigest()[:32]
            self.path = os.path.join(os.path.expanduser(folder), f"tap-intacct-{digest}.json")

    def load(self) -> dict[str, Any] | None:
        """The cached credentials ({access_key, secret_key, token, expiry_time}), or None when
        there are none fit to use. A file that cannot be used is ignored with a warning (the
        role is assumed and the file rewritten)."""
        if not self.path or not os.path.exists(self.path):
            return None
        try:
            with open(self.path, encoding="utf-8") as handle:
                metadata = json.load(handle)
        except OSError as exc:
            problem = f"it cannot be read ({exc.strerror})"
        except ValueError:  # not JSON, not UTF-8, empty
            problem = "it is not a JSON object"
        else:
            credentials, problem = _credentials(metadata)
            if credentials is not None:
                expiry = datetime.datetime.fromisoformat(credentials["expiry_time"])
                if expiry - self.margin <= datetime.datetime.now(datetime.timezone.utc):
                    return None  # expired or about to be: an ordinary refresh
                return credentials
        LOGGER.warning("Ignoring the credentials cache %s: %s; assuming the role and rewriting "
                       "it", self.path, problem)
        return None

    def save(self, metadata: dict[str, Any]) -> None:
        """Writes the file whole with mode 0600: a new file replaces the old one (whatever its
        mode), so a reader never sees half of it."""
        if not self.path:
            return
        folder = os.path.dirname(self.path)
        temporary = None
        try:
            os.makedirs(folder, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tap-intacct-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                json.dump(metadata, handle)
            os.replace(temporary, self.path)
        except OSError as exc:
            LOGGER.warning("Cannot write the credentials cache %s: %s", self.path, exc.strerror)
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)


def _credentials(metadata: Any) -> tuple[dict[str, str] | None, str]:
    """(the credentials a cache file holds, None if it holds none fit to use; why not)."""
    if not isinstance(metadata, dict):
        return None, "it is not a JSON object"
    missing = [key for key in (*KEYS, "expiry_time")
               if not isinstance(metadata.get(key), str) or not metadata[key]]
    if missing:
        return None, f"it has no {', '.join(missing)}"
    try:
        expiry = datetime.datetime.fromisoformat(metadata["expiry_time"])
    except ValueError:
        return None, "its expiry_time is not an ISO 8601 date-time"
    if expiry.tzinfo is None:
        return None, "its expiry_time has no UTC offset"
    return {key: metadata[key] for key in (*KEYS, "expiry_time")}, ""
