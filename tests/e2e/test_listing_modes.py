"""`listing: streams` (the default) lists each selected stream's own prefix, `<path>/<company>/
<OBJECT>.`, several at once; `listing: folder` the company folder in one listing (README
"Running at scale"). Both read the same files and write the same messages; discovery and
`--test` list the folder once whatever the setting."""

import copy
import gzip
import re
from dataclasses import dataclass

import pytest

from devtools.faultproxy import FaultProxy
from tests.e2e.conftest import Company, Run, company_in

pytestmark = pytest.mark.stores("s3", "azure")

LIST = re.compile(r"^GET /\S*(?:list-type=2|comp=list)\S*")


def listing_prefixes(company):
    """The prefix of each listing request the store served."""
    found = []
    for line in company.request_lines():
        if LIST.search(line):
            query = line.split(" ")[1].split("?", 1)[1]
            found.append(re.search(r"(?:^|&)prefix=([^&]*)", query).group(1).replace("%2F", "/"))
    return found


@dataclass
class Folder:
    """A company folder whose objects' names share beginnings (only the dot ends a stream's
    name), its discovery (with `listing: streams`) and the listings that discovery made, and
    the run that every test selecting GLENTRY, GL and VENDOR compares with (`listing: streams`,
    the default)."""

    company: Company
    catalog: dict
    discovery_listings: list
    three_streams: str      # the catalog's path, GLENTRY, GL and VENDOR selected
    by_stream: Run


_folders = {}


@pytest.fixture
def made(store, tmp_path_factory):
    """The Folder of this store, made once per test process (the tests are one xdist group):
    no run changes its objects."""
    if store not in _folders:
        company = company_in(store, tmp_path_factory.mktemp("folder"))
        for name, modified in (("GL.change.1.csv", 1), ("GLENTRY.csv", 2),
                               ("GLENTRY.change.1.csv", 3), ("GLENTRYX.change.1.csv", 4),
                               ("GLENTRY.change.2.csv.gz", 5), ("VENDOR.change.1.csv", 6),
                               ("GLENTRY.notes.txt", 7)):
            company.put(name, "RECORDNO,NAME\n1,a\n" if not name.endswith(".gz") else
                        gzip.compress(b"RECORDNO,NAME\n2,b\n"), modified=modified)
        company.put("archive/GLENTRY.change.0.csv", "RECORDNO,NAME\n9,z\n", modified=0)
        company.clear_requests()
        catalog = company.discover(listing="streams")
        listings = listing_prefixes(company)
        three = selected(company, catalog, ["GLENTRY", "GL", "VENDOR"])
        _folders[store] = Folder(company, catalog, listings, three, company.sync(three))
    return _folders[store]


def selected(company, catalog, streams):
    """The path of a copy of `catalog` with `streams` selected, a file of its own."""
    path = company.selected_catalog(copy.deepcopy(catalog), streams=streams)
    with open(path) as written:
        return company.write(f"catalog-{'-'.join(streams)}.json", written.read())


def files_read(run):
    return list(dict.fromkeys(r["_sdc_source_file"].rsplit("/", 1)[-1] for r in run.records()))


@pytest.mark.xdist_group("listing modes")
def test_a_stream_lists_its_own_prefix_and_nothing_of_other_streams(made):
    folder = made.company
    catalog = selected(folder, made.catalog, ["GLENTRY", "GL"])
    folder.clear_requests()
    run = folder.sync(catalog)
    assert run.returncode == 0, run.stderr
    assert files_read(run) == ["GL.change.1.csv", "GLENTRY.csv", "GLENTRY.change.1.csv",
                               "GLENTRY.change.2.csv.gz"]
    assert sorted(listing_prefixes(folder)) == [folder.prefix + p for p in ("GL.", "GLENTRY.")]
    assert "for 2 stream(s): GL.*, GLENTRY.*" in run.stderr


@pytest.mark.xdist_group("listing modes")
def test_the_folder_listing_reads_the_same_files_and_writes_the_same_messages(made):
    folder, catalog, by_stream = made.company, made.three_streams, made.by_stream
    folder.clear_requests()
    by_folder = folder.sync(catalog, config=folder.config(listing="folder"))
    assert by_folder.returncode == 0, by_folder.stderr
    assert listing_prefixes(folder) == [folder.prefix]
    assert by_folder.messages == by_stream.messages
    assert len(files_read(by_stream)) == 5


@pytest.mark.xdist_group("listing modes")
def test_discovery_and_the_setup_check_list_the_folder_once(made):
    folder, catalog = made.company, made.catalog
    assert made.discovery_listings == [folder.prefix]
    assert [s["stream"] for s in catalog["streams"]] == ["GL", "GLENTRY", "GLENTRYX", "VENDOR"]
    folder.clear_requests()
    check = folder.tap("--test", config=folder.config(listing="streams"))
    assert check.returncode == 0, check.stderr
    assert listing_prefixes(folder) == [folder.prefix]


@pytest.mark.xdist_group("listing modes")
def test_a_failing_stream_listing_fails_the_run_before_any_output(made):
    folder, catalog = made.company, made.three_streams
    with FaultProxy(folder.server.port) as proxy:
        proxy.add(r"^GET /\S*(list-type=2|comp=list)\S*VENDOR\.", "status",
                  status=403, code="AccessDenied" if folder.kind == "s3" else
                  "AuthorizationPermissionMismatch", times=float("inf"))
        run = folder.sync(catalog, config=folder.config(**folder.through(proxy)))
    assert run.returncode == 1
    assert run.stdout == ""
    assert f"list prefix '{folder.prefix}VENDOR.'" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.xdist_group("listing modes")
def test_with_no_stream_selected_nothing_is_listed(made):
    folder = made.company
    catalog = selected(folder, made.catalog, [])
    folder.clear_requests()
    run = folder.sync(catalog)
    assert run.returncode == 0, run.stderr
    assert listing_prefixes(folder) == []


@pytest.mark.xdist_group("listing modes")
def test_a_malformed_page_of_a_stream_listing_is_asked_for_again(made):
    folder, catalog, clean = made.company, made.three_streams, made.by_stream
    with FaultProxy(folder.server.port) as proxy:
        injected = proxy.add(r"^GET /\S*(list-type=2|comp=list)\S*GLENTRY\.", "body", body=b"",
                             times=2)
        run = folder.sync(catalog, config=folder.config(**folder.through(proxy)))
    assert run.returncode == 0, run.stderr
    assert injected.hits == 2
    assert run.stderr.count("request failed") == 2
    assert run.messages == clean.messages
