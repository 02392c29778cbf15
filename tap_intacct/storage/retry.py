"""The one retry policy of every storage request (listing, reads, resumes, uploads, AssumeRole):
exponential backoff with full jitter, bounded (README "Operator environment variables":
TAP_INTACCT_MAX_TRIES, TAP_INTACCT_RETRY_BASE_SECONDS). Which failures are worth another
attempt is each store's `is_transient`; how long to wait is only decided here."""

from typing import Any, Callable, Generator

import backoff

from tap_intacct.settings.knobs import Knobs

MAX_RETRY_SECONDS = 30


def _ceilings(knobs: Knobs) -> Generator[float, Any, None]:
    """The longest wait before each retry: retry_base_seconds, doubling, capped at
    MAX_RETRY_SECONDS (the wait itself is drawn below it: full jitter)."""
    yield 0.0  # backoff primes a wait generator with one send(None), discarding this value
    ceiling = knobs.retry_base_seconds
    while True:
        yield min(ceiling, MAX_RETRY_SECONDS)
        ceiling *= 2


def retried(func: Callable, knobs: Knobs, is_transient: Callable[[BaseException], bool],
            on_backoff: Any) -> Callable:
    """func, retrying the failures for which is_transient(exc) holds, knobs.max_tries attempts
    in all."""
    return backoff.on_exception(
        lambda: _ceilings(knobs), Exception, giveup=lambda exc: not is_transient(exc),
        max_tries=knobs.max_tries, jitter=backoff.full_jitter, on_backoff=on_backoff,
        logger=None,
    )(func)


def retry_wait(knobs: Knobs, failures: int) -> float:
    """Seconds to wait before the retry that follows `failures` failures in a row (for loops
    that retry by hand, such as a resumed download)."""
    ceilings = _ceilings(knobs)
    next(ceilings)
    ceiling = 0.0
    for _ in range(failures):
        ceiling = next(ceilings)
    return backoff.full_jitter(ceiling)
