"""`make bench`: throughput, memory and S3 requests of the installed tap, against the in-run floor.

Everything runs on 127.0.0.1: an embedded S3 API (moto) is loaded with deterministic DDS-like
exports, and the installed `tap-intacct` runs as a subprocess (discover, then sync to /dev/null).
Figures are medians of BENCH_RUNS runs (default 3). Set BENCH_ROWS (default 1,000,000) and
BENCH_LARGE_ROWS (default 5,000,000; 0 skips that case) to change the sizes, BENCH_CASES (default
single,large,multi,small,listing,azure,odd-header,semicolon,encrypted) to choose the cases. The
azure case syncs the same BENCH_ROWS file from Azurite (installed by `make azurite`), beside the
S3 figures; the encrypted case the same file PGP-encrypted beside it plain. The single-file
cases run both engines (TAP_INTACCT_ENGINE=rows and fast): from the local file (in-process
sync_file, devtools/localsync.py) and through the S3 API, RECORD and BATCH mode.
"""

import csv
import datetime
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from devtools import ddsdata
from devtools.faultproxy import FaultProxy
from devtools.s3server import EmbeddedS3

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
LARGE_ROWS = int(os.environ.get("BENCH_LARGE_ROWS", "5000000"))
CASES = set(os.environ.get("BENCH_CASES",
                           "single,large,multi,small,listing,azure,odd-header,semicolon,"
                                          "encrypted").split(","))
CACHE = pathlib.Path(os.environ.get("BENCH_CACHE", ".bench"))
TAP = os.path.join(os.path.dirname(sys.executable), "tap-intacct")
T0 = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
FLOOR = r"""
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as source, open(sys.argv[2], "w") as out:
    rows = csv.reader(source)
    header = next(rows)
    for row in rows:
        out.write(json.dumps({"type": "RECORD", "stream": "GLENTRY",
                              "record": dict(zip(header, row))}) + "\n")
"""


def glentry_file(rows, seed=1):
    """A cached CSV of `rows` GLENTRY rows (41 columns), generated once."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"GLENTRY-{rows}-{seed}.csv"
    million = 1_000_000
    if not path.exists() and rows > million and rows % million == 0:
        # the same million rows repeated: same data shape, generated in seconds
        source = glentry_file(million, seed)
        with open(source, "rb") as first, open(path.with_suffix(".tmp"), "wb") as out:
            header = first.readline()
            body = first.read()
            out.write(header)
            for _ in range(rows // million):
                out.write(body)
        path.with_suffix(".tmp").rename(path)
    if not path.exists():
        chunk = 100_000
        with open(path.with_suffix(".tmp"), "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(ddsdata.GLENTRY_COLUMNS)
            for start in range(1, rows + 1, chunk):
                writer.writerows(ddsdata.glentry_rows(min(chunk, rows + 1 - start), start,
                                                      seed=seed + start))
        path.with_suffix(".tmp").rename(path)
    return path


# Reports the peak RSS of the command it runs. A small launcher process is needed: a child
# forked straight from this (large) process would count this process's pages as its own.
LAUNCHER = r"""
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print("peak-rss-kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def measured(command, env):
    """(seconds, peak RSS in MB, stderr) of a subprocess, stdout discarded."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    peak_kb = int(re.findall(r"peak-rss-kb (\d+)", result.stderr)[-1])
    return seconds, peak_kb / 1024, result.stderr


def s3_requests(stderr):
    found = re.findall(r"(?:S3|Azure) requests: (.*)", stderr)
    return found[-1] if found else "?"


class Tap:
    """Config, catalog and runs of the installed tap against one bucket/company."""

    def __init__(self, s3, bucket, workdir, endpoint=None, settings=None):
        self.env = s3.tap_environment()
        self.workdir = pathlib.Path(workdir)
        self.bucket = bucket
        self.config = self.workdir / "config.json"
        self.config.write_text(json.dumps(settings or {
            "start_date": "2024-01-01T00:00:00Z", "bucket": bucket, "company_id": "BENCH",
            "endpoint_url": endpoint or s3.url, "sts_endpoint_url": s3.url}))
        self.catalog = self.workdir / "catalog.json"

    def discover(self):
        seconds, rss, stderr = measured([TAP, "--config", str(self.config), "--discover"],
                                        self.env)
        output = subprocess.run([TAP, "--config", str(self.config), "--discover"],
                                capture_output=True, text=True, env=self.env, check=True).stdout
        catalog = json.loads(output)
        for stream in catalog["streams"]:
            stream["metadata"][0]["metadata"]["selected"] = True
        self.catalog.write_text(json.dumps(catalog))
        return seconds, rss, s3_requests(stderr)

    def batch_config(self):
        """A config writing BATCH messages (gzip JSONL) into a folder of the workdir."""
        settings = json.loads(self.config.read_text())
        settings["batch_config"] = {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": (self.workdir / "batches").resolve().as_uri()},
            "batch_size": 100_000}
        path = self.workdir / "batch-config.json"
        path.write_text(json.dumps(settings))
        return path

    def sync_batches(self):
        """A BATCH-mode sync; its batch files are removed afterwards (the disk stays small)."""
        config = self.batch_config()
        try:
            return measured([TAP, "--config", str(config), "--catalog", str(self.catalog)],
                            self.env)
        finally:
            shutil.rmtree(self.workdir / "batches", ignore_errors=True)

    def sync(self, state=None):
        command = [TAP, "--config", str(self.config), "--catalog", str(self.catalog)]
        if state is not None:
            path = self.workdir / "state.json"
            path.write_text(json.dumps(state))
            command += ["--state", str(path)]
        return measured(command, self.env)

    def final_state(self):
        output = subprocess.run([TAP, "--config", str(self.config), "--catalog",
                                 str(self.catalog)], capture_output=True, text=True,
                                env=self.env, check=True).stdout
        states = [line for line in output.splitlines() if line.startswith('{"type":"STATE"')]
        return json.loads(states[-1])["value"]


def median_runs(run, count=RUNS):
    results = [run() for _ in range(count)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def floor_seconds(path):
    command = [sys.executable, "-c", FLOOR, str(path), os.devnull]
    return median_runs(lambda: measured(command, dict(os.environ)))[0]


ENGINES = ("rows", "fast")


def local_case(path, rows, runs=RUNS):
    """Both engines on the local file (devtools.localsync: sync_file, RECORD lines to
    /dev/null), then one more run each hashing the output: the engines must agree."""
    seconds = {}
    for engine in ENGINES:
        command = [sys.executable, "-m", "devtools.localsync", str(path), engine]
        seconds[engine], rss, stderr = median_runs(lambda c=command: measured(c, _env()), runs)
        fallback = re.findall(r"fast engine: .*", stderr)
        print(f"local file, {engine + ' engine:':13} {seconds[engine]:.2f}s = "
              f"{rows / seconds[engine]:,.0f} records/s, peak RSS {rss:.0f} MB"
              + (f" ({fallback[-1]})" if fallback and engine == "fast" else ""))
    digests = {engine: _digest(path, engine) for engine in ENGINES}
    print(f"local file, fast/rows: {seconds['rows'] / seconds['fast']:.2f}x; output "
          f"{'identical' if len(set(digests.values())) == 1 else 'DIFFERENT'} "
          f"(sha256 {digests['rows'][:16]}...)")
    return seconds


def semicolon_case():
    """The same rows as a ';'-delimited export (delimiter found in the header line): both
    engines, local file, beside the comma file in the same run (issue 16: within 10%)."""
    comma = glentry_file(ROWS)
    path = CACHE / f"GLENTRY-{ROWS}-semicolon.csv"
    if not path.exists():
        with open(comma, newline="", encoding="utf-8") as source, open(
                path.with_suffix(".tmp"), "w", newline="", encoding="utf-8") as out:
            csv.writer(out, delimiter=";", lineterminator="\n").writerows(csv.reader(source))
        path.with_suffix(".tmp").rename(path)
    seconds = {}
    for label, file in (("comma", comma), ("semicolon", path)):
        print(f"{label} file ({ROWS:,} rows, local file):")
        seconds[label] = local_case(file, ROWS)
    for engine in ENGINES:
        ratio = seconds["comma"][engine] / seconds["semicolon"][engine]
        print(f"{engine} engine: ';' file at {ratio:.1%} of the comma file's throughput")


def odd_header_case(workdir, rows=200_000):
    """A header the fast engine cannot follow (a stray quote inside a name, which Python's csv
    reader keeps as part of the name): it must hand the file to the row path at once and cost
    about what the row path costs (issue 15)."""
    path = os.path.join(workdir, "odd-header.csv")
    with open(glentry_file(ROWS), "rb") as source, open(path, "wb") as out:
        out.write(source.readline().replace(b"RECORDNO,", b'RECORDNO,SIZE"IN,', 1))
        for _ in range(min(rows, ROWS)):
            out.write(source.readline())
    print(f"stray quote in the header ({rows:,} rows, local file):")
    local_case(path, rows)


def _env(engine=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.getcwd()
    if engine:
        env["TAP_INTACCT_ENGINE"] = engine
    return env


def _digest(path, engine):
    command = [sys.executable, "-m", "devtools.localsync", str(path), engine, "sha256"]
    result = subprocess.run(command, env=_env(), capture_output=True, text=True, check=True)
    return re.findall(r"sha256 (\w+)", result.stderr)[-1]


def single_file_case(s3, workdir, rows, runs=RUNS):
    path = glentry_file(rows)
    megabytes = path.stat().st_size / 1e6
    print(f"\n## {rows:,} rows, one GLENTRY file ({megabytes:,.0f} MB, 41 columns)")
    local_case(path, rows, runs)
    bucket = f"bench-single-{rows}"
    s3.create_bucket(bucket)
    with open(path, "rb") as body:
        s3.client.put_object(Bucket=bucket, Key="BENCH/GLENTRY.all.1.csv", Body=body)
    s3.set_last_modified(bucket, "BENCH/GLENTRY.all.1.csv", T0)
    tap = Tap(s3, bucket, workdir)
    discover = tap.discover()
    print(f"discover: {discover[0]:.2f}s, peak RSS {discover[1]:.0f} MB, S3 {discover[2]}")
    synced = {}
    for engine in ENGINES:
        tap.env["TAP_INTACCT_ENGINE"] = engine
        seconds, rss, stderr = synced[engine] = median_runs(tap.sync, runs)
        batch_seconds, batch_rss, _ = median_runs(tap.sync_batches, runs)
        print(f"sync, {engine + ' engine:':13} {seconds:.2f}s = {rows / seconds:,.0f} records/s, "
              f"{megabytes / seconds:.1f} MB/s, peak RSS {rss:.0f} MB, S3 {s3_requests(stderr)}")
        print(f"BATCH, {engine + ' engine:':12} {batch_seconds:.2f}s = "
              f"{rows / batch_seconds:,.0f} records/s ({seconds / batch_seconds:.0%} of RECORD "
              f"mode; gzip JSONL files), peak RSS {batch_rss:.0f} MB")
    print(f"sync through S3, fast/rows: {synced['rows'][0] / synced['fast'][0]:.2f}x")
    floor = floor_seconds(path)
    print(f"floor:    {floor:.2f}s = {rows / floor:,.0f} records/s (csv.reader + json.dumps, "
          "untyped, local file)")
    print(f"tap/floor: rows engine {floor / synced['rows'][0]:.0%}, fast engine "
          f"{floor / synced['fast'][0]:.0%}")
    s3.client.delete_object(Bucket=bucket, Key="BENCH/GLENTRY.all.1.csv")


def azure_single_file_case(workdir, rows, runs=RUNS):
    """The single-file case's sync, from Azurite (reached directly: the test harness's
    Last-Modified proxy would hold whole bodies in memory)."""
    from devtools.azuriteserver import EmbeddedAzurite, connection_string
    path = glentry_file(rows)
    with EmbeddedAzurite() as azurite:
        azurite.create_container("bench-single")
        with open(path, "rb") as body:
            azurite.client.get_blob_client("bench-single", "BENCH/GLENTRY.all.1.csv").upload_blob(
                body, overwrite=True, max_concurrency=2)
        tap = Tap(azurite, None, workdir, settings={
            "start_date": "2024-01-01T00:00:00Z", "storage": "azure", "container": "bench-single",
            "company_id": "BENCH",
            "azure_connection_string": connection_string(azurite.direct_url)})
        discover = tap.discover()
        seconds, rss, stderr = median_runs(tap.sync, runs)
    megabytes = path.stat().st_size / 1e6
    print(f"\n## Azure (Azurite {azurite.version}): {rows:,} rows, the same GLENTRY file")
    print(f"discover: {discover[0]:.2f}s, peak RSS {discover[1]:.0f} MB, Azure {discover[2]}")
    print(f"sync:     {seconds:.2f}s = {rows / seconds:,.0f} records/s, "
          f"{megabytes / seconds:.1f} MB/s, peak RSS {rss:.0f} MB, Azure {s3_requests(stderr)}")


def encrypted_case(s3, workdir, rows, runs=RUNS):
    """The single-file case's file PGP-encrypted (binary, to a key made here, as pysequoia
    writes it) beside the same file plain: records/s and peak RSS of both, both engines
    (README "Encrypted exports")."""
    import pysequoia
    path = glentry_file(rows)
    secret = pysequoia.Tsk.generate("Bench <bench@example.com>")
    encrypted = pathlib.Path(workdir) / "GLENTRY.pgp"
    pysequoia.encrypt_file(input=str(path), output=str(encrypted),
                           recipients=[secret.extract_certificate()], armor=False)
    megabytes = path.stat().st_size / 1e6
    print(f"\n## PGP-encrypted: {rows:,} rows, one GLENTRY file ({megabytes:,.0f} MB plain, "
          f"{encrypted.stat().st_size / 1e6:,.0f} MB encrypted)")
    taps = {}
    for kind, body_path in (("plain", path), ("encrypted", encrypted)):
        bucket = f"bench-{kind}-{rows}"
        s3.create_bucket(bucket)
        with open(body_path, "rb") as body:
            s3.client.put_object(Bucket=bucket, Key="BENCH/GLENTRY.all.1.csv", Body=body)
        s3.set_last_modified(bucket, "BENCH/GLENTRY.all.1.csv", T0)
        os.makedirs(os.path.join(workdir, kind), exist_ok=True)
        taps[kind] = Tap(s3, bucket, os.path.join(workdir, kind), settings={
            "start_date": "2024-01-01T00:00:00Z", "bucket": bucket, "company_id": "BENCH",
            "endpoint_url": s3.url, "sts_endpoint_url": s3.url,
            **({"pgp_private_key": str(secret)} if kind == "encrypted" else {})})
        taps[kind].discover()
    outputs = set()
    for engine in ENGINES:
        for kind, tap in taps.items():
            tap.env["TAP_INTACCT_ENGINE"] = engine
            seconds, rss, _ = median_runs(tap.sync, runs)
            print(f"sync, {engine} engine, {kind + ':':10} {seconds:.2f}s = "
                  f"{rows / seconds:,.0f} records/s, peak RSS {rss:.0f} MB")
            outputs.add(_record_digest(tap))
    print(f"records of the encrypted file: {'identical' if len(outputs) == 1 else 'DIFFERENT'} "
          "to the plain file's (both engines)")
    for tap in taps.values():
        s3.client.delete_object(Bucket=tap.bucket, Key="BENCH/GLENTRY.all.1.csv")


def _record_digest(tap):
    """A digest of a sync's RECORD messages without the bucket name."""
    import hashlib
    output = subprocess.run([TAP, "--config", str(tap.config), "--catalog", str(tap.catalog)],
                            capture_output=True, text=True, env=tap.env, check=True).stdout
    digest = hashlib.sha256()
    for line in output.splitlines():
        if line.startswith('{"type":"RECORD"'):
            digest.update(re.sub(r'"_sdc_source_bucket":"[^"]*"', "", line).encode())
    return digest.hexdigest()


def small_files_case(s3, workdir, tables=4, per_table=100, rows_per_file=1_000):
    """Many small files (DDS change exports are mostly small): 400 files of 1,000 rows over 4
    tables, both engines through the S3 API."""
    bucket = "bench-small"
    s3.create_bucket(bucket)
    for table_number, table in enumerate(("GLENTRY", "APBILL", "CUSTOMER", "VENDOR")[:tables]):
        for n in range(per_table):
            first = 1 + rows_per_file * n
            text = (ddsdata.glentry_csv(rows_per_file, first, seed=n) if table == "GLENTRY"
                    else ddsdata.customer_csv(rows_per_file, first, seed=n))
            s3.put(bucket, f"BENCH/{table}.change.{n:04d}.csv", text,
                   last_modified=T0 + datetime.timedelta(minutes=n, seconds=table_number))
    tap = Tap(s3, bucket, workdir)
    tap.discover()
    rows = tables * per_table * rows_per_file
    print(f"\n## many small files: {tables * per_table} files of {rows_per_file:,} rows in "
          f"{tables} tables")
    seconds = {}
    for engine in ENGINES:
        tap.env["TAP_INTACCT_ENGINE"] = engine
        seconds[engine], rss, stderr = median_runs(tap.sync)
        print(f"sync, {engine + ' engine:':13} {seconds[engine]:.2f}s = "
              f"{rows / seconds[engine]:,.0f} records/s, peak RSS {rss:.0f} MB, "
              f"S3 {s3_requests(stderr)}")
    tap.env.pop("TAP_INTACCT_ENGINE")
    print(f"small files, fast/rows: {seconds['rows'] / seconds['fast']:.2f}x")


def multi_file_case(s3, workdir):
    bucket = "bench-multi"
    s3.create_bucket(bucket)
    files = rows = size = 0
    for table_number, table in enumerate(("GLENTRY", "APBILL", "CUSTOMER", "VENDOR")):
        for n in range(25):
            if table == "GLENTRY":
                text = ddsdata.glentry_csv(10_000, 1 + 10_000 * n, seed=n)
            else:
                text = ddsdata.customer_csv(10_000, 1 + 10_000 * n, seed=n)
            key = f"BENCH/{table}.change.{n:03d}.csv"
            s3.put(bucket, key, text, last_modified=T0 + datetime.timedelta(
                minutes=n, seconds=table_number))
            files, rows, size = files + 1, rows + 10_000, size + len(text.encode())
    tap = Tap(s3, bucket, workdir)
    discover = tap.discover()
    print(f"\n## {files} files in 4 tables, {rows:,} rows ({size / 1e6:.0f} MB)")
    print(f"discover: {discover[0]:.2f}s, S3 {discover[2]}")
    for engine in ENGINES:
        tap.env["TAP_INTACCT_ENGINE"] = engine
        seconds, rss, stderr = median_runs(tap.sync)
        print(f"sync, {engine + ' engine:':13} {seconds:.2f}s = {rows / seconds:,.0f} records/s, "
              f"peak RSS {rss:.0f} MB, S3 {s3_requests(stderr)}")
    tap.env.pop("TAP_INTACCT_ENGINE")

    with FaultProxy(s3.port) as proxy:
        proxied = Tap(s3, bucket, pathlib.Path(workdir) / "slow", endpoint=proxy.url)
        proxied.catalog.write_text(tap.catalog.read_text())
        direct_seconds = median_runs(proxied.sync)[0]
        latency = 0.1
        proxy.add(r"^GET ", "delay", seconds=latency, times=float("inf"))
        slow_seconds, _, slow_stderr = median_runs(proxied.sync)
    requests = slow_stderr.count("record(s), ")
    print(f"through a proxy on 127.0.0.1: {direct_seconds:.2f}s; with {latency * 1000:.0f} ms "
          f"added to every GET ({requests} GETs, {requests * latency:.1f}s if paid one after "
          f"another): {slow_seconds:.2f}s, +{slow_seconds - direct_seconds:.2f}s")


def listing_case(s3, workdir, tables=100, per_table=200):
    bucket = "bench-listing"
    s3.create_bucket(bucket)
    backend = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
    for t in range(tables):
        for n in range(per_table):
            key = f"BENCH/T{t:03d}.change.{n:04d}.csv"
            backend.put_object(bucket, key, b"RECORDNO,NAME\n1,x\n")
            backend.buckets[bucket].keys[key].last_modified = (
                T0 + datetime.timedelta(seconds=n)).replace(tzinfo=None)
    tap = Tap(s3, bucket, workdir)
    discover = tap.discover()
    state = tap.final_state()
    seconds, rss, stderr = median_runs(lambda: tap.sync(state))
    objects = tables * per_table
    print(f"\n## listing scale: {tables} tables x {per_table} files = {objects:,} objects")
    print(f"discover:          {discover[0]:.2f}s, S3 {discover[2]}")
    print(f"no-op incremental: {seconds:.2f}s, peak RSS {rss:.0f} MB, S3 {s3_requests(stderr)}")


def main():
    print(f"tap-intacct benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} cores, medians of {RUNS} runs")
    with EmbeddedS3() as s3, tempfile.TemporaryDirectory() as workdir:
        for name in ("single", "large", "multi", "listing"):
            os.makedirs(os.path.join(workdir, name, "slow"), exist_ok=True)
        for name in ("azure",):
            os.makedirs(os.path.join(workdir, name), exist_ok=True)
        if "single" in CASES:
            single_file_case(s3, os.path.join(workdir, "single"), ROWS)
        if "azure" in CASES:
            azure_single_file_case(os.path.join(workdir, "azure"), ROWS)
        if LARGE_ROWS and "large" in CASES:
            single_file_case(s3, os.path.join(workdir, "large"), LARGE_ROWS, runs=1)
        if "multi" in CASES:
            multi_file_case(s3, os.path.join(workdir, "multi"))
        if "small" in CASES:
            os.makedirs(os.path.join(workdir, "small"), exist_ok=True)
            small_files_case(s3, os.path.join(workdir, "small"))
        if "listing" in CASES:
            listing_case(s3, os.path.join(workdir, "listing"))
        if "encrypted" in CASES:
            os.makedirs(os.path.join(workdir, "encrypted"), exist_ok=True)
            encrypted_case(s3, os.path.join(workdir, "encrypted"), ROWS)
        if "semicolon" in CASES:
            semicolon_case()
        if "odd-header" in CASES:
            odd_header_case(workdir)


if __name__ == "__main__":
    main()
