"""singer's http_request_timer METRIC line for each storage request (docs/COMPATIBILITY.md,
"logs").

singer-python's own timer calls its get_logger(), which re-reads its logging configuration file
on every request: about half a millisecond each, a third of the tap's work per header read in
discovery, and it sets the root logger back to INFO (TAP_INTACCT_LOG_LEVEL would not hold). This
one writes the same line through the root logger singer configured at start.
"""

import contextlib
import logging
import time
from typing import Iterator

from singer import metrics

_ROOT = logging.getLogger()


@contextlib.contextmanager
def http_request_timer(endpoint: str) -> Iterator[None]:
    """Log a `timer` METRIC of http_request_duration for the request run inside, with tags
    endpoint and status (succeeded/failed), as singer.metrics.http_request_timer does."""
    tags = {metrics.Tag.endpoint: endpoint}
    started = time.time()
    try:
        yield
    except BaseException:
        tags[metrics.Tag.status] = metrics.Status.failed
        raise
    else:
        tags[metrics.Tag.status] = metrics.Status.succeeded
    finally:
        if _ROOT.isEnabledFor(logging.INFO):
            metrics.log(_ROOT, metrics.Point("timer", metrics.Metric.http_request_duration,
                                             time.time() - started, tags))
