"""Inputs found by trying the tap as a hostile user would: a file cut inside a UTF-8 character (it
once made the sync spin forever), a header the fast engine cannot follow, stream names that
clean to the same batch file name, and date-times at the ends of the calendar. Both stores, both
engines where the engine matters."""

import datetime
import gzip
import json
import os

import pytest

from tap_intacct.settings import knobs
from tests.e2e.conftest import T0, assert_clean_failure, shared_layout

pytestmark = pytest.mark.stores("s3", "azure")
ENGINES = ["rows", "fast"] if knobs.fast_engine_installed() else ["rows"]
GOOD = "RECORDNO,NOTE\n1,first\n2,second\n"


def run_engine(company, engine, *args, config=None, env=None):
    env = env or company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    return company.tap(*args, config=config, env=env, timeout=60)


CUT = b"RECORDNO,NOTE\n3,a\n4,\xe2\x82"  # the upload stopped inside a 3-byte character
CUT_STREAMS = {".csv": "CUTCSV", ".csv.gz": "CUTGZ"}


def _cut_files(company):
    """Per suffix, a stream of a good file then one cut inside a character; one discovery and a
    sync per engine: (company, {engine: run})."""
    for suffix, stream in CUT_STREAMS.items():
        company.put(f"{stream}.change.1.csv", GOOD, modified=0)
        company.put(f"{stream}.change.2" + suffix,
                    gzip.compress(CUT) if suffix == ".csv.gz" else CUT, modified=60)
    catalog = company.selected_catalog()
    return company, {engine: run_engine(company, engine, "--catalog", catalog)
                     for engine in ENGINES}


@pytest.mark.xdist_group("files cut inside a character")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_file_cut_inside_a_character_stops_its_stream_after_its_records(store, tmp_path_factory,
                                                                         engine, suffix):
    company, runs = shared_layout(store, tmp_path_factory, _cut_files)
    run, stream = runs[engine], CUT_STREAMS[suffix]
    assert_clean_failure(run, f"{company.prefix}{stream}.change.2{suffix}: line 3 is not valid "
                              "UTF-8 (byte 0xe2)", code=1)
    assert [r["RECORDNO"] for r in run.records(stream)] == [1, 2, 3]
    assert run.last_state["bookmarks"][stream]["modified_since"] == T0.isoformat()


def test_a_stray_quote_in_a_header_name_is_read_alike_by_both_engines(company):
    header = 'RECORDNO,SIZE"IN,AMOUNT\n'
    company.put("ITEM.all.1.csv", header + "".join(f"{n},{n % 9},{n}.50\n"
                                                    for n in range(1, 3001)))
    catalog = company.selected_catalog(shared=True)
    runs = [run_engine(company, engine, "--catalog", catalog) for engine in ENGINES]
    for run in runs:
        assert run.returncode == 0, run.stderr
        records = run.records()
        assert len(records) == 3000 and records[-1]['SIZE"IN'] == 3000 % 9
    assert len({run.stdout for run in runs}) == 1
    if "fast" in ENGINES:
        assert "fast engine not used" in runs[1].stderr


def _two_streams_that_clean_alike(company):
    company.put("GL ENTRY.change.1.csv", "RECORDNO,WHO\n1,space\n2,space\n", modified=0)
    company.put("GL_ENTRY.change.1.csv", "RECORDNO,WHO\n7,underscore\n", modified=0)
    return company.selected_catalog(shared=True)


def _batch_config(root):
    return {"encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": root, "prefix": "x-"}, "batch_size": 1000}


def _records_by_stream(run, read):
    found = {}
    for message in run.of_type("BATCH"):
        for url in message["manifest"]:
            found.setdefault(message["stream"], []).extend(
                json.loads(line) for line in gzip.decompress(read(url)).splitlines())
    return {stream: sorted(r["WHO"] for r in records) for stream, records in found.items()}


EXPECTED = {"GL ENTRY": ["space", "space"], "GL_ENTRY": ["underscore"]}


def test_streams_whose_names_clean_alike_get_their_own_batch_files(company, tmp_path):
    catalog = _two_streams_that_clean_alike(company)
    root = (tmp_path / "batches").as_uri()
    for _run in range(2):  # a second run into the same folder must work too
        run = company.sync(catalog, config=company.config(batch_config=_batch_config(root)))
        assert run.returncode == 0, run.stderr
        assert _records_by_stream(
            run, lambda url: open(url[len("file://"):], "rb").read()) == EXPECTED


def test_an_s3_batch_root_keeps_both_streams_and_no_staging_folder(company, s3, tmp_path):
    catalog = _two_streams_that_clean_alike(company)
    s3.create_bucket("staging-clean")
    env = {**company.server.tap_environment(), **s3.tap_environment()}
    env["AWS_ENDPOINT_URL_S3"] = s3.url  # boto3's own setting for the loader's bucket
    env["TMPDIR"] = str(tmp_path / "tmp")
    os.mkdir(env["TMPDIR"])
    run = company.tap("--catalog", catalog, env=env, config=company.config(
        batch_config=_batch_config("s3://staging-clean/loads")))
    assert run.returncode == 0, run.stderr
    urls = [url for m in run.of_type("BATCH") for url in m["manifest"]]
    assert len(set(urls)) == len(urls) == 2

    def read(url):
        return s3.client.get_object(Bucket="staging-clean",
                                    Key=url[len("s3://staging-clean/"):])["Body"].read()
    assert _records_by_stream(run, read) == EXPECTED
    assert os.listdir(env["TMPDIR"]) == []  # the local staging folder is gone


@pytest.mark.parametrize("start_date, message", [
    ("9999-12-31T23:59:59-05:00", "'start_date' '9999-12-31T23:59:59-05:00' is after "
                                  "9999-12-31T23:59:59.999999Z"),
])
def test_a_start_date_past_the_calendar_is_one_config_line(company, start_date, message):
    company.put("GLENTRY.change.1.csv", GOOD)
    run = company.tap("--discover", config=company.config(start_date=start_date))
    assert_clean_failure(run, message, code=2)


@pytest.mark.parametrize("config", [{"start_date": "0001-01-01T00:00:00+05:00"},
                                    {"start_date": "0001-01-01T00:00:00Z",
                                     "lookback_seconds": 86400}])
def test_a_start_date_before_year_one_in_utc_reads_everything(company, config):
    company.put("GLENTRY.change.1.csv", GOOD)
    run = company.sync(company.selected_catalog(shared=True), config=company.config(**config))
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 2


@pytest.mark.parametrize("bookmark, outcome", [
    ({"modified_since": "9999-12-31T23:59:59-05:00"},
     "state: bookmarks.GLENTRY.modified_since is out of range"),
    ({"modified_since": "0001-01-01T00:00:00Z"}, 2),
    ({"modified_since": "0001-01-01T00:00:00+01:00",
      "synced_keys": {"x": "0001-01-01T00:00:00+01:00"}}, 2),
    ({"modified_since": "9999-12-31T23:00:00Z",
      "synced_keys": {"x": "9999-12-31T23:59:59-05:00"}},
     "state: bookmarks.GLENTRY.synced_keys holds a value that is out of range"),
])
def test_state_date_times_at_the_ends_of_the_calendar(company, bookmark, outcome):
    company.put("GLENTRY.change.1.csv", GOOD)
    catalog = company.selected_catalog(shared=True)
    config = company.config(lookback_seconds=86400)
    run = company.sync(catalog, state={"bookmarks": {"GLENTRY": bookmark}}, config=config)
    if isinstance(outcome, str):
        assert_clean_failure(run, outcome, code=2)
        assert run.stdout == ""
    else:
        assert run.returncode == 0, run.stderr
        assert len(run.records()) == outcome
        moment = run.last_state["bookmarks"]["GLENTRY"]["modified_since"]
        assert datetime.datetime.fromisoformat(moment) == T0


def test_a_hand_edited_schema_with_a_string_alternative_gets_the_right_advice(company):
    company.put("VENDOR.all.1.csv", "RECORDNO,ACTIVE\n1,true\n2,no\n")
    catalog = company.discover(shared=True)
    [stream] = catalog["streams"]
    stream["schema"]["properties"]["ACTIVE"] = {"type": ["null", "boolean", "string"]}
    run = company.sync(company.selected_catalog(catalog), config=company.config(
        string_fallback=False))
    assert_clean_failure(run, "VENDOR.all.1.csv: line 3, column ACTIVE", code=1)
    assert "would change this text" in run.stderr
    assert "give the column a string fallback" not in run.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_a_date_time_past_year_9999_in_utc_is_named_as_such_without_blaming_a_hand_edit(
        company, engine):
    """Discovery and sync share one reading of a date-time: '9999-12-31T23:00:00-05:00' is no
    date-time (it leaves the calendar in UTC) for either. Sampled, it keeps the column a string;
    missed by the sample of a strict (string_fallback off) discovery, it stops the stream with
    the true reason, never 'edited by hand?' for discovery's own catalog."""
    edge = "9999-12-31T23:00:00-05:00"
    rows = [f"{n},2024-01-0{n % 9 + 1}T10:00:00Z\n" for n in range(1, 12)]
    company.put("GLENTRY.all.1.csv", "RECORDNO,WHEN\n" + "".join(rows[:2]) + f"3,{edge}\n"
                + "".join(rows[3:]))
    company.put("VENDOR.all.1.csv", f"RECORDNO,WHEN\n1,{edge}\n2,2024-01-02T10:00:00Z\n")
    strict = company.config(string_fallback=False)
    catalog = company.discover(shared=True, string_fallback=False)
    schemas = {s["tap_stream_id"]: s["schema"]["properties"]["WHEN"] for s in catalog["streams"]}
    assert schemas["GLENTRY"] == {"type": ["null", "string"], "format": "date-time"}
    assert schemas["VENDOR"] == {"type": ["null", "string"]}
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    run = company.tap("--catalog", company.selected_catalog(catalog), config=strict, env=env)
    assert_clean_failure(run, f"GLENTRY.all.1.csv: line 4, column WHEN: '{edge}' falls outside "
                              "years 1 to 9999 once converted to UTC", "string_fallback", code=1)
    assert "edited by hand" not in run.stderr
    assert [r["WHEN"] for r in run.records("VENDOR")] == [edge, "2024-01-02T10:00:00Z"]
