"""Column names the tap adds or derives: the _sdc_* fields and header-name clean-up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SOURCE_BUCKET = "_sdc_source_bucket"
SOURCE_FILE = "_sdc_source_file"
SOURCE_LINENO = "_sdc_source_lineno"
EXTRA = "_sdc_extra"

SDC_SCHEMAS: dict[str, dict[str, Any]] = {
    SOURCE_BUCKET: {"type": "string"},
    SOURCE_FILE: {"type": "string"},
    SOURCE_LINENO: {"type": "integer"},
    EXTRA: {"type": "array", "items": {"type": "string"}},
}

# Deletes (Singer convention): on streams whose exports carry DDS's change type, a row with
# ddsChangeType = delete gets _sdc_deleted_at = its ddsReadTime; other rows get null.
DELETED_AT = "_sdc_deleted_at"
DELETED_AT_SCHEMA: dict[str, Any] = {"type": ["null", "string"], "format": "date-time"}
CHANGE_TYPE = "ddsChangeType"
READ_TIME = "ddsReadTime"

TAP_COLUMNS = frozenset(SDC_SCHEMAS) | {DELETED_AT}  # columns the tap fills, not the file

KEY_COLUMN = "RECORDNO"


def unique_header(header: Iterable[str]) -> list[str]:
    """Header names made unique so no value overwrites another.

    A repeated name gets a suffix (`AMOUNT`, `AMOUNT__2`, ...); an empty name becomes
    `column_<position>`. Discovery and sync both use this, so the catalog matches the records.
    """
    seen: set[str] = set()
    names: list[str] = []
    for position, raw in enumerate(header, start=1):
        base = raw.strip() or f"column_{position}"
        name, copy = base, 1
        while name in seen:
            copy += 1
            name = f"{base}__{copy}"
        seen.add(name)
        names.append(name)
    return names
