"""Operator knobs: TAP_INTACCT_* environment variables, read and checked once at start.

A bad value is a configuration error (one line naming the variable, exit 2), like a bad setting.
"""

import importlib.util
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from tap_intacct.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Knobs:
    log_level: int = logging.INFO
    progress_seconds: float = 10.0
    max_tries: int = 8
    retry_base_seconds: float = 0.5
    role_session_seconds: int = 3600
    engine: str = "auto"


def _log_level(text: str) -> int:
    if text.upper() not in LOG_LEVELS:
        raise ValueError(f"one of {', '.join(LOG_LEVELS)}")
    return getattr(logging, text.upper())


ENGINES = ("auto", "rows", "fast")


def fast_engine_installed() -> bool:
    """True if the fast engine's dependencies (the `fast` extra) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("pyarrow", "numpy"))


def _engine(text: str) -> str:
    engine = text.lower()
    if engine not in ENGINES:
        raise ValueError(f"one of {', '.join(ENGINES)}")
    if engine == "fast" and not fast_engine_installed():
        raise ValueError("auto or rows: the fast engine is not installed (pip install "
                         "'tap-intacct[fast]')")
    return engine


Number = TypeVar("Number", int, float)


def _bounded(convert: Callable[[str], Number], accepts: Callable[[Number], bool],
             expected: str) -> Callable[[str], Number]:
    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise ValueError(expected) from None
        if not accepts(value):
            raise ValueError(expected)
        return value
    return parse


def _number(low: float, low_included: bool = True) -> Callable[[str], float]:
    return _bounded(float, lambda value: math.isfinite(value) and (
        value >= low if low_included else value > low),
        f"a number {'>=' if low_included else '>'} {low}")


def _whole(low: int, high: int) -> Callable[[str], int]:
    return _bounded(int, lambda value: low <= value <= high,
                    f"a whole number from {low} to {high}")


@dataclass(frozen=True)
class Variable:
    """One TAP_INTACCT_* variable: the Knobs field it sets, its parser, its default as the README
    shows it and its meaning (`make settings-docs` writes the README's table from these)."""

    name: str
    field: str
    parse: Callable[[str], Any]
    default: str
    description: str


VARIABLES = (
    Variable("TAP_INTACCT_LOG_LEVEL", "log_level", _log_level, "INFO",
             "`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`; AWS and Azure library logs stay "
             "at WARNING (their debug output holds request headers)"),
    Variable("TAP_INTACCT_MAX_TRIES", "max_tries", _whole(1, 100), "8",
             "attempts (1 to 100) for a throttled/failed S3, STS or Azure request, or for "
             "resuming a cut download without progress"),
    Variable("TAP_INTACCT_RETRY_BASE_SECONDS", "retry_base_seconds", _number(0), "0.5",
             "first retry delay (a number >= 0); doubles each time (full jitter), capped at 30 s"),
    Variable("TAP_INTACCT_PROGRESS_SECONDS", "progress_seconds", _number(0, low_included=False),
             "10", "seconds (a number > 0) between progress lines (records, MB, records/s) while "
             "a long file is read"),
    # STS's limits for an assumed role's session (the role's maximum may be lower)
    Variable("TAP_INTACCT_ROLE_SESSION_SECONDS", "role_session_seconds", _whole(900, 43200),
             "3600", "assumed-role session length, 900 to 43200 (the role's maximum session "
             "duration must allow it); credentials are refreshed 15 minutes before a session "
             "ends (a quarter of a session shorter than an hour before), so each role is "
             "assumed once per session"),
    Variable("TAP_INTACCT_ENGINE", "engine", _engine, "auto",
             "`auto` (the fast engine when `tap-intacct[fast]` is installed), `rows` (the row "
             "path only) or `fast` (an error if the extra is not installed); output is the same "
             "either way (see Performance)"),
)


def markdown_table() -> str:
    """The README's table of the variables."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{v.name}` | `{v.default}` | {v.description} |" for v in VARIABLES]
    return "\n".join(lines)


def from_environment(environ: Mapping[str, str]) -> Knobs:
    """The Knobs set in environ (unset or empty: the default), or ConfigError naming every bad
    variable."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for variable in VARIABLES:
        text = environ.get(variable.name, "").strip()
        if not text:
            continue
        try:
            values[variable.field] = variable.parse(text)
        except ValueError as exc:
            problems.append(f"environment variable {variable.name} must be {exc}, got "
                            f"{text!r}")
    if problems:
        raise ConfigError(*problems)
    return Knobs(**values)
