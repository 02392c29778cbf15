"""Closing a file being read ahead stops its thread at once: no retry sleep, no blocked read, no
GET after close. In-process (the tap's store on real boto3 or the Azure SDK), the fault proxy in
front of moto or Azurite."""

import json
import logging
import threading
import time

import pytest

from devtools import ddsdata
from devtools.faultproxy import FaultProxy
from tap_intacct.settings.config import validate
from tap_intacct.settings.knobs import Knobs
from tap_intacct.storage.store import connect

pytestmark = pytest.mark.stores("s3", "azure")

# every retry waits up to 30 s (the cap), and the read never gives up by itself
PATIENT = Knobs(max_tries=100, retry_base_seconds=1000)


@pytest.fixture
def proxy(company):
    with FaultProxy(company.server.port) as running:
        yield running


def opened(company, proxy):
    company.put("GLENTRY.csv", ddsdata.glentry_csv(3000))
    config = validate(json.loads(open(company.config(endpoint_url=proxy.url)).read()))
    bucket = connect(config, PATIENT)
    [stored] = bucket.list(config.company_prefix)
    return bucket.open(stored)


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def gets(proxy):
    return [line for line, _, _ in proxy.log if "GLENTRY.csv" in line]


def read_ahead_threads():
    return [t for t in threading.enumerate() if t.name == "read-ahead" and t.is_alive()]


# Not a speed check: without the fix, close() waits out the 30 s retry cap or the 30 s stall.
HANG_GUARD_SECONDS = 15


def assert_closes_at_once(binary, proxy):
    closing = threading.Thread(target=binary.close)
    closing.start()
    closing.join(HANG_GUARD_SECONDS)
    assert not closing.is_alive(), "close() waited for the retry or the stalled read"
    assert read_ahead_threads() == []
    seen = len(gets(proxy))
    time.sleep(1.5)
    assert len(gets(proxy)) == seen  # no request after close


class Messages(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def tap_log():
    handler = Messages()
    logging.getLogger("tap_intacct").addHandler(handler)
    yield handler.lines
    logging.getLogger("tap_intacct").removeHandler(handler)


def test_close_during_a_retry_wait(company, proxy, tap_log):
    proxy.add(r"^GET /[^ ]*GLENTRY.csv", "status", status=503, times=float("inf"))
    binary = opened(company, proxy)
    wait_until(lambda: any("retry 1 in" in line for line in tap_log))  # sleeping up to 30 s
    assert_closes_at_once(binary, proxy)
    assert len(gets(proxy)) == 1


def test_close_during_a_read_blocked_on_the_network(company, proxy):
    proxy.add(r"^GET /[^ ]*GLENTRY.csv", "stall", cut_after=1000, seconds=30)
    binary = opened(company, proxy)
    wait_until(lambda: gets(proxy))
    time.sleep(0.3)  # the first 1000 bytes are in; the next read waits for bytes that never come
    assert_closes_at_once(binary, proxy)
