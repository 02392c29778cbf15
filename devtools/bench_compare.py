"""`make bench-compare REF=<git ref>`: sync throughput of this tree against another commit, in one
run, on the same 1M-row GLENTRY file behind the same embedded S3 API (127.0.0.1).

The other commit is checked out into a temporary git worktree and run from source with this
virtualenv's interpreter (`python -m tap_intacct`, its folder first on PYTHONPATH). Runs
alternate between the two trees so that machine noise hits both alike; medians are printed.
"""

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from devtools.bench import ROWS, RUNS, T0, Tap, glentry_file, measured
from devtools.s3server import EmbeddedS3

HERE = pathlib.Path(__file__).resolve().parent.parent
ENGINES = os.environ.get("BENCH_ENGINES", "rows,fast").split(",")


def main():
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD~1"
    with EmbeddedS3() as s3, tempfile.TemporaryDirectory() as workdir:
        other = pathlib.Path(workdir) / "other"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", "-q", str(other),
                        ref], check=True)
        try:
            compare(s3, workdir, ref, other)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force",
                            str(other)], check=False)


def compare(s3, workdir, ref, other):
    path = glentry_file(ROWS)
    s3.create_bucket("bench-compare")
    with open(path, "rb") as body:
        s3.client.put_object(Bucket="bench-compare", Key="BENCH/GLENTRY.all.1.csv", Body=body)
    s3.set_last_modified("bench-compare", "BENCH/GLENTRY.all.1.csv", T0)
    tap = Tap(s3, "bench-compare", workdir)
    tap.discover()
    trees = {"this tree": HERE, ref: other}
    for engine in ENGINES:  # the other commit must know TAP_INTACCT_ENGINE for "fast"
        seconds = {name: [] for name in trees}
        for _ in range(RUNS):
            for name, tree in trees.items():
                env = dict(tap.env, PYTHONPATH=str(tree), TAP_INTACCT_ENGINE=engine)
                command = [sys.executable, "-m", "tap_intacct", "--config", str(tap.config),
                           "--catalog", str(tap.catalog)]
                seconds[name].append(measured(command, env)[0])
        print(f"sync of {ROWS:,} GLENTRY rows (41 columns) through the S3 API, {engine} engine, "
              f"medians of {RUNS}:")
        for name, runs in seconds.items():
            median = statistics.median(runs)
            print(f"  {name:>12}: {median:.2f}s = {ROWS / median:,.0f} records/s")
        ratio = statistics.median(seconds[ref]) / statistics.median(seconds["this tree"])
        print(f"  this tree / {ref}: {ratio:.1%} of its throughput")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
