"""ISO 8601 date-times as the config (start_date) and the state (bookmarks, listed_at) give them,
read into aware UTC datetimes; pure. Each caller words its own messages (`checked_datetime`)."""

import datetime
from typing import Any

EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
LATEST = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


class Invalid(ValueError):
    """A value (a setting's, a date-time in the state) is unusable: `problems` are the lines to
    report."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems = list(problems)


class OutOfRange(ValueError):
    """A date-time later than the last moment Python can hold in UTC (year 9999)."""


def parse_datetime(text: Any) -> datetime.datetime:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC. Raises ValueError
    (OutOfRange past 9999-12-31T23:59:59.999999Z).

    A moment before 0001-01-01T00:00:00Z (such as 0001-01-01T00:00:00+05:00) reads as that
    instant: no object in a store is older, so nothing changes for any file (README
    "Configuration").
    """
    if not isinstance(text, str):
        raise ValueError(f"not a string: {text!r}")  # noqa: TRY004 (callers catch ValueError)
    parsed = datetime.datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    try:
        return parsed.astimezone(datetime.timezone.utc)
    except OverflowError:
        if parsed.year == datetime.MINYEAR:
            return EARLIEST
        raise OutOfRange(f"{text.strip()!r} is after 9999-12-31T23:59:59.999999Z, the latest "
                         "date-time the tap can hold") from None


def checked_datetime(text: Any, label: str, *, out_of_range: str,
                     invalid: str) -> datetime.datetime:
    """parse_datetime, or Invalid: `label + out_of_range` and the reason for a moment past year
    9999, `label + invalid` for text that is no ISO 8601 date-time (the config and the state
    word them their own way)."""
    try:
        return parse_datetime(text)
    except OutOfRange as exc:
        raise Invalid(f"{label}{out_of_range}{exc}") from None
    except ValueError:
        raise Invalid(f"{label}{invalid}") from None
