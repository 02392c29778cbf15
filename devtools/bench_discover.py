"""`make bench-discover`: peak RSS and time of `tap-intacct --discover` on many large exports.

An embedded S3 API (moto) on 127.0.0.1 is loaded with BENCH_DISCOVER_FILES (default 20) files of
BENCH_DISCOVER_ROWS (default 50,000) GLENTRY rows spread over 4 tables, and the installed
command discovers them in a subprocess, BENCH_RUNS times (default 3; the median is printed);
peak RSS is that subprocess's own (getrusage).
"""

import datetime
import os
import sys
import tempfile

from devtools import ddsdata
from devtools.bench import RUNS, T0, Tap
from devtools.s3server import EmbeddedS3

FILES = int(os.environ.get("BENCH_DISCOVER_FILES", "20"))
ROWS = int(os.environ.get("BENCH_DISCOVER_ROWS", "50000"))
TABLES = ("GLENTRY", "APBILL", "ARINVOICE", "VENDOR")


def main():
    with EmbeddedS3() as s3, tempfile.TemporaryDirectory() as workdir:
        bucket = "bench-discover"
        s3.create_bucket(bucket)
        bodies = {}  # one body per table: generating rows is the slow part
        size = 0
        for n in range(FILES):
            table = TABLES[n % len(TABLES)]
            if table not in bodies:
                bodies[table] = ddsdata.glentry_csv(ROWS, seed=n).encode("utf-8")
            body = bodies[table]
            s3.put(bucket, f"BENCH/{table}.change.{n:03d}.csv", body,
                   last_modified=T0 + datetime.timedelta(minutes=n))
            size += len(body)
        tap = Tap(s3, bucket, workdir)
        runs = [tap.discover() for _ in range(RUNS)]
        seconds = sorted(r[0] for r in runs)[len(runs) // 2]
        rss = max(r[1] for r in runs)
        print(f"discover {FILES} files x {ROWS:,} GLENTRY rows in {len(TABLES)} tables "
              f"({size / 1e6:.0f} MB), Python {sys.version.split()[0]}: median {seconds:.2f}s, "
              f"peak RSS {rss:.0f} MB (max of {len(runs)}), S3 {runs[-1][2]}")


if __name__ == "__main__":
    main()
