"""singer's http_request_timer METRIC line for each storage request (docs/COMPATIBILITY.md,
"logs").

singer-python's own timer calls its get_logger(), which re-reads its logging configuration file
on every request: about half a millisecond each, a third of the tap's work per header read in
discovery, and it sets the root logger back to INFO (TAP_INTACCT_LOG_LEVEL would not hold). This
one writes the same line (output/logs.py) through the root logger configured at start.
"""

import contextlib
import time
from typing import Iterator

from tap_intacct.output import logs


@contextlib.contextmanager
def http_request_timer(endpoint: str) -> Iterator[None]:
    """Log a `timer` METRIC of http_request_duration for the request run inside, with tags
    endpoint and status (succeeded/failed), as singer.metrics.http_request_timer does."""
    tags = {"endpoint": endpoint}
    started = time.time()
    try:
        yield
    except BaseException:
        tags["status"] = "failed"
        raise
    else:
        tags["status"] = "succeeded"
    finally:
        logs.metric("timer", "http_request_duration", time.time() - started, tags)
