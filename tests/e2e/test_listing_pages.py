"""A listing answer that is not a complete, well-formed page (tap_intacct/storage/pages.py): a body
that never arrives or is cut, an empty 200, not the store's listing XML, "more follows" without
saying where. It is asked for again like a 503; when it stays so, the run fails with one line
naming the bucket or container and the prefix, before anything is emitted: no bookmark moves past
what was listed and no ACTIVATE_VERSION follows a partial listing.

The listings go through devtools.faultproxy with small pages (max-keys or maxresults set on the
way; Azure with a SAS, which does not sign them), so that a few files make several pages. Both
stores."""

import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.faultproxy import FaultProxy
from tests.e2e.conftest import Company, Run, assert_clean_failure, company_in
from tests.e2e.test_full_exports import held_by_a_versioned_target, vendors
from tests.support import examples

pytestmark = pytest.mark.stores("s3", "azure")

LIST = r"^GET /\S*(list-type=2|comp=list)"
TRIES = "3"  # TAP_INTACCT_MAX_TRIES of the runs whose faults outlast the retries


def _without_continuation(payload):
    """The page without its NextContinuationToken (S3) or NextMarker (Azure) element."""
    return re.sub(rb"<NextContinuationToken>[^<]*</NextContinuationToken>|"
                  rb"<NextMarker>[^<]*</NextMarker>|<NextMarker\s*/>", b"", payload)


# Each a FaultProxy.add's kind and options: what a listing page can be instead of itself.
PAGE_FAULTS = {
    "body never arrives": {"kind": "cut", "cut_after": 0},
    "body cut": {"kind": "cut", "cut_after": 300},
    "empty 200": {"kind": "body", "body": b""},
    "not XML": {"kind": "body", "body": b"\x00\xff\xfe garbage"},
    "another XML document": {"kind": "body", "body": b"<html><body>Bad gateway</body></html>"},
    "XML cut short": {"kind": "body", "body": lambda payload: payload[:len(payload) // 2]},
    "more follows, not where": {"kind": "body", "body": _without_continuation},
}


@pytest.fixture
def proxy(store):
    with FaultProxy(store.port) as running:
        yield running


def paged(company, proxy, per_page=2, **settings):
    """The config of a run whose listing comes through proxy, per_page objects a page: the
    company folder's listing (`listing: folder`), whose pages the layouts below are laid out
    for (each stream's own listing goes through the same checks: test_listing_modes.py)."""
    settings.setdefault("listing", "folder")
    size = "max-keys" if company.kind == "s3" else "maxresults"
    proxy.add(LIST, "query", query={size: per_page}, times=float("inf"))
    if company.kind == "azure":  # a shared key signs the query string, a SAS does not
        settings.update(azure_connection_string=None,
                        azure_sas_token=company.server.sas_token(company.bucket))
    return company.config(**company.through(proxy), **settings)


def tap(company, catalog, config, state=None, **env):
    environment = company.server.tap_environment()
    environment.update(env)
    args = ["--catalog", catalog]
    if state is not None:
        args += ["--state", company.write("state.json", state)]
    return company.tap(*args, config=config, env=environment)


def listing_requests(proxy):
    return [line for line, _range, _status in proxy.log if re.search(LIST, line)]


def error_lines(run):
    return [line for line in run.stderr.splitlines() if line.startswith("tap-intacct: error:")]


def assert_failed_naming_the_listing(run, company):
    """Exit 1, one error line naming the bucket/container and the prefix, and nothing emitted:
    no SCHEMA, no RECORD, no STATE."""
    assert_clean_failure(run, code=1)
    [error] = error_lines(run)
    assert company.bucket in error and company.prefix in error, error
    assert "cannot list" in error and "nothing was read or bookmarked" in error, error
    assert run.stdout == ""


def sources(run):
    return {(r["_sdc_source_file"], r["RECORDNO"]) for r in run.records()}


@dataclass
class Layout:
    """Three pages of two files: the newest GLENTRY files on page 1, an older one on page 2 (the
    issue's case: a bookmark moved past page 1 would skip it for good), VENDOR on pages 2-3; its
    catalog, and the clean runs the fault cases compare with."""

    company: Company
    catalog: str
    clean: Run              # a run through a proxy without faults, in pages of two
    clean_listings: int     # the listing requests that run made
    resumed: Run            # a clean run from BEFORE (no proxy)


BEFORE = {"bookmarks": {"GLENTRY": {"modified_since": "2024-03-01T12:00:00+00:00"}}}
_layouts = {}


@pytest.fixture
def layout(store, tmp_path_factory):
    """The Layout in this store, made once per test process (the cases using it are one xdist
    group): the faults never change its files, so its discovery and clean runs serve them all."""
    if store not in _layouts:
        company = company_in(store, tmp_path_factory.mktemp("layout"))
        company.put("GLENTRY.change.1.csv", "RECORDNO,AMOUNT\n1,10\n", modified=20)
        company.put("GLENTRY.change.2.csv", "RECORDNO,AMOUNT\n2,20\n", modified=30)
        company.put("GLENTRY.change.3.csv", "RECORDNO,AMOUNT\n3,30\n", modified=10)
        company.put("VENDOR.change.1.csv", "RECORDNO,NAME\n1,a\n", modified=5)
        company.put("VENDOR.change.2.csv", "RECORDNO,NAME\n2,b\n", modified=40)
        catalog = company.selected_catalog()
        with FaultProxy(store.port) as proxy:
            clean = tap(company, catalog, paged(company, proxy))
            clean_listings = len(listing_requests(proxy))
        resumed = tap(company, catalog, company.config(), state=BEFORE)
        _layouts[store] = Layout(company, catalog, clean, clean_listings, resumed)
    return _layouts[store]


@pytest.mark.xdist_group("listing pages layout")
@pytest.mark.parametrize("fault", PAGE_FAULTS)
def test_a_page_that_is_not_complete_is_asked_for_again(proxy, layout, fault):
    company, clean = layout.company, layout.clean
    assert clean.returncode == 0, clean.stderr
    assert layout.clean_listings == 3
    assert len(sources(clean)) == 5
    config = paged(company, proxy)
    # page 2 (it lists GLENTRY.change.3.csv), twice
    injected = proxy.add(LIST, answer=b"GLENTRY.change.3.csv", times=2, **PAGE_FAULTS[fault])
    run = tap(company, layout.catalog, config)
    assert run.returncode == 0, run.stderr
    assert injected.hits == 2
    assert run.stdout == clean.stdout
    assert len(listing_requests(proxy)) == 5
    assert run.stderr.count("request failed") == 2


@pytest.mark.xdist_group("listing pages layout")
@pytest.mark.parametrize("fault", PAGE_FAULTS)
def test_a_page_that_stays_incomplete_fails_the_run_before_any_bookmark(proxy, layout, fault):
    company = layout.company
    config = paged(company, proxy)
    injected = proxy.add(LIST, answer=b"GLENTRY.change.3.csv", times=float("inf"),
                         **PAGE_FAULTS[fault])
    run = tap(company, layout.catalog, config, state=BEFORE, TAP_INTACCT_MAX_TRIES=TRIES)
    assert_failed_naming_the_listing(run, company)
    assert injected.hits == int(TRIES)
    # the next clean run, from the state the failed one left (unchanged: it emitted nothing,
    # asserted above, so that run is the same for every fault and made once), reads every file
    after = layout.resumed
    assert after.returncode == 0, after.stderr
    assert {"GLENTRY.change.3.csv", "GLENTRY.change.1.csv"} <= {
        source.rsplit("/", 1)[1] for source, _ in sources(after)}
    assert len(sources(after)) == 5


@pytest.mark.xdist_group("listing pages layout")
@pytest.mark.parametrize("command", ["sync", "--discover", "--test"])
def test_an_empty_listing_answer_is_retried_then_one_line_naming_the_store(proxy, layout,
                                                                           command):
    """Issue 31 row 2 (Azure gave an AttributeError traceback), and the same on S3: the first
    (and only) page answered with an empty 200."""
    company = layout.company
    injected = proxy.add(LIST, "body", body=b"", times=float("inf"))
    env = company.server.tap_environment()
    env["TAP_INTACCT_MAX_TRIES"] = TRIES
    config = company.config(listing="folder", **company.through(proxy))
    if command == "sync":
        run = company.tap("--catalog", layout.catalog, config=config, env=env)
    else:
        run = company.tap(command, config=config, env=env)
    assert_clean_failure(run, company.bucket, company.prefix, "complete listing page",
                         code=1)
    assert injected.hits == int(TRIES)
    assert run.stderr.count("request failed") == int(TRIES) - 1
    if command != "--test":
        [error] = error_lines(run)
        assert "empty" in error, error
        assert run.stdout == ""


_three_parts = {}


@pytest.fixture
def three_parts(store, tmp_path_factory):
    """(company, catalog path): a full export job of three parts, discovered once per test
    process and store for both engines' cases (one xdist group; no run changes the files)."""
    if store not in _three_parts:
        company = company_in(store, tmp_path_factory.mktemp("three-parts"))
        for part, numbers in enumerate(((1, 2), (3, 4), (5, 6)), start=1):
            company.put(f"VENDOR.all.11.part{part}.csv", vendors(*numbers), modified=part * 60)
        _three_parts[store] = company, company.selected_catalog()
    return _three_parts[store]


@pytest.mark.xdist_group("listing pages three parts")
@pytest.mark.parametrize("engine", ["rows", "fast"])
def test_no_activate_version_after_a_partial_listing(three_parts, proxy, engine):
    """full_exports: replace, a full export job of three parts over two pages: with page 2 lost
    the job is not activated (its third part's rows would be deleted); once page 2 comes, it is,
    with every part."""
    if engine == "fast":
        pytest.importorskip("pyarrow")
    company, catalog = three_parts
    config = paged(company, proxy, full_exports="replace")
    lost_page = proxy.add(LIST, answer=b"part3.csv", times=float("inf"), kind="cut")
    run = tap(company, catalog, config, TAP_INTACCT_ENGINE=engine, TAP_INTACCT_MAX_TRIES=TRIES)
    assert_failed_naming_the_listing(run, company)
    assert run.of_type("ACTIVATE_VERSION") == []
    assert lost_page.hits == int(TRIES)
    lost_page.times = lost_page.hits + 1  # page 2 fails once more, then arrives
    # and the first page once answers without saying where the next one is: retried too
    proxy.add(LIST, answer=b"part1.csv", times=1, kind="body", body=_without_continuation)
    run = tap(company, catalog, config, TAP_INTACCT_ENGINE=engine)
    assert run.returncode == 0, run.stderr
    assert [m["type"] for m in run.messages if m["type"] != "RECORD"][-2:] == [
        "ACTIVATE_VERSION", "STATE"]
    assert sorted(held_by_a_versioned_target(run.messages)) == [1, 2, 3, 4, 5, 6]


# The property: whatever listing pages a faulty run is given (each page of four truncated,
# emptied or corrupted, for one answer, two, or every one), that run and then a clean run from
# the state it left together read every file's records, and a failed run emitted nothing.
# Each example is two runs: `make test` draws 4 (seeded), `make fuzz` 80 afresh.

FILES = [f"GLENTRY.change.{n}.csv" for n in range(1, 5)] + [
    f"VENDOR.change.{n}.csv" for n in range(1, 4)]  # in listing order: pages of 2
_catalogs = {}


@settings(max_examples=examples(4), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(modified=st.lists(st.integers(0, 6), min_size=len(FILES), max_size=len(FILES)),
       faults=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(sorted(PAGE_FAULTS)),
                                 st.sampled_from([1, 2, float("inf")])), min_size=1, max_size=3))
def test_a_faulty_run_then_a_clean_run_read_every_file(store, tmp_path, modified, faults):
    company = company_in(store, tmp_path)
    for number, (name, seconds) in enumerate(zip(FILES, modified, strict=True)):
        header = "RECORDNO,AMOUNT" if name.startswith("GLENTRY") else "RECORDNO,NAME"
        company.put(name, f"{header}\n{number},{seconds}\n", modified=seconds)
    expected = {(company.prefix + name, number) for number, name in enumerate(FILES)}
    if company.kind not in _catalogs:
        _catalogs[company.kind] = company.discover()
    catalog = company.selected_catalog(_catalogs[company.kind])
    with FaultProxy(company.server.port) as proxy:
        config = paged(company, proxy)
        for page, fault, times in faults:
            proxy.add(LIST, answer=FILES[2 * page].encode(), times=times, **PAGE_FAULTS[fault])
        faulty = tap(company, catalog, config, TAP_INTACCT_MAX_TRIES=TRIES)
    if faulty.returncode != 0:
        assert_failed_naming_the_listing(faulty, company)
    clean = tap(company, catalog, company.config(), state=faulty.last_state)
    assert clean.returncode == 0, clean.stderr
    assert sources(faulty) | sources(clean) == expected
    if faulty.returncode == 0:
        assert sources(faulty) == expected
