"""End-to-end harness: companies in the servers of tests/conftest.py (moto's S3/STS server and
Azurite on 127.0.0.1), and the installed tap-intacct command.

Tests take a `company` (one bucket or container with one company's DDS folder) and use its put,
config, tap, discover and sync whatever the store. A module runs against both stores with
`pytestmark = pytest.mark.stores("s3", "azure")`; a test marked `stores("s3")` (STS roles, S3
storage classes, S3 error codes) runs against S3 only. Unmarked modules run against S3.
"""

import datetime
import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from devtools.s3server import EmbeddedS3

ARCHIVE_NOTES = {"GLACIER": "its storage class is GLACIER",
                 "DEEP_ARCHIVE": "its storage class is DEEP_ARCHIVE",
                 "Archive": "its access tier is Archive"}

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
TAP = shutil.which("tap-intacct") or os.path.join(os.path.dirname(sys.executable), "tap-intacct")
_bucket_numbers = itertools.count(1)
# Catalogs discovered in this test process, by what discovery read (see Company.discover).
_catalogs = {}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @functools.cached_property
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

    @property
    def imported(self):
        """Modules the run imported (the lines PYTHONPROFILEIMPORTTIME=1 puts on stderr)."""
        return [line.rsplit("|", 1)[-1].strip() for line in self.stderr.splitlines()
                if line.startswith("import time:")]


class Company:
    """One bucket with one company's DDS folder, and the tap pointed at it."""

    def __init__(self, server, workdir, path="dds/exports", company_id="ACME"):
        self.workdir = workdir
        self.bucket = f"dds-test-{next(_bucket_numbers)}"
        self.path = path
        self.company_id = company_id
        self._attach(server)

    def _attach(self, s3):
        self.s3 = s3
        s3.create_bucket(self.bucket)

    @property
    def prefix(self):
        return f"{self.path}/{self.company_id}/" if self.path else f"{self.company_id}/"

    kind = "s3"
    archived = "GLACIER"

    @property
    def server(self):
        return self.s3

    def location(self, prefix=None):
        """The company folder as the tap's messages show it."""
        return f"s3://{self.bucket}/{self.prefix if prefix is None else prefix}"

    def put_key(self, key, body):
        """Upload outside the company folder (full key)."""
        self.s3.put(self.bucket, key, body)

    def delete(self, key):
        self.s3.delete(self.bucket, key)

    def through(self, proxy):
        """Settings that send the tap's storage requests through a proxy."""
        return {"endpoint_url": proxy.url}

    def request_lines(self):
        """'METHOD /path?query STATUS' of the requests the store served, oldest first."""
        return list(self.s3.requests.lines)

    def clear_requests(self):
        self.s3.requests.clear()

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
        env = env or self.server.tap_environment()
        env.setdefault("TAP_INTACCT_RETRY_BASE_SECONDS", "0.01")  # fast, still exponential
        result = subprocess.run(command, env=env,
                                capture_output=True, text=True, timeout=timeout, check=False)
        return Run(result.returncode, result.stdout, result.stderr)

    def discover(self, shared=False, **config):
        """The catalog `--discover` prints (exit 0 asserted).

        shared: a test that only needs the catalog (discovery is not what it checks) may take
        the one an earlier discovery of this test process printed for exactly the same input:
        the same store kind, company folder, objects (name, content, LastModified, storage class
        or tier) and settings. Discovery reads nothing else, so its output is the same; a tap
        start is most of a small test's CPU."""
        if shared:
            key = (self.kind, self.path, self.company_id, self.listing(),
                   json.dumps(config, sort_keys=True))
            if key not in _catalogs:
                _catalogs[key] = json.dumps(self.discover(**config))
            return json.loads(_catalogs[key])
        run = self.tap("--discover", config=self.config(**config) if config else None)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    def listing(self):
        """Every object of the bucket as a listing shows it: (key, content hash, LastModified,
        storage class), sorted; read from moto's backend."""
        keys = self.s3._backend.buckets[self.bucket].keys
        return tuple(sorted((name, stored.etag, stored.last_modified.isoformat(),
                             stored.storage_class) for name, stored in keys.items()))

    def selected_catalog(self, catalog=None, streams=None, deselect=(), shared=False):
        """Write a catalog with the given streams (default all) selected; returns its path.
        Without a catalog, discovers one (shared: see discover)."""
        catalog = catalog or self.discover(shared=shared)
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


class AzureCompany(Company):
    """The same company folder in an Azurite container; `bucket` is the container's name."""

    kind = "azure"
    archived = "Archive"

    def _attach(self, azurite):
        self.azurite = azurite
        azurite.create_container(self.bucket)

    @property
    def server(self):
        return self.azurite

    def location(self, prefix=None):
        return f"{self.azurite.url}/{self.bucket}/{self.prefix if prefix is None else prefix}"

    def put(self, name, body, modified=T0, storage_class=None):
        if isinstance(modified, (int, float)):
            modified = T0 + datetime.timedelta(seconds=modified)
        key = self.prefix + name
        tier = "Archive" if storage_class in ARCHIVE_NOTES else storage_class
        self.azurite.put(self.bucket, key, body, last_modified=modified, tier=tier)
        return key

    def put_key(self, key, body):
        self.azurite.put(self.bucket, key, body)

    def delete(self, key):
        self.azurite.delete(self.bucket, key)

    def through(self, proxy):
        return {"azure_account_url": f"{proxy.url}/devstoreaccount1"}

    def listing(self):
        """(name, content MD5, LastModified as the tap sees it, tier) of every blob, sorted."""
        pinned = self.azurite.pinned
        container = self.azurite.client.get_container_client(self.bucket)
        return tuple(sorted(
            (blob.name, bytes(blob.content_settings.content_md5 or b"").hex() or blob.etag,
             pinned.get((self.bucket, blob.name), blob.last_modified).isoformat(),
             blob.blob_tier) for blob in container.list_blobs()))

    def request_lines(self):
        lines = []
        for request, _range, status in self.azurite.proxy.log:
            method, path = request.split(" ", 1)
            # S3-like names so that tests can share their checks
            lines.append(f"{method} {path.replace('comp=list', 'comp=list&list-type=2')} "
                         f"{status}")
        return lines

    def clear_requests(self):
        self.azurite.proxy.clear()

    def config(self, **overrides):
        if "endpoint_url" in overrides:  # tests' name for "the store's endpoint"
            url = overrides.pop("endpoint_url")
            overrides["azure_account_url"] = f"{url}/devstoreaccount1" if url else None
        overrides.pop("sts_endpoint_url", None)
        settings = {"start_date": "2024-01-01T00:00:00Z", "storage": "azure",
                    "container": self.bucket, "path": self.path, "company_id": self.company_id,
                    "azure_connection_string": self.azurite.connection_string}
        settings.update(overrides)
        return self.write("config.json", {k: v for k, v in settings.items() if v is not None})



def company_in(store, workdir):
    """A new company in the store's server (moto or Azurite), its files written under workdir."""
    return (Company if isinstance(store, EmbeddedS3) else AzureCompany)(store, workdir)


_layouts = {}


def shared_layout(store, tmp_path_factory, make):
    """What make(company) returns for a new company in store, made once per test process and
    store: several tests assert on the runs of one layout, each on its own streams (one stream
    per case: the tap syncs streams independently). Mark those tests one xdist_group so that they
    share a process."""
    key = (make.__module__, make.__qualname__, isinstance(store, EmbeddedS3))
    if key not in _layouts:
        _layouts[key] = make(company_in(store, tmp_path_factory.mktemp(make.__name__)))
    return _layouts[key]


def assert_clean_failure(run, *fragments, code=None):
    """Non-zero exit, no traceback, nothing on stdout but Singer messages, and the message given."""
    assert run.returncode != 0
    if code is not None:
        assert run.returncode == code
    assert "Traceback" not in run.stderr, run.stderr
    for fragment in fragments:
        assert fragment in run.stderr, run.stderr
