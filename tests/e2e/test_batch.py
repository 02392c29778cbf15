"""BATCH messages (batch_config): the same records as RECORD mode, in files, announced before each
source file's STATE."""

import gzip
import json
import urllib.parse

import pytest

from devtools import ddsdata
from tests.e2e.conftest import assert_clean_failure, shared_layout

VENDOR = ("RECORDNO,NAME,AMOUNT,ddsChangeType,ddsReadTime\n"
          "7,Acme,0100.50,update,2024-01-06 10:05:00\n"
          "8,Globex,12.00,delete,2024-01-06 10:06:00\n")


def batch_config(root, size=1000, compression="gzip", prefix="intacct-"):
    return {"encoding": {"format": "jsonl", "compression": compression},
            "storage": {"root": root, "prefix": prefix}, "batch_size": size}


def read_batch(url, compression="gzip"):
    path = urllib.parse.urlsplit(url).path
    opener = gzip.open if compression == "gzip" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [line.rstrip("\n") for line in lines]


def record_texts(run):
    """The record objects' JSON text, as RECORD messages carry them."""
    prefix_end = len('{"type":"RECORD","stream":')
    texts = []
    for line in run.stdout.splitlines():
        if line.startswith('{"type":"RECORD"'):
            texts.append(line[line.index(',"record":', prefix_end) + len(',"record":'):-1])
    return texts


def _exports(company):
    """Three GLENTRY files and a VENDOR file, their catalog and their sync in RECORD mode (exit
    0): (company, catalog path, run). The tests of this layout share one process."""
    for n in range(3):
        company.put(f"GLENTRY.change.{n}.csv", ddsdata.glentry_csv(25, 1 + 25 * n, seed=n),
                    modified=n)
    company.put("VENDOR.change.1.csv", VENDOR, modified=5)
    catalog = company.selected_catalog()
    plain = company.sync(catalog)
    assert plain.returncode == 0, plain.stderr
    return company, catalog, plain


EXPORTS = pytest.mark.xdist_group("batch exports")


@pytest.fixture
def exports(store, tmp_path_factory):
    return shared_layout(store, tmp_path_factory, _exports)


@EXPORTS
@pytest.mark.parametrize("size, compression", [(10, "gzip"), (1000, "none"), (25, "gzip")])
def test_batch_files_hold_exactly_the_records(exports, tmp_path, size, compression):
    company, catalog, plain = exports
    root = (tmp_path / "batches").as_uri()
    run = company.sync(catalog, config=company.config(
        batch_config=batch_config(root, size, compression)))
    assert run.returncode == 0, run.stderr
    kinds = [m["type"] for m in run.messages]
    assert "RECORD" not in kinds
    assert [m for m in run.messages if m["type"] != "BATCH"] == [
        m for m in plain.messages if m["type"] != "RECORD"]  # same SCHEMA and STATE messages
    texts = []
    for message in run.of_type("BATCH"):
        assert message["encoding"] == {"format": "jsonl", "compression": compression}
        [url] = message["manifest"]
        assert url.startswith(root + "/intacct-" + message["stream"] + "-")
        lines = read_batch(url, compression)
        assert 1 <= len(lines) <= size
        texts += lines
    assert texts == record_texts(plain)  # byte for byte
    # every source file's batches come before its STATE
    batches_before_state = []
    count = 0
    for message in run.messages:
        if message["type"] == "BATCH":
            count += len(read_batch(message["manifest"][0], compression))
        elif message["type"] == "STATE":
            batches_before_state.append(count)
    assert batches_before_state == [25, 50, 75, 77]


@EXPORTS
def test_file_names_are_unique_per_run_and_never_deleted(exports, tmp_path):
    company, catalog, _plain = exports
    config = company.config(batch_config=batch_config((tmp_path / "b").as_uri()))
    first, second = company.sync(catalog, config=config), company.sync(catalog, config=config)
    urls = [m["manifest"][0] for run in (first, second) for m in run.of_type("BATCH")]
    assert len(set(urls)) == len(urls) == 8
    assert len(list((tmp_path / "b").iterdir())) == 8


def test_a_bad_file_announces_what_record_mode_would_have_emitted(company, tmp_path):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n", modified=1)
    bad = company.put("GLENTRY.2.csv", b"RECORDNO\n2\n\xff\n", modified=2)
    company.put("GLENTRY.3.csv", "RECORDNO\n3\n", modified=3)
    catalog = company.selected_catalog(shared=True)
    plain = company.sync(catalog)
    run = company.sync(catalog, config=company.config(
        batch_config=batch_config((tmp_path / "b").as_uri())))
    assert_clean_failure(run, f"{bad}: line 3 is not valid UTF-8", code=1)
    texts = [line for m in run.of_type("BATCH") for line in read_batch(m["manifest"][0])]
    assert texts == record_texts(plain)
    assert run.last_state == plain.last_state  # bookmark before the bad file


@pytest.mark.parametrize("value, message", [
    ({"encoding": {"format": "parquet"}, "storage": {"root": "file:///tmp/x"}},
     "encoding.format must be \"jsonl\""),
    ({"encoding": {"format": "jsonl", "compression": "zstd"}, "storage": {"root": "file:///x"}},
     "encoding.compression must be"),
    ({"encoding": {"format": "jsonl"}, "storage": {"root": "/tmp/relative"}},
     "storage.root must be file:///absolute/folder or s3://bucket[/prefix]"),
    ({"encoding": {"format": "jsonl"}, "storage": {}}, "storage.root is required"),
    ({"encoding": {"format": "jsonl"}, "storage": {"root": "file:///x", "prefix": "a/b"}},
     "storage.prefix must be a file name prefix"),
    ({"encoding": {"format": "jsonl"}, "storage": {"root": "file:///x"}, "batch_size": 0},
     "batch_size must be a whole number"),
    ({"encoding": {"format": "jsonl"}, "storage": {"root": "file:///x"}, "batchsize": 5},
     "unknown key(s) batchsize"),
    ("not json", "'batch_config' must be an object"),
    ([], "'batch_config' must be an object"),
])
def test_batch_config_is_validated(company, value, message):
    run = company.tap("--discover", config=company.config(batch_config=value))
    assert_clean_failure(run, message, code=2)


@EXPORTS
def test_batch_config_as_json_text_with_string_size(exports, tmp_path):
    company, catalog, _plain = exports
    value = json.dumps(dict(batch_config((tmp_path / "b").as_uri()), batch_size="5"))
    run = company.sync(catalog, config=company.config(batch_config=value))
    assert run.returncode == 0, run.stderr
    assert len(run.of_type("BATCH")) == 3 * 5 + 1


@EXPORTS
def test_s3_root_uploads_the_files_with_default_credentials(exports, s3):
    company, catalog, plain = exports
    s3.create_bucket("staging")
    env = s3.tap_environment()
    env["AWS_ENDPOINT_URL_S3"] = s3.url  # boto3's own setting; the tap's endpoint_url is DDS's
    config = company.config(batch_config=batch_config("s3://staging/loads/"))
    run = company.tap("--catalog", catalog, config=config, env=env)
    assert run.returncode == 0, run.stderr
    texts = []
    for message in run.of_type("BATCH"):
        [url] = message["manifest"]
        assert url.startswith("s3://staging/loads/intacct-")
        body = s3.client.get_object(Bucket="staging", Key=url[len("s3://staging/"):])["Body"]
        texts += gzip.decompress(body.read()).decode().splitlines()
    assert texts == record_texts(plain)


def test_about_lists_batch(company):
    run = company.tap("--about", "--format", "json")
    about = json.loads(run.stdout)
    assert "batch" in about["capabilities"]
    assert "batch_config" in [s["name"] for s in about["settings"]]


@EXPORTS
def test_an_unwritable_batch_root_is_one_clear_line(exports, tmp_path):
    company, catalog, _plain = exports
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    run = company.sync(catalog, config=company.config(
        batch_config=batch_config((blocked / "batches").as_uri())))
    assert_clean_failure(run, "batch_config storage.root", "cannot create the folder", code=1)
    assert run.of_type("BATCH") == [] and run.records() == []
