"""The tap's log lines on stderr: singer-python's format ("LEVEL message") and its METRIC lines.

Written here rather than through singer-python because importing singer runs its whole package
(jsonschema, requests, simplejson, ...): 20 to 60 ms of CPU on every start, depending on what
the store's SDK already shares with it (docs/ARCHITECTURE.md, "Start-up cost"). The lines are
the ones singer-python writes (docs/COMPATIBILITY.md, "logs").
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

FORMAT = "%(levelname)s %(message)s"  # singer-python's logging.conf
_ROOT = logging.getLogger()


def configure() -> None:
    """The root logger as singer-python's get_logger() sets it: INFO, one handler on stderr."""
    for handler in _ROOT.handlers[:]:
        _ROOT.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    _ROOT.addHandler(handler)
    _ROOT.setLevel(logging.INFO)


def metric(kind: str, name: str, value: float, tags: dict[str, Any]) -> None:
    """A Singer METRIC line: `kind` "counter" or "timer", `name` e.g. "record_count"."""
    if _ROOT.isEnabledFor(logging.INFO):
        _ROOT.info("METRIC: %s", json.dumps({"type": kind, "metric": name, "value": value,
                                             "tags": tags}))
