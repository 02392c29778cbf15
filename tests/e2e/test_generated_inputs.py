"""Generated bad and odd inputs (configs, catalogs, states, file bytes) through the installed
command: never a traceback; exit 0, 1 or 2 with one `tap-intacct: error:` line per problem;
stdout only Singer messages; a failing file never has a record past its first bad line, and the
bookmark never passes it.

Each example runs the tap once (about a second): TAP_INTACCT_FUZZ_EXAMPLES (default 6) sets the
budget per family, scaled like every property test's by `make fuzz` (tests/support.py: 120 at
FUZZ_SCALE 20).
"""

import copy
import gzip
import io
import itertools
import json
import os
import re
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_intacct.settings.config import SETTINGS
from tests.e2e.conftest import Company
from tests.support import examples

EXAMPLES = examples(int(os.environ.get("TAP_INTACCT_FUZZ_EXAMPLES", "6")))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
GOOD_CSV = "RECORDNO,ACCOUNTNO,AMOUNT,WHEN\n1,0100,1.50,2024-01-02\n2,200,2.00,2024-01-03\n"
_cases = itertools.count()

odd_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from(["", " ", "s3://bucket/x", "https://example.com/x", "not a url", "é/ü",
                     "2024-01-01", "true", "10", "-1", "1e3", "http://", "ftp://x"]),
)
odd_values = st.recursive(odd_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def new_company(s3, tmp_path):
    folder = tmp_path / f"case-{next(_cases)}"
    folder.mkdir()
    return Company(s3, folder)


def assert_well_behaved(run, exits=(0, 1, 2)):
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in exits, (run.returncode, run.stderr)
    errors = [line for line in run.stderr.splitlines() if line.startswith("tap-intacct: error:")]
    if run.returncode:
        assert errors, run.stderr
    for line in run.stdout.splitlines():
        message = json.loads(line)
        assert message["type"] in ("SCHEMA", "RECORD", "STATE"), line


@FUZZ
@given(changes=st.dictionaries(
    st.one_of(st.sampled_from([s.name for s in SETTINGS]), st.text(max_size=8)),
    odd_values, max_size=4))
def test_generated_configs(s3, tmp_path, changes):
    company = new_company(s3, tmp_path)
    company.put("GLENTRY.1.csv", GOOD_CSV)
    settings_ = {"start_date": "2024-01-01T00:00:00Z", "bucket": company.bucket,
                 "path": company.path, "company_id": company.company_id,
                 "endpoint_url": s3.url, "sts_endpoint_url": s3.url}
    settings_.update(changes)
    run = company.tap("--discover", config=company.write("config.json", settings_))
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 1, 2), run.stderr
    if run.returncode == 0:
        assert json.loads(run.stdout)["streams"]
    else:
        assert run.stdout == ""
        assert "tap-intacct: error:" in run.stderr


def mutate(draw, value, depth=0):
    """The value with one part replaced by something odd (or left alone)."""
    if depth < 5 and isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return {k: v for k, v in value.items() if k != key}  # missing
        if choice == 1:
            return dict(value, **{key: draw(odd_values)})  # odd
        return dict(value, **{key: mutate(draw, value[key], depth + 1)})
    if depth < 5 and isinstance(value, list) and value and draw(st.booleans()):
        position = draw(st.integers(0, len(value) - 1))
        copy = list(value)
        copy[position] = mutate(draw, value[position], depth + 1)
        return copy
    return draw(odd_values) if draw(st.integers(0, 4)) == 0 else value


_good_catalogs = []


def good_catalog(company):
    """The catalog (all selected) of a company holding GOOD_CSV as GLENTRY.1.csv: discovered by
    the first example in this process, then reused, since the same files discover the same
    catalog and what the examples vary is what they sync."""
    if not _good_catalogs:
        _good_catalogs.append(json.loads(open(company.selected_catalog()).read()))
    return copy.deepcopy(_good_catalogs[0])


@st.composite
def mutated(draw, base):
    value = base
    for _ in range(draw(st.integers(1, 3))):
        value = mutate(draw, value)
    return value


@FUZZ
@given(data=st.data())
def test_generated_catalogs(s3, tmp_path, data):
    company = new_company(s3, tmp_path)
    company.put("GLENTRY.1.csv", GOOD_CSV)
    base = good_catalog(company)
    extras = {"schema_true": True, "nested": {"type": "object", "properties": {"x": True}},
              "legacy": {"inclusion": "automatic"}}
    base["streams"][0]["schema"]["properties"]["ACCOUNTNO"] = data.draw(st.sampled_from(
        [True, extras["nested"], {"type": ["null", "string"], "description": "d"},
         {"type": ["null", "integer"]}, {"anyOf": [{"type": "number"}, {"type": "string"}]}]))
    catalog = data.draw(mutated(base))
    run = company.sync(company.write("catalog.json", catalog))
    assert_well_behaved(run)


@FUZZ
@given(data=st.data())
def test_generated_states(s3, tmp_path, data):
    company = new_company(s3, tmp_path)
    company.put("GLENTRY.1.csv", GOOD_CSV)
    catalog = company.write("catalog.json", good_catalog(company))
    base = {"bookmarks": {"GLENTRY": {
        "modified_since": "2024-01-01T00:00:00+00:00",
        "synced_keys": {company.prefix + "GLENTRY.0.csv": "2024-01-01T00:00:00+00:00"},
        "synced_keys_since": "2023-12-31T00:00:00+00:00"}}}
    state = data.draw(mutated(base))
    run = company.sync(catalog, state=state)
    assert_well_behaved(run)


def gzipped(data):
    return gzip.compress(data)


def zipped(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GLENTRY.csv", data)
    return buffer.getvalue()


csv_pieces = st.sampled_from([b"1", b"0100", b"x", b",", b'"', b'""', b"\n", b"\r\n", b"\r",
                              b"\xef\xbb\xbf", b"\xff", b"\x00", b"2024-01-02", b"a b",
                              "é".encode(), b'"q""uote"', b"NaN"])
file_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(csv_pieces, max_size=40).map(lambda parts: b"RECORDNO,ACCOUNTNO\n" + b"".join(parts)),
    st.tuples(st.sampled_from([gzipped, zipped]), st.lists(csv_pieces, max_size=30),
              st.integers(0, 200)).map(
        lambda t: t[0](b"RECORDNO,ACCOUNTNO\n" + b"".join(t[1]))[:t[2] or None]),
)


@FUZZ
@given(body=file_bytes)
def test_generated_files(s3, tmp_path, body):
    company = new_company(s3, tmp_path)
    company.put("GLENTRY.1.csv", GOOD_CSV, modified=1)
    catalog = company.write("catalog.json", good_catalog(company))
    odd = company.put("GLENTRY.2.csv", body or b"\n", modified=2)
    after = company.put("GLENTRY.3.csv", GOOD_CSV, modified=3)
    run = company.sync(catalog)
    assert_well_behaved(run, exits=(0, 1))
    files = [r["_sdc_source_file"] for r in run.records()]
    if run.returncode == 1:
        assert odd in run.stderr
        assert after not in files  # the stream stopped at the failing file
        bookmark = run.last_state["bookmarks"]["GLENTRY"]["modified_since"]
        assert bookmark.startswith("2024-03-01T12:00:01")  # never past it
        [error] = [line for line in run.stderr.splitlines()
                   if line.startswith("tap-intacct: error:") and odd in line]
        failing = re.search(r"(after )?line (\d+)", error)
        if failing:  # "line N ..." fails at N; "... after line N" fails past N
            last_good = int(failing.group(2)) - (0 if failing.group(1) else 1)
            assert all(r["_sdc_source_lineno"] <= last_good for r in run.records()
                       if r["_sdc_source_file"] == odd)
    else:
        assert files.count(after) == 2
