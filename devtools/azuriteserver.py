"""Azure Blob Storage on 127.0.0.1: Azurite (Microsoft's emulator, from npm, installed by `make` in
.tools/azurite), started as a subprocess on a free port and stopped by its pid.

Azurite sets a blob's Last-Modified to the upload time and has no way to change it. Tests need
files "modified" at chosen moments (bookmarks, same-second files, lookback), as moto allows for
S3, so the server tests talk to is a small proxy in front of Azurite (devtools.faultproxy) that
rewrites <Last-Modified> in List Blobs answers for the blobs a test pinned. Everything else
(signatures, ETags, If-Match, ranges, errors, tiers) is Azurite's own.
"""

import datetime
import email.utils
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from devtools.faultproxy import FaultProxy
from devtools.s3server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AZURITE = os.path.join(ROOT, ".tools", "azurite", "node_modules", ".bin", "azurite-blob")
# the queue service (the event mode's storage queue), a second binary of the same package
AZURITE_QUEUE = os.path.join(ROOT, ".tools", "azurite", "node_modules", ".bin", "azurite-queue")
AZURITE_PACKAGE = os.path.join(ROOT, ".tools", "azurite", "node_modules", "azurite",
                               "package.json")
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, in Microsoft's docs): not a secret.
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
# No access log, no telemetry, nothing written to disk (a server lives as long as its test
# process; the folder is only its working directory): the emulator's CPU per request is part of
# every Azure test's cost.
_QUIET = ("--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
          "--inMemoryPersistence")
_BLOB = re.compile(r"<Blob><Name>(.*?)</Name>(.*?)</Blob>", re.DOTALL)
_LAST_MODIFIED = re.compile(r"<Last-Modified>[^<]*</Last-Modified>")


def connection_string(blob_url):
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={blob_url};")


class EmbeddedAzurite:
    """Azurite's blob service, and the proxy tests reach it through (self.url, self.port)."""

    def __init__(self):
        self.azurite_port = free_port()
        self._process = None
        self._queue_process = None
        self.queue_port = None
        self._folder = None
        self._pinned = {}  # (container, blob name) -> Last-Modified to show in listings
        self.proxy = FaultProxy(self.azurite_port, rewrite=self._pin_last_modified,
                                rewrite_headers=self._pin_last_modified_header)
        self.port = self.proxy.port
        self.url = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self.direct_url = f"http://127.0.0.1:{self.azurite_port}/{ACCOUNT}"  # without the proxy
        self.connection_string = connection_string(self.url)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if not os.path.exists(AZURITE):
            raise RuntimeError(f"{AZURITE} is missing: run `make azurite` (needs node and npm)")
        self._folder = tempfile.mkdtemp(prefix="tap-intacct-azurite-")
        self._process = subprocess.Popen(  # noqa: S603 (our own tool, fixed arguments)
            [AZURITE, "--blobHost", "127.0.0.1", "--blobPort", str(self.azurite_port), *_QUIET],
            cwd=self._folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_up()
        self.proxy.__enter__()
        self.client = BlobServiceClient.from_connection_string(
            connection_string(self.direct_url))

    def queue_url(self, name):
        """The URL of storage queue `name` (created), Azurite's queue service started on first
        use; it shares the account and key of the blob service."""
        from azure.storage.queue import QueueClient
        if self._queue_process is None:
            self.queue_port = free_port()
            self._queue_process = subprocess.Popen(  # noqa: S603 (our own tool, fixed arguments)
                [AZURITE_QUEUE, "--queueHost", "127.0.0.1", "--queuePort", str(self.queue_port),
                 *_QUIET], cwd=self._folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._wait_until_up(process=self._queue_process, port=self.queue_port)
        url = f"http://127.0.0.1:{self.queue_port}/{ACCOUNT}/{name}"
        QueueClient.from_queue_url(url, credential={"account_name": ACCOUNT,
                                                    "account_key": ACCOUNT_KEY}).create_queue()
        return url

    def queue(self, url):
        """A QueueClient of the queue at url, with the account key (for tests' checks)."""
        from azure.storage.queue import QueueClient
        return QueueClient.from_queue_url(url, credential={"account_name": ACCOUNT,
                                                           "account_key": ACCOUNT_KEY})

    def _wait_until_up(self, seconds=30, process=None, port=None):
        process = process or self._process
        port = port or self.azurite_port
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"azurite exited with code {process.returncode}")
            try:
                urllib.request.urlopen(  # noqa: S310 (loopback)
                    f"http://127.0.0.1:{port}/{ACCOUNT}?comp=list", timeout=1)
            except urllib.error.HTTPError:
                return  # answered (without credentials: 403)
            except OSError:
                time.sleep(0.2)
                continue
            return
        raise RuntimeError("azurite-blob did not answer within 30 s")

    def stop(self):
        self.proxy.__exit__()
        for process in (self._process, self._queue_process):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)

    @property
    def version(self):
        with open(AZURITE_PACKAGE, encoding="utf-8") as handle:
            return json.load(handle)["version"]

    def tap_environment(self):
        """Environment for a tap subprocess: no cloud credentials from this machine."""
        return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AZURE_"))}

    def create_container(self, name):
        self.client.create_container(name)

    def put(self, container, name, body, last_modified=None, tier=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        blob = self.client.get_blob_client(container, name)
        blob.upload_blob(body, overwrite=True)
        if tier:
            blob.set_standard_blob_tier(tier)
        if last_modified is None:
            self._pinned.pop((container, name), None)
        else:
            self._pinned[(container, name)] = last_modified

    @property
    def pinned(self):
        """{(container, blob name): the Last-Modified listings show} of the pinned blobs."""
        return dict(self._pinned)

    def delete(self, container, name):
        self.client.get_blob_client(container, name).delete_blob()

    def sas_token(self, container, **permissions):
        permissions = permissions or {"read": True, "list": True}
        return generate_container_sas(
            ACCOUNT, container, account_key=ACCOUNT_KEY,
            permission=ContainerSasPermissions(**permissions),
            expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2))

    def _pin_last_modified_header(self, request_line, headers):
        """The Last-Modified header of a pinned blob's answers (Get Blob Properties, Get Blob):
        the event mode looks at a blob with a HEAD request."""
        if not self._pinned or "comp=" in request_line:
            return headers
        path = request_line.split(" ", 1)[1].split("?", 1)[0].split("/", 3)
        if len(path) < 4:
            return headers
        moment = self._pinned.get((path[2], urllib.parse.unquote(path[3])))
        if moment is None:
            return headers
        stamp = email.utils.format_datetime(moment.astimezone(datetime.timezone.utc),
                                            usegmt=True)
        return [(key, stamp if key.lower() == "last-modified" else value)
                for key, value in headers]

    def _pin_last_modified(self, request_line, payload):
        if "comp=list" not in request_line or not self._pinned:
            return payload
        container = request_line.split(" ", 1)[1].split("?", 1)[0].split("/")[2]
        text = payload.decode("utf-8")

        def pin(match):
            moment = self._pinned.get((container, html.unescape(match.group(1))))
            if moment is None:
                return match.group(0)
            stamp = email.utils.format_datetime(moment.astimezone(datetime.timezone.utc),
                                                usegmt=True)
            properties = _LAST_MODIFIED.sub(f"<Last-Modified>{stamp}</Last-Modified>",
                                            match.group(2), count=1)
            return f"<Blob><Name>{match.group(1)}</Name>{properties}</Blob>"

        return _BLOB.sub(pin, text).encode("utf-8")
