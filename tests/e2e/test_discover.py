"""Discovery against real S3 and Azure Blob APIs: streams, schemas, metadata, what is and is
not a data file."""

import json

import pytest

from tests.e2e.conftest import ARCHIVE_NOTES, T0, assert_clean_failure

pytestmark = pytest.mark.stores("s3", "azure")

GL_OLD = "RECORDNO,ACCOUNTNO,AMOUNT,OLDCOL\n1,0100,12.50,x\n"
GL_NEW = ("RECORDNO,ACCOUNTNO,AMOUNT,ENTRY_DATE,WHENMODIFIED,MEMO,NEWCOL\n"
          "2,1000,-3.10,2024-01-02,2024-01-02T03:04:05Z,hello,1\n"
          "3,2000,7,,2024-01-03T00:00:00Z,,2\n")


def properties(catalog, stream):
    [entry] = [s for s in catalog["streams"] if s["tap_stream_id"] == stream]
    return entry["schema"]["properties"]


def test_catalog_streams_schema_and_metadata(company):
    company.put("VENDOR.all.1.csv", "RECORDNO,VENDORID\n1,V-1\n", modified=5)
    company.put("GLENTRY.all.1.csv", GL_OLD, modified=10)
    company.put("GLENTRY.change.2.csv", GL_NEW, modified=20)
    company.put("CUSTOMER.csv", "CUSTOMERID,NAME\nC-1,Acme\n", modified=5)
    catalog = company.discover()

    assert [s["tap_stream_id"] for s in catalog["streams"]] == ["CUSTOMER", "GLENTRY", "VENDOR"]
    assert all(s["stream"] == s["tap_stream_id"] for s in catalog["streams"])
    gl = properties(catalog, "GLENTRY")
    assert gl["RECORDNO"] == {"type": ["null", "integer", "string"]}
    assert gl["ACCOUNTNO"] == {"type": ["null", "string"]}  # "0100" keeps it a string
    assert gl["AMOUNT"] == {"type": ["null", "number", "string"]}
    assert gl["ENTRY_DATE"]["anyOf"][0] == {"type": ["null", "string"], "format": "date-time"}
    assert gl["OLDCOL"] == {"type": ["null", "string"]} and "NEWCOL" in gl  # union of headers
    assert gl["_sdc_source_lineno"] == {"type": "integer"}
    assert gl["_sdc_extra"] == {"type": "array", "items": {"type": "string"}}

    [glentry] = [s for s in catalog["streams"] if s["tap_stream_id"] == "GLENTRY"]
    root = glentry["metadata"][0]
    assert root["breadcrumb"] == []
    assert root["metadata"]["table-key-properties"] == ["RECORDNO"]
    assert root["metadata"]["forced-replication-method"] == "INCREMENTAL"
    fields = {m["breadcrumb"][1]: m["metadata"] for m in glentry["metadata"][1:]}
    assert fields["RECORDNO"]["inclusion"] == "automatic"
    assert fields["_sdc_source_bucket"]["inclusion"] == "automatic"
    assert fields["MEMO"] == {"inclusion": "available", "selected-by-default": True}
    [customer] = [s for s in catalog["streams"] if s["tap_stream_id"] == "CUSTOMER"]
    assert customer["metadata"][0]["metadata"]["table-key-properties"] == []


def test_files_before_start_date_do_not_shape_the_schema(company):
    company.put("GLENTRY.1.csv", "RECORDNO,ANCIENT\n1,x\n", modified=-86400 * 400)
    company.put("GLENTRY.2.csv", "RECORDNO,AMOUNT\n1,1.5\n", modified=0)
    gl = properties(company.discover(start_date=(T0.replace(year=2023)).isoformat()), "GLENTRY")
    assert "ANCIENT" not in gl and "AMOUNT" in gl


def test_only_direct_data_files_of_this_company(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    company.put("archive/OLD.csv", "RECORDNO\n1\n")  # sub-folder: not an export
    company.put("manifest.json", "{}")
    company.put("EMPTY.csv", "")
    company.put("FROZEN.csv", "RECORDNO\n1\n", storage_class="GLACIER")
    company.put_key(f"{company.path}/ACMEX/OTHERCO.csv", "RECORDNO\n1\n")
    run = company.tap("--discover")
    assert run.returncode == 0, run.stderr
    names = [s["tap_stream_id"] for s in json.loads(run.stdout)["streams"]]
    assert names == ["GLENTRY"]
    assert "EMPTY.csv: it is empty" in run.stderr
    assert f"FROZEN.csv: {ARCHIVE_NOTES[company.archived]}" in run.stderr


def test_one_listing_and_ranged_reads_only(company):
    for n in range(3):
        company.put(f"GLENTRY.{n}.csv", "RECORDNO,AMOUNT\n" + "1,2.5\n" * 20000, modified=n)
    company.clear_requests()
    company.discover()
    lists = [line for line in company.request_lines() if "list-type=2" in line]
    assert len(lists) == 1
    gets = [line for line in company.request_lines()
            if line.startswith("GET") and "GLENTRY." in line]
    assert len(gets) == 3 and all(line.endswith(" 206") for line in gets)  # ranged reads


def test_no_data_files_is_a_clear_error(company):
    company.put("notes.txt", "hello")
    run = company.tap("--discover")
    assert_clean_failure(run, "no DDS export files", company.location())


@pytest.mark.stores("s3")
def test_missing_bucket_names_bucket_and_prefix(company):
    run = company.tap("--discover", config=company.config(bucket="no-such-bucket-here"))
    assert_clean_failure(run, "s3://no-such-bucket-here/", "NoSuchBucket", "check 'bucket'")


@pytest.mark.stores("s3")  # the same code reads both stores; 2,000 uploads are quicker here
def test_a_column_of_one_file_among_thousands_is_found(company):
    for n in range(2000):
        extra = (",ONLY_HERE", ",x") if n == 1234 else ("", "")
        company.put(f"GLENTRY.change.{n:04d}.csv", f"RECORDNO,NAME{extra[0]}\n{n},a{extra[1]}\n",
                    modified=n)
    gl = properties(company.discover(), "GLENTRY")
    assert "ONLY_HERE" in gl  # neither the newest file nor a sampled one
    assert list(gl)[:2] == ["RECORDNO", "NAME"]  # the newest file's column order first


def test_a_header_longer_than_the_first_read_is_read_whole(company):
    wide = [f"COLUMN_{n:05d}" for n in range(3000)]  # about 36 KB of header
    company.put("GLENTRY.0.csv", ",".join(wide) + "\n" + ",".join("1" * 3000) + "\n", modified=0)
    for n in range(1, 7):  # newer files: the wide one is not sampled, its header alone is read
        company.put(f"GLENTRY.{n}.csv", "RECORDNO\n1\n", modified=n)
    gl = properties(company.discover(), "GLENTRY")
    assert "COLUMN_02999" in gl and "COLUMN_02999__2" not in gl
