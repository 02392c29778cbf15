"""`make bench-pipeline`: what a user waits for, tap-intacct | target-postgres -> PostgreSQL, in one
run: RECORD mode, BATCH mode, both with the target's `use_copy`, and the CSV alone through
`COPY` (the ceiling of that database on this machine). Row counts are checked in SQL.

Everything runs on 127.0.0.1: the embedded S3 API, the target from `make integration-tools`, and
a PostgreSQL server (TAP_INTACCT_TEST_POSTGRES, or a throwaway one from devtools/postgres.sh).
BENCH_PIPELINE_ROWS (default 100,000) rows of the benchmark GLENTRY file are loaded.
"""

import csv
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import uuid

from devtools import pgserver
from devtools.bench import T0, TAP, Tap, glentry_file
from devtools.s3server import EmbeddedS3

ROWS = int(os.environ.get("BENCH_PIPELINE_ROWS", "100000"))
ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = ROOT / ".tools" / "target-postgres" / "bin" / "target-postgres"


def sql(url, query):
    return subprocess.run(["psql", url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", query],
                          capture_output=True, text=True, check=True).stdout.strip()


def first_rows(rows, workdir):
    """The first `rows` rows of the benchmark file (header kept), as their own CSV."""
    source = glentry_file(max(rows, 1_000_000))
    path = pathlib.Path(workdir) / f"GLENTRY-{rows}.csv"
    with open(source, newline="", encoding="utf-8") as lines, open(path, "w", newline="",
                                                                    encoding="utf-8") as out:
        reader, writer = csv.reader(lines), csv.writer(out, lineterminator="\n")
        for number, row in enumerate(reader):
            if number > rows:
                break
            writer.writerow(row)
    return path


def target_config(url, workdir, schema, use_copy):
    host, port = url.split("@", 1)[1].split("/", 1)[0].split(":")
    path = pathlib.Path(workdir) / f"target-{schema}.json"
    path.write_text(json.dumps({"host": host, "port": int(port), "user": "postgres",
                                "password": "unused", "database": "postgres",
                                "default_target_schema": schema, "use_copy": use_copy}))
    return path


def pipeline(tap, config, url, workdir, use_copy):
    """Seconds for tap | target-postgres into a new schema, and the rows that arrived."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    producer = subprocess.Popen([TAP, "--config", str(config), "--catalog", str(tap.catalog)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=tap.env)
    consumer = subprocess.run([str(TARGET), "--config",
                               str(target_config(url, workdir, schema, use_copy))],
                              stdin=producer.stdout, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
    producer.stdout.close()
    if producer.wait() != 0 or consumer.returncode != 0:
        raise SystemExit(f"pipeline failed:\n{consumer.stderr[-3000:]}")
    seconds = time.perf_counter() - started
    count = int(sql(url, f'SELECT count(*) FROM "{schema}"."GLENTRY"'))
    sql(url, f'DROP SCHEMA "{schema}" CASCADE')
    return seconds, count


def copy_ceiling(url, csv_path):
    header = csv_path.open(encoding="utf-8").readline().strip().split(",")
    columns = ", ".join(f'"{name}" text' for name in header)
    sql(url, f"DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy ({columns})")
    started = time.perf_counter()
    subprocess.run(["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-c",
                    f"\\copy bench_copy FROM '{csv_path}' CSV HEADER"],
                   capture_output=True, check=True)
    seconds = time.perf_counter() - started
    count = int(sql(url, "SELECT count(*) FROM bench_copy"))
    sql(url, "DROP TABLE bench_copy")
    return seconds, count


def main():
    if not TARGET.exists():
        raise SystemExit("target-postgres is missing: run `make integration-tools`")
    print(f"tap-intacct | target-postgres -> PostgreSQL, {ROWS:,} GLENTRY rows (41 columns), "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, all on 127.0.0.1")
    with (EmbeddedS3() as s3, tempfile.TemporaryDirectory() as workdir,
          pgserver.postgres_url() as url):
        csv_path = first_rows(ROWS, workdir)
        s3.create_bucket("bench-pipeline")
        with open(csv_path, "rb") as body:
            s3.client.put_object(Bucket="bench-pipeline", Key="BENCH/GLENTRY.all.1.csv",
                                 Body=body)
        s3.set_last_modified("bench-pipeline", "BENCH/GLENTRY.all.1.csv", T0)
        tap = Tap(s3, "bench-pipeline", workdir)
        tap.discover()
        batch = json.loads(tap.config.read_text())
        batch["batch_config"] = {"encoding": {"format": "jsonl", "compression": "gzip"},
                                 "storage": {"root": pathlib.Path(workdir, "batches").as_uri()},
                                 "batch_size": 100_000}
        batch_path = pathlib.Path(workdir) / "batch-config.json"
        batch_path.write_text(json.dumps(batch))
        cases = [("RECORD messages", tap.config, False),
                 ("RECORD messages, use_copy", tap.config, True),
                 ("BATCH messages", batch_path, False),
                 ("BATCH messages, use_copy", batch_path, True)]
        results = []
        for name, config, use_copy in cases:
            seconds, count = pipeline(tap, config, url, workdir, use_copy)
            results.append((name, seconds, count))
        results.append(("CSV alone: COPY into text columns", *copy_ceiling(url, csv_path)))
    baseline = results[0][1]
    print("\n| pipeline | seconds | rows/s | vs RECORD | rows in PostgreSQL |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds, count in results:
        print(f"| {name} | {seconds:.1f} | {ROWS / seconds:,.0f} | {baseline / seconds:.1f}x "
              f"| {count:,}{'' if count == ROWS else ' (MISMATCH)'} |")


if __name__ == "__main__":
    main()
