"""Files cut short (an upload that stopped): every cut of the last line, plain, gzip and zip, by
both engines. Each read must end (a hang here once spun at 100% CPU forever), with every record
before the cut line emitted and, when the cut leaves bytes that are not a whole record or not
UTF-8, an error naming the file."""

import gzip
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.localsync import catalog_for, sync_bytes
from devtools.s3server import zipped
from tap_intacct.settings import knobs
from tests.support import examples

ENGINES = ["rows", "fast"] if knobs.fast_engine_installed() else ["rows"]
HANG_GUARD_SECONDS = 60  # not a speed check: a read that never ends fails instead of hanging
KEY = "GLENTRY.change.1.csv"
CATALOG = catalog_for(b"RECORDNO,NOTE\n1,a\n", key=KEY)


def sync_guarded(data, engine):
    """sync_bytes in a thread that must finish: (output, error)."""
    result = []
    worker = threading.Thread(target=lambda: result.append(
        sync_bytes(data, CATALOG, engine, key=KEY)), daemon=True)
    worker.start()
    worker.join(HANG_GUARD_SECONDS)
    assert not worker.is_alive(), f"the {engine} read did not end"
    output, error = result[0]
    return output.getvalue(), error


def lines_of(output):
    return [line for line in output.splitlines() if '"type":"RECORD"' in line]


def compress(data, kind):
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "zip":
        return zipped(data)
    return data


LAST_LINES = st.text(alphabet=st.sampled_from(["a", "7", ",", "é", "€", "\U0001f600", '"']),
                     min_size=1, max_size=8)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body_rows=st.integers(0, 3), last=LAST_LINES,
       kind=st.sampled_from(["plain", "gzip", "zip"]))
def test_every_cut_of_the_last_line_ends_with_the_records_before_it(body_rows, last, kind):
    head = b"RECORDNO,NOTE\n" + b"".join(b"%d,ok\n" % n for n in range(1, body_rows + 1))
    tail = ("9," + last).encode("utf-8")
    whole = sync_guarded(head, "rows")[0]
    for cut in range(1, len(tail) + 1):
        piece = tail[:cut]
        data = compress(head + piece, kind)
        for engine in ENGINES:
            output, error = sync_guarded(data, engine)
            assert lines_of(output)[:body_rows] == lines_of(whole)
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:
                assert error == (f"{KEY}: line {body_rows + 2} is not valid UTF-8 (byte "
                                 f"{piece[len(piece.decode('utf-8', 'ignore').encode()):][0]:#04x})"
                                 "; DDS exports must be UTF-8")
                assert len(lines_of(output)) == body_rows
                continue
            # a whole last record, or (a quote left open by the cut) an error naming the file
            if error is None:
                assert len(lines_of(output)) == body_rows + 1
            else:
                assert error.startswith(KEY + ": ") and len(lines_of(output)) == body_rows


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["plain", "gzip", "zip"])
def test_the_reported_cut(engine, kind):
    """The file of the report: RECORDNO,N / 1,a / 2,<first two bytes of a 3-byte character>."""
    output, error = sync_guarded(compress(b"RECORDNO,N\n1,a\n2,\xe2\x82", kind), engine)
    assert len(lines_of(output)) == 1
    assert error == f"{KEY}: line 3 is not valid UTF-8 (byte 0xe2); DDS exports must be UTF-8"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cut_compressed_stream_ends_with_an_error(engine):
    data = gzip.compress(b"RECORDNO,N\n" + b"".join(b"%d,\xe2\x82\xac\n" % n for n in range(50)))
    for cut in range(len(data) - 30, len(data)):
        output, error = sync_guarded(data[:cut], engine)
        assert error is not None and error.startswith(KEY)
