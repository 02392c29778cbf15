"""Assumed-role credentials cached in a file between runs (no AWS call here)."""

import datetime
import hashlib
import json
import logging
import os
from typing import Any, Optional

LOGGER = logging.getLogger("tap_intacct")


class CredentialCache:
    """Assumed-role credentials kept in a 0600 JSON file until 10 minutes before they expire."""

    MARGIN = datetime.timedelta(minutes=10)

    def __init__(self, folder: Optional[str], role_arn: str, external_id: Optional[str]) -> None:
        self.path: Optional[str] = None
        if folder:
            digest = hashlib.sha256(f"{role_arn}|{external_id}".encode()).hexdigest()[:32]
            self.path = os.path.join(os.path.expanduser(folder), f"tap-intacct-{digest}.json")

    def load(self) -> Optional[dict[str, Any]]:
        if not self.path or not os.path.exists(self.path):
            return None
        try:
            with open(self.path, encoding="utf-8") as handle:
                metadata = json.load(handle)
            expiry = datetime.datetime.fromisoformat(metadata["expiry_time"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if expiry - self.MARGIN <= datetime.datetime.now(datetime.timezone.utc):
            return None
        return metadata

    def save(self, metadata: dict[str, Any]) -> None:
        if not self.path:
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(metadata, handle)
        except OSError as exc:
            LOGGER.warning("Cannot write the credentials cache %s: %s", self.path, exc.strerror)
