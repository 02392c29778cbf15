"""`listing: streams` (the default) lists each selected stream's own prefix, `<path>/<company>/
<OBJECT>.`, several at once; `listing: folder` the company folder in one listing (README
"Running at scale"). Both read the same files and write the same messages; discovery and
`--test` list the folder once whatever the setting."""

import gzip
import re

import pytest

from devtools.faultproxy import FaultProxy

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


@pytest.fixture
def folder(company):
    """Objects whose names share beginnings: only the dot ends a stream's name."""
    for name, modified in (("GL.change.1.csv", 1), ("GLENTRY.csv", 2),
                           ("GLENTRY.change.1.csv", 3), ("GLENTRYX.change.1.csv", 4),
                           ("GLENTRY.change.2.csv.gz", 5), ("VENDOR.change.1.csv", 6),
                           ("GLENTRY.notes.txt", 7)):
        company.put(name, "RECORDNO,NAME\n1,a\n" if not name.endswith(".gz") else
                    gzip.compress(b"RECORDNO,NAME\n2,b\n"), modified=modified)
    company.put("archive/GLENTRY.change.0.csv", "RECORDNO,NAME\n9,z\n", modified=0)
    return company


def files_read(run):
    return list(dict.fromkeys(r["_sdc_source_file"].rsplit("/", 1)[-1] for r in run.records()))


def test_a_stream_lists_its_own_prefix_and_nothing_of_other_streams(folder):
    catalog = folder.selected_catalog(streams=["GLENTRY", "GL"])
    folder.clear_requests()
    run = folder.sync(catalog)
    assert run.returncode == 0, run.stderr
    assert files_read(run) == ["GL.change.1.csv", "GLENTRY.csv", "GLENTRY.change.1.csv",
                               "GLENTRY.change.2.csv.gz"]
    assert sorted(listing_prefixes(folder)) == [folder.prefix + p for p in ("GL.", "GLENTRY.")]
    assert "for 2 stream(s): GL.*, GLENTRY.*" in run.stderr


def test_the_folder_listing_reads_the_same_files_and_writes_the_same_messages(folder):
    catalog = folder.selected_catalog(streams=["GLENTRY", "GL", "VENDOR"])
    by_stream = folder.sync(catalog)
    folder.clear_requests()
    by_folder = folder.sync(catalog, config=folder.config(listing="folder"))
    assert by_folder.returncode == 0, by_folder.stderr
    assert listing_prefixes(folder) == [folder.prefix]
    assert by_folder.messages == by_stream.messages
    assert len(files_read(by_stream)) == 5


def test_discovery_and_the_setup_check_list_the_folder_once(folder):
    folder.clear_requests()
    catalog = folder.discover(listing="streams")
    assert listing_prefixes(folder) == [folder.prefix]
    assert [s["stream"] for s in catalog["streams"]] == ["GL", "GLENTRY", "GLENTRYX", "VENDOR"]
    folder.clear_requests()
    check = folder.tap("--test", config=folder.config(listing="streams"))
    assert check.returncode == 0, check.stderr
    assert listing_prefixes(folder) == [folder.prefix]


def test_a_failing_stream_listing_fails_the_run_before_any_output(folder):
    catalog = folder.selected_catalog(streams=["GLENTRY", "VENDOR", "GL"])
    with FaultProxy(folder.server.port) as proxy:
        proxy.add(r"^GET /\S*(list-type=2|comp=list)\S*VENDOR\.", "status",
                  status=403, code="AccessDenied" if folder.kind == "s3" else
                  "AuthorizationPermissionMismatch", times=float("inf"))
        run = folder.sync(catalog, config=folder.config(**folder.through(proxy)))
    assert run.returncode == 1
    assert run.stdout == ""
    assert f"list prefix '{folder.prefix}VENDOR.'" in run.stderr
    assert "Traceback" not in run.stderr


def test_with_no_stream_selected_nothing_is_listed(folder):
    catalog = folder.selected_catalog(streams=[])
    folder.clear_requests()
    run = folder.sync(catalog)
    assert run.returncode == 0, run.stderr
    assert listing_prefixes(folder) == []


def test_a_malformed_page_of_a_stream_listing_is_asked_for_again(folder):
    catalog = folder.selected_catalog(streams=["GLENTRY", "VENDOR", "GL"])
    clean = folder.sync(catalog)
    with FaultProxy(folder.server.port) as proxy:
        injected = proxy.add(r"^GET /\S*(list-type=2|comp=list)\S*GLENTRY\.", "body", body=b"",
                             times=2)
        run = folder.sync(catalog, config=folder.config(**folder.through(proxy)))
    assert run.returncode == 0, run.stderr
    assert injected.hits == 2
    assert run.stderr.count("request failed") == 2
    assert run.messages == clean.messages
