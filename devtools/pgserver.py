"""A PostgreSQL server for tests and benchmarks: the one named by TAP_INTACCT_TEST_POSTGRES (.ci/run
starts it), or a throwaway one on 127.0.0.1 from devtools/postgres.sh, stopped afterwards."""

import contextlib
import os
import pathlib
import shutil
import subprocess
import tempfile

from devtools.s3server import free_port

SCRIPT = pathlib.Path(__file__).resolve().parent / "postgres.sh"


@contextlib.contextmanager
def postgres_url():
    if os.environ.get("TAP_INTACCT_TEST_POSTGRES"):
        yield os.environ["TAP_INTACCT_TEST_POSTGRES"]
        return
    if not shutil.which("psql"):
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql "
                           "(bash .ci/run does)")
    folder = tempfile.mkdtemp(prefix="tap-intacct-pg-")
    url = subprocess.run([str(SCRIPT), "start", folder, str(free_port())], capture_output=True,
                         text=True, check=True).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], check=False)
        shutil.rmtree(folder, ignore_errors=True)
