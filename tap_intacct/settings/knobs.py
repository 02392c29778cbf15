"""Operator knobs: TAP_INTACCT_* environment variables, read and checked once at start.

A bad value is a configuration error (one line naming the variable, exit 2), like a bad setting.
"""

import dataclasses
import importlib.util
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tap_intacct.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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


_VARIABLE = "tap_intacct.variable"


def knob(default: str, parse: Callable[[str], Any], description: str) -> Any:
    """A field of Knobs that is the variable TAP_INTACCT_<FIELD NAME>: declared there once, with
    its type; its default is `default` (the text the README shows) parsed."""
    return field(default=parse(default),
                 metadata={_VARIABLE: Variable("", "", parse, default, description)})


@dataclass(frozen=True)
class Knobs:
    log_level: int = knob(
        "INFO", _log_level,
        "`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`; AWS and Azure library logs stay at "
        "WARNING (their debug output holds request headers)")
    max_tries: int = knob(
        "8", _whole(1, 100),
        "attempts (1 to 100) for a throttled/failed S3, STS or Azure request, or for resuming a "
        "cut download without progress")
    retry_base_seconds: float = knob(
        "0.5", _number(0),
        "first retry delay (a number >= 0); doubles each time (full jitter), capped at 30 s")
    progress_seconds: float = knob(
        "10", _number(0, low_included=False),
        "seconds (a number > 0) between progress lines (records, MB, records/s) while a long "
        "file is read")
    # STS's limits for an assumed role's session (the role's maximum may be lower)
    role_session_seconds: int = knob(
        "3600", _whole(900, 43200),
        "assumed-role session length, 900 to 43200 (the role's maximum session duration must "
        "allow it); credentials are refreshed 15 minutes before a session ends (a quarter of a "
        "session shorter than an hour before), so each role is assumed once per session")
    engine: str = knob(
        "auto", _engine,
        "`auto` (the fast engine when `tap-intacct[fast]` is installed and the run has at "
        "least 4 MiB of files to read, else the row path), `rows` (the row path only) or "
        "`fast` (an error if the extra is not installed); output is the same either way (see "
        "Performance)")


VARIABLES = tuple(
    dataclasses.replace(item.metadata[_VARIABLE], name=f"TAP_INTACCT_{item.name.upper()}",
                        field=item.name)
    for item in dataclasses.fields(Knobs))


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
