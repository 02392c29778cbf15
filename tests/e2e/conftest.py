"""End-to-end harness: moto's S3/STS server on 127.0.0.1 and the installed tap-intacct command."""

import datetime
import itertools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from devtools.s3server import EmbeddedS3

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
TAP = shutil.which("tap-intacct") or os.path.join(os.path.dirname(sys.executable), "tap-intacct")
_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def s3():
    with EmbeddedS3() as server:
        yield server


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self):
        return [json.loads(line) for line in self.stdout.splitlines()]

    def records(self, stream=None):
        return [m["record"] for m in self.messages
                if m["type"] == "RECORD" and stream in (None, m["stream"])]

    def of_type(self, kind):
        return [m for m in self.messages if m["type"] == kind]

    @property
    def last_state(self):
        states = self.of_type("STATE")
        return states[-1]["value"] if states else None


class Company:
    """One bucket with one company's DDS folder, and the tap pointed at it."""

    def __init__(self, s3, workdir, path="dds/exports", company_id="ACME"):
        self.s3 = s3
        self.workdir = workdir
        self.bucket = f"dds-test-{next(_bucket_numbers)}"
        self.path = path
        self.company_id = company_id
        s3.create_bucket(self.bucket)

    @property
    def prefix(self):
        return f"{self.path}/{self.company_id}/" if self.path else f"{self.company_id}/"

    def put(self, name, body, modified=T0, storage_class=None):
        """Upload a file under the company folder; modified may be a datetime or seconds past T0."""
        if isinstance(modified, (int, float)):
            modified = T0 + datetime.timedelta(seconds=modified)
        key = self.prefix + name
        self.s3.put(self.bucket, key, body, last_modified=modified, storage_class=storage_class)
        return key

    def config(self, **overrides):
        settings = {"start_date": "2024-01-01T00:00:00Z", "bucket": self.bucket,
                    "path": self.path, "company_id": self.company_id,
                    "endpoint_url": self.s3.url, "sts_endpoint_url": self.s3.url}
        settings.update(overrides)
        return self.write("config.json", {k: v for k, v in settings.items() if v is not None})

    def write(self, name, value):
        path = self.workdir / name
        path.write_text(value if isinstance(value, str) else json.dumps(value))
        return str(path)

    def tap(self, *args, config=None, env=None, timeout=120):
        command = [TAP, "--config", config or self.config(), *args]
        env = env or self.s3.tap_environment()
        env.setdefault("TAP_INTACCT_RETRY_BASE_SECONDS", "0.01")  # fast, still exponential
        result = subprocess.run(command, env=env,
                                capture_output=True, text=True, timeout=timeout, check=False)
        return Run(result.returncode, result.stdout, result.stderr)

    def discover(self, **config):
        run = self.tap("--discover", config=self.config(**config) if config else None)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    def selected_catalog(self, catalog=None, streams=None, deselect=()):
        """Write a catalog with the given streams (default all) selected; returns its path."""
        catalog = catalog or self.discover()
        for stream in catalog["streams"]:
            chosen = streams is None or stream["tap_stream_id"] in streams
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = chosen
                elif entry["breadcrumb"][-1] in deselect:
                    entry["metadata"]["selected"] = False
        return self.write("catalog.json", catalog)

    def sync(self, catalog_path, state=None, flag="--catalog", config=None):
        args = [flag, catalog_path]
        if state is not None:
            args += ["--state", self.write("state.json", state)]
        return self.tap(*args, config=config)


@pytest.fixture
def company(s3, tmp_path):
    return Company(s3, tmp_path)


def assert_clean_failure(run, *fragments, code=None):
    """Non-zero exit, no traceback, nothing on stdout but Singer messages, and the message given."""
    assert run.returncode != 0
    if code is not None:
        assert run.returncode == code
    assert "Traceback" not in run.stderr, run.stderr
    for fragment in fragments:
        assert fragment in run.stderr, run.stderr
