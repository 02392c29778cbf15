"""The only module that talks to Azure: credentials, listing, and reading blobs of one container.

It offers what s3.Bucket offers (see store.Store): list(prefix), head(key), read_range(file,
length) and open(file), with the same guarantees: one listing, reads pinned to the listed ETag
that resume with a ranged GET after a cut, our own bounded retries (the SDK's are off), per-blob
failures as ObjectError (FileGone for a blob deleted or replaced since the listing), failures
about the account, the credentials or the container as StorageError, and no secret in any log
line.
"""

import collections
import contextlib
import datetime
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import azure.storage.blob
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    IncompleteReadError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import ClientSecretCredential, DefaultAzureCredential
from azure.storage.blob import BlobClient, BlobPrefix, BlobServiceClient

from tap_intacct.dds.files import StoredFile
from tap_intacct.errors import FileGone, ObjectError, StorageError
from tap_intacct.settings.secrets import (
    connection_string_fields,
    connection_string_sas,
    container_in_url,
    sas_lapsed,
)
from tap_intacct.storage import pages, request_metrics, retry
from tap_intacct.storage.resumable import ResumableReads

if TYPE_CHECKING:
    from tap_intacct.settings.config import Config
    from tap_intacct.settings.knobs import Knobs

LOGGER = logging.getLogger("tap_intacct")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# About the account, the credentials or the container, not one blob: the run stops at once.
CONTAINER_CODES = frozenset({
    "AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch",
    "AuthorizationSourceIPMismatch", "AuthorizationProtocolMismatch",
    "AuthorizationServiceMismatch", "AuthorizationResourceTypeMismatch", "ContainerNotFound",
    "ContainerBeingDeleted", "AccountIsDisabled", "InsufficientAccountPermissions",
    "InvalidAuthenticationInfo", "NoAuthenticationInformation", "InvalidQueryParameterValue",
})
HINTS = {
    "AuthenticationFailed": "check azure_connection_string or azure_sas_token (account key, "
                            "SAS signature and expiry) and the machine's clock",
    # Azurite's answer to a wrong key or signature; Azure's to a SAS or network rule refusal
    "AuthorizationFailure": "check azure_connection_string or azure_sas_token (account key, "
                            "SAS signature, expiry, Read and List permissions) and the storage "
                            "account's network rules",
    "AuthorizationPermissionMismatch": "grant the identity the Storage Blob Data Reader role on "
                                       "the container (or a SAS with Read and List)",
    "ContainerNotFound": "check 'container' and 'azure_account_url'",
    "InvalidAuthenticationInfo": "check the Azure credential settings",
    "NoAuthenticationInformation": "set azure_connection_string, azure_sas_token or a service "
                                   "principal, or give DefaultAzureCredential an identity",
    "BlobArchived": "the blob is in the Archive tier; rehydrate it to read it",
}
# Refusals of the credentials or of their permissions: `--test` then says what access to give.
# (A refused IP address or protocol is the account's network rules, not an access grant.)
REFUSAL_CODES = frozenset({
    "AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch",
    "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch",
    "InsufficientAccountPermissions", "InvalidAuthenticationInfo", "NoAuthenticationInformation",
})
BODY_BLOCK_BYTES = 64 * 1024  # a cut loses at most this much of what was already received


class Redactor(logging.Filter):
    """Replaces secrets in every log record (the tap's own and any library's) before output."""

    PATTERNS = (re.compile(r"(sig=)[^&\s'\"]+", re.IGNORECASE),
                re.compile(r"(AccountKey=)[^;\s'\"]+", re.IGNORECASE),
                re.compile(r"(SharedAccessSignature=)[^;\s'\"]+", re.IGNORECASE))

    def __init__(self, secrets: list[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern in self.PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def error_code(exc: BaseException) -> str:
    if isinstance(exc, HttpResponseError):
        code = getattr(exc, "error_code", None)
        if not code and exc.response is not None:
            code = getattr(exc.response, "headers", {}).get("x-ms-error-code")
        return _text(code)
    return ""


def _text(value: Any) -> str:
    """The SDK gives some fields as str enums, others as plain strings."""
    return str(getattr(value, "value", value) or "")


def status_of(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) if isinstance(exc, HttpResponseError) else None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, pages.MalformedPage):  # a listing answer that is not a complete page
        return True
    if isinstance(exc, ClientAuthenticationError):
        return False
    if isinstance(exc, HttpResponseError) and status_of(exc) is not None:
        return status_of(exc) in RETRYABLE_STATUSES
    if isinstance(exc, (ServiceRequestError, ServiceResponseError, HttpResponseError,
                        IncompleteReadError, DecodeError)):
        # connection refused, reset, cut, timeout; not a refusal to send a token over http
        return "TLS" not in str(exc)
    return isinstance(exc, OSError)


def describe(exc: BaseException | None) -> str:
    """One line, no secret: the error code and status, or the exception's first line."""
    if isinstance(exc, HttpResponseError) and status_of(exc) is not None:
        return f"{error_code(exc) or 'HTTP ' + str(status_of(exc))} (HTTP {status_of(exc)})"
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first_line}"


class RequestCounter:
    """Counts HTTP requests to the blob service by operation, for the closing log line."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()  # listings run in several threads (storage/listings.py)

    def __call__(self, pipeline_request: Any) -> None:
        request = pipeline_request.http_request
        if "comp=list" in request.url:
            operation = "ListBlobs"
        else:
            operation = {"GET": "GetBlob", "HEAD": "GetBlobProperties"}.get(request.method,
                                                                           request.method)
        self.count(operation)

    def count(self, operation: str) -> None:
        """One more request of `operation` (the event mode's queue requests count here too)."""
        with self._lock:
            self.counts[operation] += 1

    def summary(self) -> str:
        return " ".join(f"{op}={n}" for op, n in sorted(self.counts.items())) or "none"


def _credential_and_url(config: "Config") -> tuple[Any, str, list[str | None]]:
    # config.validate checked that the settings of the chosen way are all there
    """(credential, account URL, secrets to keep out of logs) for the configured way in."""
    if config.azure_connection_string:
        parsed = BlobServiceClient.from_connection_string(config.azure_connection_string)
        url = config.azure_account_url or parsed.url.split("?", 1)[0]
        fields = connection_string_fields(config.azure_connection_string)
        secrets = [config.azure_connection_string, fields.get("ACCOUNTKEY"),
                   fields.get("SHAREDACCESSSIGNATURE")]
        # The SDK keeps a SharedAccessSignature in its client's URL (whose query is dropped
        # above), not as its credential: the token itself must be the credential, or every
        # request would go out unsigned.
        credential = parsed.credential or connection_string_sas(config.azure_connection_string)
        return credential, url, secrets
    if config.azure_sas_token:
        return config.azure_sas_token, config.azure_account_url or "", [config.azure_sas_token]
    if config.azure_client_secret:
        credential = ClientSecretCredential(config.azure_tenant_id or "",
                                            config.azure_client_id or "",
                                            config.azure_client_secret)
        return credential, config.azure_account_url or "", [config.azure_client_secret]
    return DefaultAzureCredential(), config.azure_account_url or "", []


class Container(ResumableReads):
    """One container, one BlobServiceClient, built once per run and handed to discovery and
    sync."""

    kind = "Azure"
    # with discovery's 2 sample readers, within the SDK's default pool of 10 connections, so that
    # no connection is opened and dropped per read
    small_reads_in_flight = 8

    def __init__(self, config: "Config", knobs: "Knobs") -> None:
        self.config = config
        self.knobs = knobs
        self.name = config.container or ""  # config.validate requires it for storage azure
        self.requests = RequestCounter()
        self.redactor = Redactor([config.azure_connection_string, config.azure_sas_token,
                                  config.azure_client_secret])
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.redactor)
        try:
            credential, url, secrets = _credential_and_url(config)
            service = BlobServiceClient(
                url, credential=credential, retry_total=0,  # retries are ours (retried)
                connection_timeout=10, read_timeout=60, logging_enable=False,
                raw_request_hook=self.requests, connection_data_block_size=BODY_BLOCK_BYTES)
        except ValueError as exc:  # a malformed connection string or URL
            first_line = (str(exc).strip().splitlines() or [""])[0]
            raise StorageError(self.redactor.redact(
                f"cannot use the Azure settings for container {self.name}: {first_line}; check "
                "azure_connection_string or azure_account_url")) from None
        self.redactor.secrets += [s for s in secrets if s and len(s) >= 4]
        self._account_url = url
        # the SAS the requests carry, and the setting holding it (for an expired token's hint)
        self._sas, self._sas_setting = (
            (config.azure_sas_token, "azure_sas_token") if config.azure_sas_token else
            (connection_string_sas(config.azure_connection_string), "azure_connection_string"))
        self.account = service.account_name
        # scheme://host[:port][/account for path-style URLs], without any SAS query string
        self._base = f"{service.scheme}://{service.primary_hostname}"
        self._container = service.get_container_client(self.name)

    def location(self, prefix: str = "") -> str:
        return f"{self._base}/{self.name}/{prefix}"

    def failure(self, exc: BaseException, what: str,
                key: str | None = None) -> StorageError | ObjectError:
        """The error for a refused or failed request: an ObjectError when it concerns only the
        blob `key`, else a StorageError naming account, container and what to check."""
        code = error_code(exc)
        hint = HINTS.get(code, "")
        refused = code in REFUSAL_CODES
        if isinstance(exc, ClientAuthenticationError) and not code:
            hint = ("check the Azure credential settings (or the identity found by "
                    "DefaultAzureCredential)")
        if key is not None and code == "AuthorizationPermissionMismatch":
            hint = "grant the identity read access (Storage Blob Data Reader) to the blob"
        lapsed = sas_lapsed(self._sas, datetime.datetime.now(datetime.timezone.utc))
        if refused and lapsed:
            hint = (f"the SAS token in {self._sas_setting} {lapsed}: put a new one there (Read "
                    "and List on the container)")
            refused = False
        if key is None and (code in ("BlobNotFound", "ResourceNotFound") or (
                status_of(exc) == 404 and code != "ContainerNotFound")):
            hint = self._url_hint()
        if key is None and is_transient(exc):  # the listing, still failing after the retries
            hint = (f"still failing after {self.knobs.max_tries} attempt(s); nothing was read "
                    "or bookmarked: run again later")
        if isinstance(exc, ServiceRequestError):
            hint = (f"nothing answered at {self._base}: check 'azure_account_url' (or the "
                    "BlobEndpoint of 'azure_connection_string'), the network and any firewall "
                    "or proxy on the way")
        message = self.redactor.redact(
            f"cannot {what} in {self.location()} (account {self.account}, container "
            f"{self.name}): {describe(exc)}" + (f"; {hint}" if hint else ""))
        if key is None or code in CONTAINER_CODES or (
                isinstance(exc, ClientAuthenticationError) and not code):
            return StorageError(message, refused=refused)
        return ObjectError(key, message)

    def _url_hint(self) -> str:
        """What to check when the listing's URL names no container (a container name in the
        account URL makes the container setting a blob name)."""
        named = container_in_url(self._account_url)
        return ("check the account URL ('azure_account_url', or the BlobEndpoint of "
                "'azure_connection_string'): it must be the storage account's blob service URL, "
                "without the container" + (f" (it includes {named!r}: remove it; the container "
                                           "goes in 'container')" if named else ""))

    def _log_retry(self, details: dict[str, Any]) -> None:
        LOGGER.warning("Azure request failed (%s), retry %d in %.1fs",
                       describe(details.get("exception")), details["tries"], details["wait"])

    def list(self, prefix: str) -> Iterator[StoredFile]:
        """Yield every blob directly under prefix: one paginated pass, sub-folders not entered.

        Every page's body is checked (pages.check_azure) before the SDK reads it; a page that is
        not complete and well-formed is asked for again like a 503 (the SDK's pager has not moved
        on: the check runs inside its request), and then fails the listing with a StorageError
        naming the container and prefix, never ends it early."""
        listed: Any = self._container.walk_blobs(
            name_starts_with=prefix, delimiter="/",
            raw_response_hook=self._page_check(prefix)).by_page()
        next_page = retry.retried(lambda: next(listed, None), self.knobs, is_transient,
                                  self._log_retry)
        subfolders = 0
        more = True
        while more:
            try:
                with request_metrics.http_request_timer("ListBlobs"):
                    page = next_page()
                if page is None:
                    break
                items = list(page)
            except (AzureError, pages.MalformedPage) as exc:
                raise self.failure(exc, f"list prefix '{prefix}'") from None
            more = bool(listed.continuation_token)  # else asking again would not be a request
            for item in items:
                if isinstance(item, BlobPrefix):
                    subfolders += 1
                    continue
                yield StoredFile(
                    key=item.name, size=item.size or 0,
                    last_modified=item.last_modified.astimezone(datetime.timezone.utc),
                    etag=item.etag or "", storage_class=_text(item.blob_tier) or "Hot")
        if subfolders:
            LOGGER.info("Ignored %d sub-folder(s) under %s (only direct children are DDS "
                        "exports)", subfolders, self.location(prefix))

    def _page_check(self, prefix: str) -> Callable[[Any], None]:
        """The SDK's raw_response_hook for List Blobs: raises pages.MalformedPage for an HTTP
        200 answer that is not a well-formed page (other statuses are the SDK's errors)."""
        def check(response: Any) -> None:
            answer = response.http_response
            if answer.status_code != 200:
                return
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.request.url).query)
            pages.check_azure(answer.body(), container=self.name, prefix=prefix,
                              marker_sent=query.get("marker", [""])[0])
        return check

    def get(self, stored: StoredFile, first_byte: int,
            last_byte: int | None = None) -> tuple["_Body", int]:
        """One Get Blob attempt for bytes first_byte..last_byte (default: to the end), pinned to
        the listed ETag: (body, bytes to skip). Transient failures are raised as they are (the
        caller retries); the others as FileGone, ObjectError or StorageError."""
        ranged = first_byte > 0 or last_byte is not None
        byte_range = f"bytes={first_byte}-{'' if last_byte is None else last_byte}"
        try:
            with request_metrics.http_request_timer("GetBlob"):
                status, stream = get_blob_stream(self._container.get_blob_client(stored.key),
                                                 byte_range if ranged else None, stored.etag)
        except AzureError as exc:
            if is_transient(exc):
                raise
            code, failed_status = error_code(exc), status_of(exc)
            if failed_status == 412 or code == "ConditionNotMet":
                raise self._changed(stored) from None
            if code == "BlobNotFound" or (failed_status == 404 and code != "ContainerNotFound"):
                raise FileGone(stored.key, "it was deleted after the listing") from None
            raise self.failure(exc, f"read '{stored.key}'", stored.key) from None
        skip = first_byte if ranged and status == 200 else 0
        if skip:
            LOGGER.warning("%s: the server ignored the Range header and sent the whole blob; "
                           "dropping its first %d bytes", stored.key, skip)
        return _Body(stream), skip

    def head(self, key: str) -> StoredFile | None:
        """The blob `key` as a listing would describe it (Get Blob Properties), or None if there
        is none (the event mode: an event names a blob, the blob says the rest)."""
        blob = self._container.get_blob_client(key)
        request = retry.retried(blob.get_blob_properties, self.knobs, is_transient,
                                self._log_retry)
        try:
            with request_metrics.http_request_timer("GetBlobProperties"):
                properties = request()
        except AzureError as exc:
            if status_of(exc) == 404 and error_code(exc) != "ContainerNotFound":
                return None
            raise self.failure(exc, f"look at '{key}'") from None
        return StoredFile(key=key, size=properties.size or 0,
                          last_modified=properties.last_modified.astimezone(
                              datetime.timezone.utc),
                          etag=properties.etag or "",
                          storage_class=_text(properties.blob_tier) or "Hot")

    def _changed(self, stored: StoredFile) -> FileGone:
        """FileGone for a blob whose ETag no longer matches: Azure (and Azurite) answer a
        conditional read of a deleted blob with 412 too, so one unconditional look tells
        deleted from replaced."""
        try:
            self._container.get_blob_client(stored.key).get_blob_properties()
        except ResourceNotFoundError:
            return FileGone(stored.key, "it was deleted after the listing")
        except AzureError:
            pass  # replaced is the likelier reading; either way the file is skipped
        return FileGone(stored.key, "it was replaced after the listing; its new version is read "
                                    "on the next run")

    # What ResumableBody needs besides get(), failure() and knobs.
    is_transient = staticmethod(is_transient)
    describe = staticmethod(describe)

    @staticmethod
    def interrupt(body: "_Body") -> None:
        body.interrupt()


# azure-storage-blob releases (first, last) whose private download operation, used by
# get_blob_stream alone, the Azure end-to-end suite has passed on. setup.py pins this range and
# tests/unit/test_azure_sdk.py fails on any other installed release.
VERIFIED_SDK_RELEASES = ((12, 23), (12, 31))


def get_blob_stream(blob: BlobClient, byte_range: str | None,
                    etag: str) -> tuple[int, Iterator[bytes]]:
    """One Get Blob request, with no SDK retry: (HTTP status, the body as a stream of blocks),
    pinned to `etag` when there is one.

    The one use of the SDK's private API. Its public download_blob reads each chunk whole into
    memory and retries a cut body itself (three attempts, one-second sleeps that stop() cannot
    end), outside the tap's retry policy; the generated operation under it has the same
    pipeline, authentication and errors, and gives the body as the stream that ResumableBody
    resumes byte-exactly (docs/ARCHITECTURE.md, "Third-party internals").
    """
    try:
        from azure.storage.blob._generated.models import ModifiedAccessConditions
        operations = blob._client.blob  # noqa: SLF001
    except (ImportError, AttributeError):
        raise StorageError(
            f"azure-storage-blob {azure.storage.blob.__version__} is not supported: install "
            f"tap-intacct[azure] (azure-storage-blob {'.'.join(map(str, VERIFIED_SDK_RELEASES[0]))}"
            f" to {'.'.join(map(str, VERIFIED_SDK_RELEASES[1]))})") from None
    return operations.download(
        range=byte_range, decompress=False,
        modified_access_conditions=ModifiedAccessConditions(if_match=etag or None),
        cls=lambda response, body, _headers: (response.http_response.status_code, body))


class _Body:
    """read(n) over the SDK's stream of blocks: up to n bytes, joined from as many blocks as it
    takes. A failure after some blocks arrived is raised by the next read, so that the bytes
    received are handed over first (the resume then starts after them)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._pending = b""
        self._failure: Exception | None = None

    def read(self, size: int) -> bytes:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        blocks, received = [self._pending], len(self._pending)
        try:
            while received < size:
                block = next(self._stream, b"")
                if not block:
                    break
                blocks.append(block)
                received += len(block)
        except Exception as exc:
            if not received:
                raise
            self._failure = exc
        data = b"".join(blocks)
        self._pending = data[size:]
        return data[:size]

    def close(self) -> None:
        self._stream.response.internal_response.close()

    def interrupt(self) -> None:
        raw: Any = getattr(self._stream.response.internal_response, "raw", None)
        if hasattr(raw, "shutdown"):  # urllib3 2.3+; with older ones the read timeout ends it
            with contextlib.suppress(ValueError, RuntimeError, OSError):
                raw.shutdown()
