"""Deletes as _sdc_deleted_at, singer METRIC lines and progress lines."""

import json
import re

import pytest

pytestmark = pytest.mark.stores("s3", "azure")

CHANGES = ("RECORDNO,NAME,ddsChangeType,ddsReadTime\n"
           "1,kept,update,2024-01-06 10:05:00\n"
           "2,gone,delete,2024-01-06 10:06:00\n"
           "3,gone too,DELETE,\n")


def test_delete_rows_carry_sdc_deleted_at(company):
    company.put("VENDOR.change.1.csv", CHANGES, modified=1)
    company.put("CUSTOMER.all.1.csv", "RECORDNO,NAME\n1,x\n", modified=1)
    catalog = company.discover()
    by_name = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert by_name["VENDOR"]["schema"]["properties"]["_sdc_deleted_at"] == {
        "type": ["null", "string"], "format": "date-time"}
    fields = {m["breadcrumb"][-1]: m["metadata"] for m in by_name["VENDOR"]["metadata"][1:]}
    assert fields["_sdc_deleted_at"] == {"inclusion": "automatic"}
    assert "_sdc_deleted_at" not in by_name["CUSTOMER"]["schema"]["properties"]

    run = company.sync(company.selected_catalog(catalog))
    assert run.returncode == 0, run.stderr
    kept, deleted, deleted_no_time = run.records("VENDOR")
    assert kept["_sdc_deleted_at"] is None
    assert deleted["_sdc_deleted_at"] == "2024-01-06T10:06:00.000000Z"
    assert deleted_no_time["_sdc_deleted_at"] == "2024-03-01T12:00:01.000000Z"  # LastModified
    assert "_sdc_deleted_at" not in run.records("CUSTOMER")[0]


def metric_lines(stderr):
    return [json.loads(line.split("METRIC: ", 1)[1]) for line in stderr.splitlines()
            if "METRIC: " in line]


def test_metric_lines_for_records_and_requests(company):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n2\n", modified=1)
    company.put("GLENTRY.2.csv", "RECORDNO\n3\n", modified=2)
    run = company.sync(company.selected_catalog())
    metrics = metric_lines(run.stderr)
    counts = [m for m in metrics if m["metric"] == "record_count"]
    assert [(m["type"], m["value"], m["tags"]["endpoint"]) for m in counts] == [
        ("counter", 2, "GLENTRY"), ("counter", 1, "GLENTRY")]
    timers = [m for m in metrics if m["metric"] == "http_request_duration"]
    assert {m["tags"]["endpoint"] for m in timers} == ({"ListObjectsV2", "GetObject"}
                                                       if company.kind == "s3"
                                                       else {"ListBlobs", "GetBlob"})
    assert all(m["type"] == "timer" and m["tags"]["status"] == "succeeded" for m in timers)


def long_export(rows):
    """`rows` records of about 60 bytes each (a GLENTRY export's are about 250): past two
    progress checks (every 50,000 records) with a quarter of the bytes to move and read, and
    still several fast-engine chunks (1 MiB: about 17,000 records each; the checks come at
    52,028 and 103,572 records)."""
    return "RECORDNO,AMOUNT,ENTRY_DATE,DESCRIPTION\n" + "".join(
        f"{n},{n % 997}.25,2024-01-02 03:04:05,line {n} of a long export\n"
        for n in range(1, rows + 1))


def test_progress_lines_for_long_files(company):
    company.put("GLENTRY.1.csv", long_export(120_000))
    catalog = company.selected_catalog()
    env = company.server.tap_environment()
    env["TAP_INTACCT_PROGRESS_SECONDS"] = "0.001"  # every check (must be > 0)
    run = company.tap("--catalog", catalog, env=env)
    progress = re.findall(r"GLENTRY.1.csv: (\d+) records so far, ([0-9.]+) MB read", run.stderr)
    counts = [int(records) for records, _ in progress]
    # every 50,000 records (the fast engine looks after each chunk: at the first one past it)
    assert len(counts) == 2 and 50_000 <= counts[0] < 100_000 <= counts[1] < 120_000
    assert 0 < float(progress[0][1]) < float(progress[1][1])
    assert len(run.records()) == 120_000


def test_unreadable_read_time_of_a_delete_falls_back_to_last_modified(company):
    company.put("VENDOR.change.1.csv", "RECORDNO,ddsChangeType,ddsReadTime\n9,delete,soonZ\n",
                modified=3)
    [record] = company.sync(company.selected_catalog()).records()
    assert record["_sdc_deleted_at"] == "2024-03-01T12:00:03.000000Z"
