"""Every file shape DDS can write is read right or refused loudly: delimiters, enclosures, header
rows, encryption, line ends and compression, on both stores, both engines, RECORD and BATCH mode;
and the setup check (`--test`)."""

import decimal
import gzip
import json
import urllib.parse

import pytest

from devtools.faultproxy import FaultProxy
from devtools.s3server import zipped
from tap_intacct.settings import knobs
from tests.e2e.conftest import T0, EmbeddedS3, assert_clean_failure, company_in

pytestmark = pytest.mark.stores("s3", "azure")
ENGINES = ["rows", "fast"] if knobs.fast_engine_installed() else ["rows"]

ROWS = [("1", "0100", "12.50", "Acme, Inc.", "2024-01-02 03:04:05"),
        ("2", "0200", "-7.25", "O'Brien \"Ltd\"", "2024-01-02 03:04:06"),
        ("3", "0300", "0.10", "multi\nline", "2024-01-02 03:04:07")]
HEADER = ("RECORDNO", "ACCOUNTNO", "AMOUNT", "NAME", "ddsReadTime")


def export(delimiter=",", quote='"', line_end="\n", header=True):
    """The rows as DDS writes them with these file attributes (values enclosed when needed)."""
    def enclosed(cell):
        if any(c in cell for c in (delimiter, quote, "\r", "\n")):
            return quote + cell.replace(quote, quote * 2) + quote
        return cell
    lines = ([HEADER] if header else []) + ROWS
    return "".join(delimiter.join(map(enclosed, line)) + line_end for line in lines).encode()


def expected_records():
    return [{"RECORDNO": int(r[0]), "ACCOUNTNO": r[1], "AMOUNT": r[2], "NAME": r[3],
             "ddsReadTime": r[4].replace(" ", "T") + ".000000Z"} for r in ROWS]


def run_engine(company, engine, *args, config=None):
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    return company.tap(*args, config=config, env=env)


def chosen(records):
    """The header's values of each record; AMOUNT as the digits the JSON text carried."""
    return [{key: str(record[key]) if key == "AMOUNT" else record[key] for key in HEADER}
            for record in records]


def exact_records(run, stream=None):
    """The records, numbers as Decimals with the digits of the JSON text."""
    records = []
    for line in run.stdout.splitlines():
        message = json.loads(line, parse_float=decimal.Decimal)
        if message["type"] == "RECORD" and stream in (None, message["stream"]):
            records.append(message["record"])
    return records


DIALECTS = [(";", '"', {}), (";", '"', {"delimiter": ";"}), ("\t", '"', {}),
            ("|", "'", {"quotechar": "'"}), (",", "'", {"quotechar": "'"}),
            (";", "'", {"delimiter": ";", "quotechar": "'"})]
PACKINGS = ["plain", "crlf", "cr", "gzip", "zip"]
_dialect_runs = {}


def dialect_stream(delimiter, quote, setting, packing):
    return f"D{DIALECTS.index((delimiter, quote, setting))}_{packing.upper()}"


def dialect_file(delimiter, quote, packing):
    """(file name suffix, body) of the export in this dialect and packing."""
    line_end = {"crlf": "\r\n", "cr": "\r"}.get(packing, "\n")
    data = export(delimiter, quote, line_end)
    if packing == "cr":  # a CR-only file keeps line ends inside values as they are
        data = data.replace(b"multi\nline", b"multi\rline")
    body = {"gzip": gzip.compress, "zip": zipped}.get(packing, lambda d: d)(data)
    return ".change.1" + {"gzip": ".csv.gz", "zip": ".zip"}.get(packing, ".csv"), body


def dialect_runs(store, tmp_path_factory, setting):
    """(catalog, {engine: (RECORD run, BATCH run)}) for every case of the matrix with these
    settings, each case one stream of one company: one discovery and, per engine, one run in
    RECORD and one in BATCH mode. Made once per test process (the cases of one setting are one
    xdist group): a discovery and four runs per case would be most of the suite's time."""
    key = (isinstance(store, EmbeddedS3), json.dumps(setting, sort_keys=True))
    if key not in _dialect_runs:
        workdir = tmp_path_factory.mktemp("dialects")
        company = company_in(store, workdir)
        for delimiter, quote, case_setting in DIALECTS:
            for packing in PACKINGS if case_setting == setting else ():
                suffix, body = dialect_file(delimiter, quote, packing)
                company.put(dialect_stream(delimiter, quote, setting, packing) + suffix, body)
        catalog = company.discover(**setting)
        catalog_path = company.selected_catalog(catalog)
        runs = {}
        for engine in ENGINES:
            batch_config = {"encoding": {"format": "jsonl", "compression": "gzip"},
                            "storage": {"root": (workdir / engine).as_uri()}}
            runs[engine] = (
                run_engine(company, engine, "--catalog", catalog_path,
                           config=company.config(**setting)),
                run_engine(company, engine, "--catalog", catalog_path,
                           config=company.config(**setting, batch_config=batch_config)))
        _dialect_runs[key] = catalog, runs
    return _dialect_runs[key]


@pytest.mark.parametrize("delimiter, quote, setting", [
    pytest.param(*dialect, marks=pytest.mark.xdist_group(f"dialects {dialect[2]}"))
    for dialect in DIALECTS])
@pytest.mark.parametrize("packing", PACKINGS)
def test_every_dialect_is_read_into_its_columns(store, tmp_path_factory, delimiter, quote,
                                                setting, packing):
    catalog, runs = dialect_runs(store, tmp_path_factory, setting)
    name = dialect_stream(delimiter, quote, setting, packing)
    [stream] = [s for s in catalog["streams"] if s["tap_stream_id"] == name]
    assert stream["schema"]["properties"]["AMOUNT"]["type"] == ["null", "number", "string"]
    expected = expected_records()
    if packing == "cr":
        expected[2]["NAME"] = "multi\rline"
    outputs = set()
    for engine in ENGINES:
        run, batched = runs[engine]
        assert run.returncode == 0, run.stderr
        assert chosen(exact_records(run, name)) == expected
        assert [r["_sdc_source_lineno"] for r in run.records(name)] == [2, 3, 4]
        outputs.add(run.stdout)
        assert batched.returncode == 0, batched.stderr
        [batch] = [m for m in batched.of_type("BATCH") if m["stream"] == name]
        path = urllib.parse.urlsplit(batch["manifest"][0]).path
        with gzip.open(path, "rt") as lines:
            assert [json.loads(line) for line in lines] == run.records(name)
    assert len(outputs) == 1  # both engines, byte for byte


# stream: (its second file, after a good one; what the error naming that file says)
OTHER_SHAPES = {
    "NOHEADER": (export(header=False), ["its first line is not a header row (cell 1 is '1'",
                                        "the export has no header row", "includeHeaders"]),
    "ARMORED": (b"-----BEGIN PGP MESSAGE-----\n\nhQEMA+x\n-----END PGP MESSAGE-----\n",
                ["PGP-encrypted", "Do not encrypt"]),
    "BINARYPGP": (b"\x85\x01\x0c\x03" + bytes(range(256)) * 8, ["PGP-encrypted"]),
    "MIXED": (b"RECORDNO;AMOUNT,NAME\n1;2,x\n", ["holds ',' and ';' outside quotes",
                                                  "set 'delimiter'"]),
    "DOTTED": (b"RECORDNO.AMOUNT\n1.12.50\n", ["looks '.'-delimited", "choose ',' or ';'"]),
}
_other_shape_runs = {}


def other_shape_runs(store, tmp_path_factory):
    """(discovery run, {engine: sync run}) of one company holding every case of OTHER_SHAPES,
    each case one stream (a good file, then the bad one): the tap stops each such stream on its
    own and goes on with the others, so one discovery and one sync per engine serve every case.
    Made once per test process (the cases are one xdist group)."""
    key = isinstance(store, EmbeddedS3)
    if key not in _other_shape_runs:
        company = company_in(store, tmp_path_factory.mktemp("shapes"))
        for stream, (bad, _fragments) in OTHER_SHAPES.items():
            company.put(f"{stream}.change.1.csv", export(), modified=0)
            company.put(f"{stream}.change.2.csv", bad, modified=60)
        discovered = company.tap("--discover")
        assert discovered.returncode == 0, discovered.stderr
        catalog_path = company.selected_catalog(json.loads(discovered.stdout))
        _other_shape_runs[key] = discovered, {
            engine: run_engine(company, engine, "--catalog", catalog_path) for engine in ENGINES}
    return _other_shape_runs[key]


def error_line(run, name):
    """The one error line naming file `name`."""
    [line] = [line for line in run.stderr.splitlines()
              if line.startswith("tap-intacct: error: ") and f"/{name}: " in line]
    return line


SHAPES_GROUP = pytest.mark.xdist_group("other shapes")


@SHAPES_GROUP
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("stream", OTHER_SHAPES)
def test_a_file_of_another_shape_stops_its_stream_naming_it(store, tmp_path_factory, engine,
                                                            stream):
    discovered, runs = other_shape_runs(store, tmp_path_factory)
    [schema] = [s for s in json.loads(discovered.stdout)["streams"] if s["tap_stream_id"] == stream]
    names = set(schema["schema"]["properties"])
    assert names >= set(HEADER)
    assert not names & {"1", "0100", "12.50", "-----BEGIN PGP MESSAGE-----"}
    run = runs[engine]
    assert_clean_failure(run, code=1)
    line = error_line(run, f"{stream}.change.2.csv")
    assert all(fragment in line for fragment in OTHER_SHAPES[stream][1]), line
    # the good file, nothing of the bad one
    assert chosen(exact_records(run, stream)) == expected_records()
    assert run.last_state["bookmarks"][stream]["modified_since"] == T0.isoformat()


@SHAPES_GROUP
def test_discovery_warns_about_a_headerless_file_and_uses_no_value_as_a_name(store,
                                                                            tmp_path_factory):
    discovered, _runs = other_shape_runs(store, tmp_path_factory)
    [warning] = [line for line in discovered.stderr.splitlines()
                 if "Discovery skipped" in line and "/NOHEADER." in line]
    assert "NOHEADER.change.2.csv" in warning and "not a header row" in warning


@pytest.mark.parametrize("engine", ENGINES)
def test_a_delimiter_setting_that_does_not_match_the_file_stops_its_stream(company, engine):
    company.put("GLENTRY.change.1.csv", export(";"))
    catalog = company.selected_catalog(shared=True)
    run = run_engine(company, engine, "--catalog", catalog,
                     config=company.config(delimiter=","))
    assert_clean_failure(run, "GLENTRY.change.1.csv: its header line is delimited by ';', not by "
                              "',' as the 'delimiter' setting says", code=1)
    assert run.records() == []


@pytest.mark.parametrize("setting, message", [
    ({"delimiter": "."}, "'delimiter' '.' cannot be read losslessly"),
    ({"delimiter": ";;"}, "'delimiter' must be one character of , ; | or a tab"),
    ({"quotechar": "`"}, "'quotechar' must be \" or '"),
])
def test_a_dialect_that_cannot_be_read_is_a_config_error(company, setting, message):
    run = company.tap("--discover", config=company.config(**setting))
    assert_clean_failure(run, message, code=2)


# ---- the setup check ---------------------------------------------------------------------------

def test_setup_check_all_good(company):
    company.put("GLENTRY.change.1.csv", export(), modified=0)
    company.put("VENDOR.all.1.csv", export(";"), modified=30)
    catalog = company.selected_catalog(streams=["GLENTRY"])
    run = company.tap("--test")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    lines = [line for line in run.stderr.splitlines() if line.startswith("test: ")]
    assert lines[1].startswith(f"test: GLENTRY: 1 file(s), newest {T0.isoformat()} (")
    assert lines[1].endswith(", delimiter ',', quote \", 5 column(s): ok")
    assert lines[2].endswith(", delimiter ';', quote \", 5 column(s): ok")
    assert lines[-1] == "test: all checks passed (2 object(s))"
    with_catalog = company.tap("--test", "--catalog", catalog)
    assert with_catalog.returncode == 0, with_catalog.stderr
    assert [m["type"] for m in with_catalog.messages] == ["SCHEMA", "RECORD"]
    assert chosen(exact_records(with_catalog, "GLENTRY")) == expected_records()[:1]


def test_setup_check_names_a_headerless_file(company):
    company.put("GLENTRY.change.1.csv", export(";"), modified=0)
    company.put("VENDOR.all.1.csv", export(header=False), modified=0)
    run = company.tap("--test")
    assert_clean_failure(run, "the setup check failed", code=1)
    assert "GLENTRY: 1 file(s)" in run.stderr and "delimiter ';'" in run.stderr
    assert ("VENDOR: 1 file(s)" in run.stderr and "PROBLEM: " in run.stderr
            and "VENDOR.all.1.csv: its first line is not a header row" in run.stderr)
    assert "FAILED: 1 of 2 object(s) have a problem" in run.stderr


def test_setup_check_of_an_empty_company_folder(company):
    company.put_key("other/GLENTRY.csv", export())
    run = company.tap("--test")
    assert_clean_failure(run, "FAILED: no DDS export files", "'path' and 'company_id'",
                         code=1)


@pytest.mark.stores("s3")
def test_setup_check_prints_the_policies_when_the_role_is_refused(company):
    company.put("GLENTRY.change.1.csv", export())
    with FaultProxy(company.server.port) as proxy:
        proxy.add(r"(?s)^POST /\n.*Action=AssumeRole", "status", status=403,
                  code="AccessDenied", times=float("inf"))
        run = company.tap("--test", config=company.config(
            sts_endpoint_url=proxy.url, account_id="123456789012", role_name="dds-reader",
            external_id="ext-secret-42"))
    assert_clean_failure(run, "cannot assume role", "the setup check failed", code=1)
    assert f'"Resource":"arn:aws:s3:::{company.bucket}/{company.prefix}*"' in run.stderr
    assert "arn:aws:iam::123456789012:role/dds-reader this trust policy" in run.stderr
    assert "ext-secret-42" not in run.stderr


@pytest.mark.stores("azure")
def test_setup_check_says_what_a_refused_account_key_needs(company):
    company.put("GLENTRY.change.1.csv", export())
    wrong_key = company.azurite.connection_string.replace("AccountKey=", "AccountKey=AAAA")
    run = company.tap("--test", config=company.config(azure_connection_string=wrong_key))
    assert_clean_failure(run, "the setup check failed", "copy a current connection string from "
                         "the storage account's Access keys", code=1)
    assert "Storage Blob Data Reader" not in run.stderr  # a key needs no role
