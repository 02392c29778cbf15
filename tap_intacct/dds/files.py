"""DDS file naming: which listed objects are data files, and which table (stream) each is of."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

# S3 storage classes and Azure access tiers whose objects cannot be read without a restore
# (S3) or rehydration (Azure) first.
ARCHIVED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE", "Archive"})

DATA_FILE_SUFFIXES = (".csv", ".csv.gz", ".csv.zip", ".gz", ".zip")


@dataclass(frozen=True)
class StoredFile:
    """One object as the store's listing described it."""

    key: str
    size: int
    last_modified: datetime.datetime  # timezone-aware, UTC
    etag: str = ""
    storage_class: str = "STANDARD"

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def sort_key(self) -> tuple[datetime.datetime, str]:
        """Sync order: oldest first, ties broken by key."""
        return (self.last_modified, self.key)


def table_name(file_name: str) -> str:
    """The Intacct object a DDS file belongs to: its name up to the first '.'."""
    return file_name.split(".", 1)[0]


def no_data_files(location: str, storage: str) -> str:
    """What to say when the company folder holds no data file (discovery, --test)."""
    return (f"no DDS export files (*.csv, *.csv.gz, *.zip) directly under {location}; check "
            f"'{'container' if storage == 'azure' else 'bucket'}', 'path' and 'company_id', "
            "and that a DDS job has delivered files")


def looks_like_data_file(file_name: str) -> bool:
    lowered = file_name.lower()
    return lowered.endswith(DATA_FILE_SUFFIXES) and table_name(file_name) != ""


def skip_reason(stored: StoredFile) -> str | None:
    """Why a data file cannot be read (None when it can)."""
    if stored.size == 0:
        return "it is empty (0 bytes)"
    if stored.storage_class in ARCHIVED_STORAGE_CLASSES:
        if stored.storage_class == "Archive":
            return "its access tier is Archive (rehydrate it to Hot or Cool to read it)"
        return f"its storage class is {stored.storage_class} (restore it to read it)"
    return None
