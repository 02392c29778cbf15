"""What discovery and sync see of a store (S3 bucket or Azure container), and how one is built:
the backend the config names, wrapped in DecryptingStore (its PGP-encrypted files read as their
plaintext).

Each cloud SDK lives in its own modules (boto3 in s3.py, with sqs.py for the event mode's queue;
the Azure SDK in azure.py, with azure_queue.py), imported only here, when they are needed."""

import collections
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from tap_intacct.dds.files import StoredFile
from tap_intacct.reading import openpgp
from tap_intacct.reading.decryption import Decrypting

if TYPE_CHECKING:
    from tap_intacct.reading.pgpkeys import Keyring
    from tap_intacct.settings.config import Config
    from tap_intacct.settings.knobs import Knobs
    from tap_intacct.storage.events import QueuedMessage

NOTES = 1024  # the encryption notes kept for --test (the newest files read by read_range)


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

    def head(self, key: str) -> StoredFile | None:
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
    backend = store.backend if isinstance(store, DecryptingStore) else store
    if config.storage == "azure":
        from tap_intacct.storage import azure, azure_queue
        assert isinstance(backend, azure.Container)  # connect() built it from the same config
        return azure_queue.StorageQueue(config, knobs, backend)
    from tap_intacct.storage import s3, sqs
    assert isinstance(backend, s3.Bucket)
    return sqs.SqsQueue(config, knobs, backend)


class DecryptingStore:
    """`store` (a Store) with its encrypted files read as their plaintext
    (reading.decryption.Decrypting) with `keyring` (None: pgp_private_key is not set, and they
    are refused); other files pass through unchanged."""

    def __init__(self, store: Store, keyring: "Keyring | None") -> None:
        self._store = store
        self._keyring = keyring
        self.name = store.name
        self.kind = store.kind
        self.small_reads_in_flight = store.small_reads_in_flight
        self._notes: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def requests(self) -> Requests:
        return self._store.requests

    def location(self, prefix: str = "") -> str:
        return self._store.location(prefix)

    def list(self, prefix: str) -> Iterator[StoredFile]:
        return self._store.list(prefix)

    def head(self, key: str) -> StoredFile | None:
        return self._store.head(key)

    @property
    def backend(self) -> Store:
        """The store under the decryption (the event mode's queue uses its client's
        credentials: connect_queue)."""
        return self._store

    def read_range(self, stored: StoredFile, length: int) -> bytes:
        """The first `length` bytes of the file's plaintext: an encrypted file is downloaded
        and decrypted whole (its integrity is only known at its end)."""
        data = self._store.read_range(stored, length)
        if openpgp.kind(data) is None:
            return data
        with self.open(stored) as plaintext:
            data = plaintext.read(length)
            note = _decrypting_of(plaintext).note
        with self._lock:
            self._notes[stored.key] = note
            while len(self._notes) > NOTES:
                self._notes.popitem(last=False)
        return data

    def open(self, stored: StoredFile) -> io.BufferedReader:
        """The file's plaintext as a stream; the download starts now, decryption (if the file
        is encrypted) at the first read."""
        return io.BufferedReader(Decrypting(self._store.open(stored), stored.key, self._keyring),
                                 buffer_size=1 << 16)

    def note(self, stored: StoredFile) -> str:
        """', PGP-encrypted to key ID …' for a file read_range decrypted, else ''."""
        with self._lock:
            return self._notes.get(stored.key, "")


def encryption_note(store: object, stored: StoredFile) -> str:
    """For --test: how the newest file of an object (read with read_range) was encrypted."""
    return store.note(stored) if isinstance(store, DecryptingStore) else ""


def _decrypting_of(reader: io.BufferedReader) -> Decrypting:
    raw = reader.raw
    assert isinstance(raw, Decrypting)
    return raw


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
