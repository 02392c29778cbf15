"""What discovery and sync see of a store (S3 bucket or Azure container), and how one is built.

Each cloud SDK lives in exactly one module (s3.py, azure.py), imported only here."""

import io
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Optional, Protocol

from tap_intacct.dds.files import StoredFile

if TYPE_CHECKING:
    from tap_intacct.storage.events import QueuedMessage

if TYPE_CHECKING:
    from tap_intacct.settings.config import Config
    from tap_intacct.settings.knobs import Knobs


class Requests(Protocol):
    def summary(self) -> str:
        """Requests made so far by operation, e.g. 'GetObject=3 ListObjectsV2=1'."""


class Store(Protocol):
    name: str          # bucket or container: the value of _sdc_source_bucket
    kind: str          # "S3" or "Azure", for log lines

    @property
    def requests(self) -> Requests:
        """Requests made so far, for the closing log line."""
    small_reads_in_flight: int  # discovery's header reads (read_range) kept in flight

    def location(self, prefix: str = "") -> str:
        """prefix as messages show it: s3://bucket/prefix or https://account/container/prefix."""

    def list(self, prefix: str) -> Iterator[StoredFile]:
        """Every object directly under prefix (one listing, sub-folders not entered). Several
        listings may run at once, in threads (storage/listings.py)."""

    def head(self, key: str) -> Optional[StoredFile]:
        """The object `key` as a listing would describe it, or None if there is none."""

    def read_range(self, stored: StoredFile, length: int) -> bytes:
        """The object's first `length` bytes (fewer if it is shorter), of the listed version."""

    def open(self, stored: StoredFile) -> io.BufferedReader:
        """The whole object of the listed version as a stream that resumes after a cut."""


class EventQueue(Protocol):
    """The event mode's queue (README, "Event mode"): SQS for S3, a storage queue for Azure."""

    def location(self) -> str:
        """The queue as messages show it (its URL, without any query string)."""

    def receive(self) -> list["QueuedMessage"]:
        """The next messages ([] once the queue has none for now); each stays invisible to
        other receivers for a while, and comes back unless deleted."""

    def delete(self, messages: Sequence["QueuedMessage"]) -> None:
        """Remove these messages from the queue for good."""

    def release(self, messages: Sequence["QueuedMessage"]) -> None:
        """Make these messages visible again at once (for the next run, or their owner)."""

    def waiting(self) -> int:
        """About how many messages the queue holds (for `--test`)."""


def connect(config: "Config", knobs: "Knobs") -> Store:
    """The store the config names, with its client built once for the run. Its PGP-encrypted
    files read decrypted with pgp_private_key, or are refused naming the key they need (README
    "Encrypted exports"); other files pass through unchanged."""
    from tap_intacct.reading.decryption import DecryptingStore
    return DecryptingStore(_backend(config, knobs), config.pgp_keys)


def _backend(config: "Config", knobs: "Knobs") -> Store:
    if config.storage == "azure":
        # the extra may be missing: config.validate checked it
        from tap_intacct.storage import azure
        return azure.Container(config, knobs)
    from tap_intacct.storage import s3
    return s3.Bucket(config, knobs)


def connect_queue(config: "Config", knobs: "Knobs", store: Store) -> EventQueue:
    """The event mode's queue (config.events_queue), reached with the store's credentials."""
    from tap_intacct.reading.decryption import DecryptingStore
    backend = store.backend if isinstance(store, DecryptingStore) else store
    if config.storage == "azure":
        from tap_intacct.storage import azure, azure_queue
        assert isinstance(backend, azure.Container)  # connect() built it from the same config
        return azure_queue.StorageQueue(config, knobs, backend)
    from tap_intacct.storage import s3, sqs
    assert isinstance(backend, s3.Bucket)
    return sqs.SqsQueue(config, knobs, backend)


def batch_uploader(knobs: "Knobs") -> Callable[[str, str], None]:
    """Uploads a finished batch file (local path, s3:// URL) with the environment's AWS
    credentials; boto3 is imported at the first upload, so that runs which upload nothing
    (an Azure store, a file:// batch root) never load it."""
    uploader = None

    def upload(path: str, url: str) -> None:
        nonlocal uploader
        if uploader is None:
            from tap_intacct.storage import s3
            uploader = s3.BatchUploader(knobs)
        uploader(path, url)
    return upload
