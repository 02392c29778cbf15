"""Column names the tap adds or derives: the _sdc_* fields and header-name clean-up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tap_intacct.errors import DataError

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


def unique_header(header: Iterable[str], source: str) -> list[str]:
    """The column names of a file with this header (`source`: the file, as messages name it).

    Each name keeps its text (spaces around it removed); a repeated name gets a suffix
    (`AMOUNT`, `AMOUNT__2`, ...) and an empty one becomes `column_<position>`, each made unique
    against every name the header has, so no real column is renamed and no value overwrites
    another. A name the tap adds itself (TAP_COLUMNS, in any case) cannot be the file's: DataError
    naming the file. Discovery and sync (both engines) both use this, so the catalog matches
    the records.
    """
    stripped = [raw.strip() for raw in header]
    for position, name in enumerate(stripped, start=1):
        if name.lower() in TAP_COLUMNS:
            raise DataError(f"{source}: header cell {position} is {name!r}, the name of a "
                            f"column the tap adds ({', '.join(sorted(TAP_COLUMNS))}); the file's "
                            "own values there would be lost, so the file is not read: rename "
                            "that field in its DDS export")
    taken = set(stripped)  # every name the header has, and each name given so far
    given: set[str] = set()
    names: list[str] = []
    for position, name in enumerate(stripped, start=1):
        if name and name not in given:
            unique = name
        else:
            base, copy = (name, 2) if name else (f"column_{position}", 1)
            unique = f"{base}__{copy}" if name else base
            while unique in taken:
                copy += 1
                unique = f"{base}__{copy}"
            taken.add(unique)
        given.add(unique)
        names.append(unique)
    return names
