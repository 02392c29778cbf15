"""`make bench-state`: what a run costs as a company folder grows (README, "Sync, state and
bookmarks"): STATE output, listing memory and discovery time.

Everything runs on 127.0.0.1 against an embedded S3 API (moto), objects loaded through moto's
backend in this process (fast even for 200,000 objects); the installed `tap-intacct` runs as a
subprocess. Cases (BENCH_STATE_CASES, default all of them):
- state: full syncs of N one-record files (20 tables x N/20 files, one minute apart), N = 2,000 and
  4,000, by default and with lookback_seconds 86400: stdout bytes, the largest STATE, total STATE
  bytes, wall time, peak RSS, requests;
- noop: a no-op sync (the state at the newest files) over BENCH_STATE_NOOP_FIRST (default 1,000)
  and BENCH_STATE_OBJECTS (default 200,000) objects in 100 tables: time and peak RSS;
- discover: discovery over BENCH_STATE_DISCOVER (default 100,000) objects in 100 tables, one of
  which alone has an extra column: time, requests, and whether the column was found;
- latency: discovery over 2,000 objects through a proxy adding 20 ms to every GET;
- second: full syncs of 250 and 1,000 one-record files of one table with the same LastModified
  second (a bulk copy, a job's parts: the state holds every key of that second), by default and
  with lookback_seconds 86400: total STATE bytes and how they grow with the files;
- scale: BENCH_SCALE_TABLES (default 100) objects x BENCH_SCALE_FILES (default 10,000) files,
  BENCH_SCALE_SELECTED (default 10) streams selected, in each `listing` mode (folder, streams,
  events on the embedded SQS): a no-op run, then a run with BENCH_SCALE_NEW (default 100) new
  files: wall time, requests by kind, peak RSS (README "Running at scale"). The embedded
  server's listings are indexed (devtools/s3index.py: moto scans the whole bucket per page).
"""

import datetime
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from devtools.bench import LAUNCHER, T0, TAP, Tap, s3_requests
from devtools.faultproxy import FaultProxy
from devtools.s3server import EmbeddedS3

CASES = set(os.environ.get("BENCH_STATE_CASES",
                           "state,noop,discover,latency,second,scale").split(","))
NOOP_FIRST = int(os.environ.get("BENCH_STATE_NOOP_FIRST", "1000"))
NOOP_OBJECTS = int(os.environ.get("BENCH_STATE_OBJECTS", "200000"))
DISCOVER_OBJECTS = int(os.environ.get("BENCH_STATE_DISCOVER", "100000"))
STATE_FILES = int(os.environ.get("BENCH_STATE_FILES", "2000"))  # state: this many, then twice
SECOND_FILES = int(os.environ.get("BENCH_STATE_SECOND", "250"))  # second: this many, then 4x
ODD_COLUMN = "ONLY_IN_ONE_FILE"
SCALE_TABLES = int(os.environ.get("BENCH_SCALE_TABLES", "100"))
SCALE_FILES = int(os.environ.get("BENCH_SCALE_FILES", "10000"))  # per table
SCALE_SELECTED = int(os.environ.get("BENCH_SCALE_SELECTED", "10"))
SCALE_NEW = int(os.environ.get("BENCH_SCALE_NEW", "100"))


def load(s3, bucket, tables, per_table, body=lambda table, n: b"RECORDNO,NAME\n1,x\n",
         *, minutes_apart=1):
    """tables x per_table objects BENCH/T<t>.change.<n>.csv, file n at T0 + n minutes (or
    n x minutes_apart)."""
    s3.create_bucket(bucket)
    backend = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
    for n in range(per_table):
        moment = (T0 + datetime.timedelta(minutes=n * minutes_apart)).replace(tzinfo=None)
        for t in range(tables):
            key = f"BENCH/T{t:03d}.change.{n:05d}.csv"
            backend.put_object(bucket, key, body(t, n))
            backend.buckets[bucket].keys[key].last_modified = moment


def tap_for(s3, bucket, workdir):
    folder = os.path.join(workdir, bucket)
    os.makedirs(folder, exist_ok=True)
    return Tap(s3, bucket, folder)


def run(command, env):
    """Run the tap (through the launcher that reports its peak RSS), reading its stdout as it
    comes: (seconds, peak RSS MB, stdout bytes, STATE sizes, stderr)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen([sys.executable, "-c", LAUNCHER, *command], env=env,
                                   stdout=subprocess.PIPE, stderr=errors)
        total, states = 0, []
        for line in process.stdout:
            total += len(line)
            if line.startswith(b'{"type":"STATE"'):
                states.append(len(line))
        code = process.wait()
        seconds = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read()
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    peak_kb = int(re.findall(r"peak-rss-kb (\d+)", stderr)[-1])
    return seconds, peak_kb / 1024, total, states, stderr


def state_case(s3, workdir):
    print("\n## full sync of one-record files (20 tables, one minute apart)")
    state_growth(s3, workdir, "bench-state", (STATE_FILES, 2 * STATE_FILES),
                 lambda bucket, files: load(s3, bucket, 20, files // 20))


def second_case(s3, workdir):
    print("\n## full sync of one-record files of one table, all in the same second")
    state_growth(s3, workdir, "bench-second", (SECOND_FILES, 4 * SECOND_FILES),
                 lambda bucket, files: load(s3, bucket, 1, files, minutes_apart=0),
                 note=" (linear: 4x, the square: 16x)")


def state_growth(s3, workdir, prefix, sizes, load_files, *, note=""):
    """Full syncs of each size, by default and with lookback_seconds 86400: the STATE output of
    each, then how it grows from the small size to the large one."""
    totals = {}
    for files in sizes:
        bucket = f"{prefix}-{files}"
        load_files(bucket, files)
        tap = tap_for(s3, bucket, workdir)
        tap.discover()
        for lookback in (0, 86400):
            settings = json.loads(tap.config.read_text())
            settings["lookback_seconds"] = lookback
            config = tap.workdir / f"config-{lookback}.json"
            config.write_text(json.dumps(settings))
            seconds, rss, total, states, stderr = run(
                [TAP, "--config", str(config), "--catalog", str(tap.catalog)], tap.env)
            totals[files, lookback] = sum(states)
            print(f"{files:,} files, lookback_seconds {lookback}: stdout {total / 1e6:.2f} MB, "
                  f"{len(states):,} STATE messages, largest {max(states) / 1e3:.1f} KB, total "
                  f"{sum(states) / 1e6:.2f} MB; {seconds:.1f}s, peak RSS {rss:.0f} MB, "
                  f"S3 {s3_requests(stderr)}")
    small, large = sizes
    for lookback in (0, 86400):
        print(f"total STATE bytes, {large:,} / {small:,} files, lookback_seconds {lookback}: "
              f"{totals[large, lookback] / totals[small, lookback]:.2f}x{note}")


def newest_state(tables, per_table):
    moment = (T0 + datetime.timedelta(minutes=per_table - 1)).isoformat()
    return {"bookmarks": {f"T{t:03d}": {
        "modified_since": moment,
        "synced_keys": {f"BENCH/T{t:03d}.change.{per_table - 1:05d}.csv": moment},
        "synced_keys_since": moment} for t in range(tables)}}


def noop_case(s3, workdir):
    print("\n## no-op sync (state at the newest files), 100 tables")
    catalog = None
    for objects in (NOOP_FIRST, NOOP_OBJECTS):
        per_table = objects // 100
        bucket = f"bench-noop-{objects}"
        load(s3, bucket, 100, per_table)
        tap = tap_for(s3, bucket, workdir)
        if catalog is None:
            tap.discover()  # the same 100 tables in both buckets
            catalog = tap.catalog.read_text()
        tap.catalog.write_text(catalog)
        state = tap.workdir / "state.json"
        state.write_text(json.dumps(newest_state(100, per_table)))
        server_before, tap_before = cpu_seconds()
        seconds, rss, total, states, stderr = run(
            [TAP, "--config", str(tap.config), "--catalog", str(tap.catalog), "--state",
             str(state)], tap.env)
        server_after, tap_after = cpu_seconds()
        records = stderr.count("record(s), ")
        print(f"{objects:,} objects: {seconds:.1f}s, peak RSS {rss:.0f} MB, {records} file(s) "
              f"read, stdout {total / 1e3:.0f} KB, S3 {s3_requests(stderr)}; CPU: S3 server "
              f"{server_after - server_before:.1f}s, tap {tap_after - tap_before:.1f}s")
        backend = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
        backend.buckets.pop(bucket)  # free the server's memory for the next case


def cpu_seconds():
    """(CPU seconds of this process: the embedded S3 server, of the finished children: the tap)"""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def discover_case(s3, workdir):
    per_table = DISCOVER_OBJECTS // 100
    odd = (37, per_table // 2)

    def body(table, n):
        if (table, n) == odd:
            return f"RECORDNO,NAME,{ODD_COLUMN}\n1,x,y\n".encode()
        return b"RECORDNO,NAME\n1,x\n"

    bucket = "bench-discover-many"
    load(s3, bucket, 100, per_table, body)
    tap = tap_for(s3, bucket, workdir)
    command = [TAP, "--config", str(tap.config), "--discover"]
    started = time.perf_counter()
    server_before, tap_before = cpu_seconds()
    result = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=tap.env,
                            capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    server_after, tap_after = cpu_seconds()
    catalog = json.loads(result.stdout)
    found = [s["stream"] for s in catalog["streams"]
             if ODD_COLUMN in s["schema"]["properties"]]
    rss = int(re.findall(r"peak-rss-kb (\d+)", result.stderr)[-1]) / 1024
    print(f"\n## discovery over {DISCOVER_OBJECTS:,} objects in 100 tables: {seconds:.1f}s, "
          f"peak RSS {rss:.0f} MB, S3 {s3_requests(result.stderr)}; the column of one file "
          f"found in {found} (expected ['T{odd[0]:03d}']); CPU: S3 server (moto, this "
          f"process) {server_after - server_before:.1f}s, tap {tap_after - tap_before:.1f}s")


def latency_case(s3, workdir, files=2000, latency=0.02):
    """Discovery where each GET waits `latency` seconds (a proxy on 127.0.0.1), as over a
    network: the header reads kept in flight decide the time."""
    bucket = "bench-discover-latency"
    load(s3, bucket, 20, files // 20)
    with FaultProxy(s3.port) as proxy:
        proxy.add(r"^GET ", "delay", seconds=latency, times=float("inf"))
        tap = tap_for(s3, bucket, workdir)
        settings = json.loads(tap.config.read_text())
        settings["endpoint_url"] = proxy.url
        tap.config.write_text(json.dumps(settings))
        command = [TAP, "--config", str(tap.config), "--discover"]
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=tap.env,
                                capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    print(f"\n## discovery over {files:,} objects with {latency * 1000:.0f} ms added to every "
          f"GET: {seconds:.1f}s ({files * latency:.0f}s if paid one after another), "
          f"S3 {s3_requests(result.stderr)}")


def scale_case(s3, workdir):
    """The three listing modes over SCALE_TABLES x SCALE_FILES objects, SCALE_SELECTED streams
    selected: a no-op run (the state at the newest files), then SCALE_NEW new files (spread over
    the selected streams, delivered to SQS by the bucket's notifications) read from that same
    state, each mode."""
    from devtools import s3index
    s3index.install()
    objects = SCALE_TABLES * SCALE_FILES
    print(f"\n## {objects:,} objects ({SCALE_TABLES} objects x {SCALE_FILES:,} files), "
          f"{SCALE_SELECTED} streams selected: the listing modes")
    started = time.perf_counter()
    bucket = "bench-scale"
    load(s3, bucket, SCALE_TABLES, SCALE_FILES)
    print(f"(loaded into the embedded S3 API in {time.perf_counter() - started:.0f}s)")
    tap = tap_for(s3, bucket, workdir)
    small = "bench-scale-tables"  # the same tables, one file each, for the catalog
    load(s3, small, SCALE_TABLES, 1)
    catalog_tap = tap_for(s3, small, workdir)
    catalog_tap.discover()
    catalog = json.loads(catalog_tap.catalog.read_text())
    for stream in catalog["streams"]:
        stream["metadata"][0]["metadata"]["selected"] = stream["stream"] < f"T{SCALE_SELECTED:03d}"
    tap.catalog.write_text(json.dumps(catalog))
    queue = s3.queue_url("bench-scale-events")
    state = newest_state(SCALE_TABLES, SCALE_FILES)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    state["listed_at"] = {f"T{t:03d}": now for t in range(SCALE_SELECTED)}  # events: listed
    settings = json.loads(tap.config.read_text())
    configs = {}
    for mode in ("folder", "streams", "events"):
        configs[mode] = tap.workdir / f"config-{mode}.json"
        configs[mode].write_text(json.dumps({**settings, "listing": mode,
                                             "events_queue": queue}))
    state_path = tap.workdir / "scale-state.json"
    state_path.write_text(json.dumps(state))

    def measure(mode, what):
        seconds, rss, _total, _states, stderr = run(
            [TAP, "--config", str(configs[mode]), "--catalog", str(tap.catalog), "--state",
             str(state_path)], tap.env)
        files = stderr.count("record(s), ")
        print(f"{what}, listing {mode + ':':8} {seconds:6.1f}s, peak RSS {rss:3.0f} MB, "
              f"{files} file(s) read, requests: {s3_requests(stderr)}")

    for mode in ("folder", "streams", "events"):
        measure(mode, "no-op")
    s3.queue_url("bench-scale-events", bucket=bucket, prefix="BENCH/")  # notifications on
    backend = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
    moment = (T0 + datetime.timedelta(minutes=SCALE_FILES)).replace(tzinfo=None)
    for n in range(SCALE_NEW):
        key = f"BENCH/T{n % SCALE_SELECTED:03d}.change.{SCALE_FILES + n // SCALE_SELECTED:05d}.csv"
        s3.put(bucket, key, b"RECORDNO,NAME\n1,x\n")  # moto sends its event to the queue
        backend.buckets[bucket].keys[key].last_modified = moment
    for mode in ("folder", "streams", "events"):
        measure(mode, f"{SCALE_NEW} new files")
    backend.buckets.pop(bucket)


def main():
    print(f"tap-intacct state/listing benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with EmbeddedS3() as s3, tempfile.TemporaryDirectory() as workdir:
        for name, case in (("state", state_case), ("noop", noop_case),
                           ("discover", discover_case), ("latency", latency_case),
                           ("second", second_case), ("scale", scale_case)):
            if name in CASES:
                case(s3, workdir)


if __name__ == "__main__":
    main()
