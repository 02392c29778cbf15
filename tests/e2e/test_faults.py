"""Every fault S3, Azure Blob Storage and the network throw, injected by a proxy on 127.0.0.1 in
front of moto or Azurite."""

import re

import pytest

from devtools import ddsdata
from devtools.faultproxy import FaultProxy
from tests.e2e.conftest import assert_clean_failure

pytestmark = pytest.mark.stores("s3", "azure")

ROLE = {"account_id": "123456789012", "role_name": "dds-reader", "external_id": "ext-secret-42"}
LIST = r"^GET /[^ ]*(list-type=2|comp=list)"
BUSY = {"s3": "SlowDown", "azure": "ServerBusy"}  # what each store answers when throttling


@pytest.fixture
def proxy(company):
    with FaultProxy(company.server.port) as running:
        yield running


ROWS = 1000  # a file of 254 KB: past the 70,000 bytes a cut lets through, four 64 KiB blocks


@pytest.fixture
def three_files(company):
    """Three GLENTRY files (each read in several chunks) and a catalog selecting them."""
    keys = [company.put(f"GLENTRY.change.{n}.csv", ddsdata.glentry_csv(ROWS, 1 + ROWS * n, seed=n),
                        modified=n) for n in range(3)]
    return keys, company.selected_catalog(shared=True)


def rows_by_file(run):
    seen = {}
    for record in run.records():
        key = (record["_sdc_source_file"], record["_sdc_source_lineno"])
        seen[key] = seen.get(key, 0) + 1
    return seen


def test_throttling_and_5xx_are_retried_with_identical_output(company, proxy, three_files):
    keys, catalog = three_files
    role = ROLE if company.kind == "s3" else {}
    clean = company.sync(catalog, config=company.config(**role))
    assert clean.returncode == 0, clean.stderr

    busy = BUSY[company.kind]
    if role:
        proxy.add(r"(?s)^POST /\n.*Action=AssumeRole", "status", status=503, times=2)
    proxy.add(LIST, "status", status=503, code=busy, times=2)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "status", status=500, times=2)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.2.csv", "status", status=503, code=busy, times=1)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.0.csv", "status", status=429, times=1)
    faulty = company.sync(catalog, config=company.config(endpoint_url=proxy.url,
                                                         sts_endpoint_url=proxy.url, **role))
    assert faulty.returncode == 0, faulty.stderr
    assert faulty.stdout == clean.stdout
    assert [(f.pattern, f.hits) for f in proxy.faults if f.hits != f.times] == []
    assert faulty.stderr.count("retry") >= (8 if role else 6)


@pytest.mark.parametrize("cuts", [1, 2])
def test_cut_body_resumes_from_the_byte_where_it_stopped(company, proxy, three_files, cuts):
    keys, catalog = three_files
    clean = company.sync(catalog)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "cut", cut_after=70_000, times=cuts)
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert run.returncode == 0, run.stderr
    assert run.stdout == clean.stdout  # every record exactly once, same order
    gets = [(line, byte_range) for line, byte_range, _ in proxy.log if "change.1.csv" in line]
    assert len(gets) == cuts + 1
    stopped = int(re.findall(r"stopped at byte (\d+)", run.stderr)[0])
    # S3's body hands over every byte received; Azure's SDK hands over whole 64 KiB blocks
    assert stopped == 70_000 if company.kind == "s3" else 0 < stopped <= 70_000
    assert gets[1][1] == f"bytes={stopped}-"  # resumed at the first byte not handed over


def test_deleted_between_listing_and_reading_is_skipped(company, proxy, three_files):
    keys, catalog = three_files
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "hook", hook=lambda: company.delete(keys[1]))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert run.returncode == 0, run.stderr
    files = {r["_sdc_source_file"] for r in run.records()}
    assert files == {keys[0], keys[2]}
    assert "skipped" in run.stderr and "deleted after the listing" in run.stderr


def test_replaced_between_listing_and_reading_is_left_for_the_next_run(company, proxy,
                                                                       three_files):
    keys, catalog = three_files
    replacement = ddsdata.glentry_csv(10, 90_001, seed=99)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "hook",
              hook=lambda: company.put("GLENTRY.change.1.csv", replacement, modified=10))
    first = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert first.returncode == 0, first.stderr
    assert {r["_sdc_source_file"] for r in first.records()} == {keys[0], keys[2]}
    assert "replaced after the listing" in first.stderr
    second = company.sync(catalog, state=first.last_state)
    assert [r["RECORDNO"] for r in second.records()] == list(range(90_001, 90_011))


def test_replaced_while_being_read_never_mixes_versions(company, proxy, three_files):
    keys, catalog = three_files
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "cut", cut_after=70_000, times=1)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "hook", times=2, hook=lambda: None)
    # the resume request (second GET) finds a new version: it must not be stitched on
    proxy.faults[-1].hook = lambda: (proxy.faults[-1].hits == 2 and company.put(
        "GLENTRY.change.1.csv", ddsdata.glentry_csv(5, 80_001, seed=7), modified=20))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert run.returncode == 0, run.stderr
    from_replaced = [r for r in run.records() if r["_sdc_source_file"] == keys[1]]
    assert all(r["RECORDNO"] < 80_001 for r in from_replaced)  # only the old version's rows
    # the state holds the keys at the bookmark only (file 2's): the replaced file is not in it
    assert run.last_state["bookmarks"]["GLENTRY"]["synced_keys"].keys() == {keys[2]}


def test_retries_exhausted_fail_naming_the_file_and_keep_the_bookmark(company, proxy,
                                                                      three_files):
    keys, catalog = three_files
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "status", status=503,
              code=BUSY[company.kind], times=float("inf"))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert_clean_failure(run, keys[1], BUSY[company.kind])
    assert run.last_state["bookmarks"]["GLENTRY"]["synced_keys"] == {
        keys[0]: "2024-03-01T12:00:00+00:00"}
    assert run.stderr.strip().splitlines()[-1].startswith("tap-intacct: error:")


def test_cut_and_throttled_forever_fails_without_passing_the_file(company, proxy, three_files):
    keys, catalog = three_files
    proxy.add(r"^GET /[^ ]*GLENTRY.change.0.csv", "cut", cut_after=0, times=float("inf"))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert_clean_failure(run, keys[0], "at byte")
    assert run.of_type("STATE") == []


def test_slow_link_latency_is_survived(company, proxy, three_files):
    keys, catalog = three_files
    proxy.add(r"^GET ", "delay", seconds=0.2, times=float("inf"))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert run.returncode == 0 and len(run.records()) == 3 * ROWS


def error_lines(run):
    return [line for line in run.stderr.splitlines() if line.startswith("tap-intacct: error:")]


def bookmarks_of(run, stream):
    return [m["value"]["bookmarks"][stream] for m in run.of_type("STATE")
            if stream in m["value"]["bookmarks"]]


@pytest.mark.parametrize("store, status, code, hint", [
    ("s3", 403, "AccessDenied", "kms:Decrypt"), ("s3", 403, "InvalidObjectState", "archived"),
    ("azure", 409, "BlobArchived", "rehydrate")], indirect=["store"])
def test_a_refused_file_stops_only_its_own_stream(company, proxy, three_files, status, code,
                                                  hint):
    keys, _ = three_files
    for n in range(2):
        company.put(f"VENDOR.change.{n}.csv", f"RECORDNO,NAME\n{n},Vendor {n}\n", modified=n)
    catalog = company.selected_catalog(shared=True)  # GLENTRY first, then VENDOR
    refused = proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "status", status=status, code=code,
                        times=float("inf"))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert_clean_failure(run, code=1)
    [error] = error_lines(run)
    assert keys[1] in error and code in error and hint in error
    assert refused.hits == 1  # a refusal is not retried
    assert [r["RECORDNO"] for r in run.records("VENDOR")] == [0, 1]  # the other stream went on
    assert bookmarks_of(run, "VENDOR")[-1]["modified_since"] == "2024-03-01T12:00:01+00:00"
    glentry = bookmarks_of(run, "GLENTRY")
    assert glentry[-1]["synced_keys"] == {keys[0]: "2024-03-01T12:00:00+00:00"}  # before it
    assert {r["_sdc_source_file"] for r in run.records("GLENTRY")} == {keys[0]}


@pytest.mark.stores("s3")  # Azure signs x-ms-range: a proxy cannot change it
def test_a_server_ignoring_range_on_resume_neither_repeats_nor_loses_rows(company, proxy,
                                                                           three_files):
    keys, catalog = three_files
    clean = company.sync(catalog)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "cut", cut_after=70_000, times=1)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "ignore_range", times=float("inf"))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert run.returncode == 0, run.stderr
    assert run.stdout == clean.stdout  # every record exactly once, same order, same state
    gets = [(asked, status) for line, asked, status in proxy.log if "change.1.csv" in line]
    assert gets == [(None, 200), ("bytes=70000-", 200)]
    assert "ignored the Range header" in run.stderr


@pytest.mark.stores("s3")  # Azure signs x-ms-range: a proxy cannot change it
def test_discovery_through_a_server_ignoring_range_reads_the_same_bytes(company, proxy):
    for n in range(7):  # the 5 newest are sampled (4 MiB reads), the others give headers (64 KiB)
        company.put(f"GLENTRY.change.{n}.csv", ddsdata.glentry_csv(3000, 1 + 3000 * n, seed=n),
                    modified=n)
    clean = company.discover()
    proxy.add(r"^GET /[^ ]*GLENTRY", "ignore_range", times=float("inf"))
    assert company.discover(endpoint_url=proxy.url) == clean
    answers = [(asked, status) for line, asked, status in proxy.log if "GLENTRY" in line]
    assert len(answers) == 7 and all(asked and status == 200 for asked, status in answers)


@pytest.mark.stores("s3")  # Azure signs x-ms-range: a proxy cannot change it
def test_a_resume_answered_from_another_byte_stops_the_stream(company, proxy, three_files):
    keys, catalog = three_files
    pattern = r"^GET /[^ ]*GLENTRY.change.1.csv"
    proxy.add(pattern, "cut", cut_after=70_000, times=1)
    # from the second request on, the server is asked for (and answers) bytes from 100
    proxy.add(pattern, "hook", hook=lambda: proxy.add(pattern, "range", range_header="bytes=100-",
                                                      times=float("inf")))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert_clean_failure(run, code=1)
    [error] = error_lines(run)
    assert keys[1] in error and "bytes from 70000" in error and "bytes 100-" in error
    assert bookmarks_of(run, "GLENTRY")[-1]["synced_keys"] == {keys[0]: "2024-03-01T12:00:00+00:00"}
    assert len([line for line, _, _ in proxy.log if "change.1.csv" in line]) == 2  # no retry


@pytest.mark.stores("s3")
def test_assume_role_goes_to_sts_endpoint_url_not_to_the_s3_endpoint(company, proxy, s3,
                                                                       three_files):
    keys, catalog = three_files
    refused = proxy.add(r"(?s)^POST /\n.*Action=AssumeRole", "status", status=403,
                        code="AccessDenied", times=float("inf"))
    s3.requests.clear()
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url, **ROLE))
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 3 * ROWS
    assert refused.hits == 0
    assert [line for line in s3.requests.lines if line.startswith("POST / ")] == ["POST / 200"]

    env = s3.tap_environment()
    env["AWS_ENDPOINT_URL_STS"] = s3.url  # boto3's own setting, when sts_endpoint_url is unset
    run = company.tap("--catalog", catalog, env=env, config=company.config(
        endpoint_url=proxy.url, sts_endpoint_url=None, **ROLE))
    assert run.returncode == 0, run.stderr
    assert refused.hits == 0

    # the proxy does refuse AssumeRole: sent there, the run fails
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url,
                                                      sts_endpoint_url=proxy.url, **ROLE))
    assert_clean_failure(run, "cannot assume role", "HTTP 403")
    assert refused.hits == 1


@pytest.mark.parametrize("store, status, code", [
    ("s3", 400, "ExpiredToken"), ("s3", 403, "InvalidAccessKeyId"), ("s3", 404, "NoSuchBucket"),
    ("azure", 403, "AuthenticationFailed"), ("azure", 403, "AuthorizationPermissionMismatch"),
    ("azure", 404, "ContainerNotFound")], indirect=["store"])
def test_a_bucket_or_credentials_failure_while_reading_stops_the_run(company, proxy, three_files,
                                                                     status, code):
    keys, _ = three_files
    company.put("VENDOR.change.0.csv", "RECORDNO,NAME\n1,Vendor\n", modified=5)
    catalog = company.selected_catalog(shared=True)
    proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "status", status=status, code=code,
              times=float("inf"))
    run = company.sync(catalog, config=company.config(endpoint_url=proxy.url))
    assert_clean_failure(run, code, code=1)
    assert run.records("VENDOR") == []  # stopped at once, not only the GLENTRY stream
    assert "the other streams go on" not in run.stderr
