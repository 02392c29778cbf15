"""The only module importing boto3, and the one that talks to S3 and STS: credentials (the role
chain, whose session sqs.py's queue client shares), listing, reading objects, and uploading
batch files to s3:// URLs (BatchUploader).

Everything above the stores sees a Bucket as a store.Store: list(prefix), head(key),
read_range(file, length) and open(file). Its requests go through the one retry policy
(retry.py, with this module's is_transient), so a caller sees a failure only once every attempt
failed. A failure that concerns the whole bucket (credentials, missing bucket, listing refused)
is a StorageError; one that concerns a single object is an ObjectError, which stops only that
file's stream (FileGone for an object deleted or replaced since the listing: it is skipped).
"""

import collections
import contextlib
import datetime
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.parsers
import botocore.session
import urllib3.exceptions

from tap_intacct.dds.files import StoredFile
from tap_intacct.errors import FileGone, ObjectError, StorageError
from tap_intacct.settings.knobs import Knobs
from tap_intacct.storage import pages, request_metrics, retry
from tap_intacct.storage.credentials_cache import CredentialCache
from tap_intacct.storage.resumable import ResumableReads

if TYPE_CHECKING:
    from tap_intacct.settings.config import Config

T = TypeVar("T")

LOGGER = logging.getLogger("tap_intacct")

# Codes that will not change by asking again; everything else retryable is retried.
PERMANENT_CODES = frozenset({
    "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "NoSuchBucket", "InvalidBucketName", "ExpiredToken", "InvalidClientTokenId",
    "InvalidToken", "AuthorizationHeaderMalformed", "PermanentRedirect", "InvalidObjectState",
    "403", "400",
})
# Codes (and exceptions below) about the bucket or the credentials, not about one object: they
# stop the run at once. Any other failure to read an object stops only its stream.
BUCKET_CODES = frozenset({
    "NoSuchBucket", "InvalidBucketName", "AllAccessDisabled", "InvalidAccessKeyId",
    "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "InvalidClientTokenId",
    "AuthorizationHeaderMalformed", "PermanentRedirect", "TokenRefreshRequired",
})
BUCKET_EXCEPTIONS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.CredentialRetrievalError,
)
RETRYABLE_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestTimeout",
    "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "500", "502", "503", "504",
})
TRANSIENT_EXCEPTIONS = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    pages.MalformedPage,  # a listing answer that is not a complete page: asked for again
)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, botocore.exceptions.ClientError):
        if error_code(exc) in PERMANENT_CODES:
            return False
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error_code(exc) in RETRYABLE_CODES or status in (429, 500, 502, 503, 504)
    return isinstance(exc, TRANSIENT_EXCEPTIONS)


def _refused(exc: BaseException) -> bool:
    """True if a policy refused the request (AccessDenied, or a 403 without a code: an IAM
    policy or a role's trust policy decides), or there are no credentials at all: `--test` then
    prints the policies the tap needs. Bad keys (also 403) are not such a refusal."""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code == "AccessDenied" or (code in ("", "403") and status == 403)
    return isinstance(exc, (botocore.exceptions.NoCredentialsError,
                            botocore.exceptions.PartialCredentialsError))


def _log_retry(details: dict[str, Any]) -> None:
    LOGGER.warning("S3 request failed (%s), retry %d in %.1fs",
                   _describe(details.get("exception")), details["tries"], details["wait"])


def _unreachable(service: str, endpoint: str, exc: BaseException) -> str:
    """What a failure to connect says: the endpoint that could not be reached, and why."""
    return f"the {service} endpoint {endpoint} could not be reached ({type(exc).__name__})"


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"{error.get('Code') or f'HTTP {status}'}: {error.get('Message') or 'no message'}"
    return f"{type(exc).__name__}: {exc}"


def retried(func: Callable[..., T], knobs: Knobs) -> Callable[..., T]:
    """Retry transient S3/STS failures with exponential backoff and full jitter, bounded: the
    first wait is up to knobs.retry_base_seconds, doubling each time, capped at 30 s."""
    return retry.retried(func, knobs, is_transient, _log_retry)


def timed(endpoint: str, request: Callable[..., T]) -> Callable[..., T]:
    """The request, logging singer's http_request_timer METRIC for each attempt."""
    def timed_request(**kwargs: Any) -> T:
        with request_metrics.http_request_timer(endpoint):
            return request(**kwargs)
    return timed_request


class RequestCounter:
    """Counts S3 (and SQS) API calls by operation name, for the closing log line and the
    benchmark; listings run in several threads at once (storage/listings.py)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_kwargs: Any) -> None:
        with self._lock:
            self.counts[model.name] += 1

    def summary(self) -> str:
        return " ".join(f"{op}={n}" for op, n in sorted(self.counts.items())) or "none"


# Discovery's header reads are tiny: their time is S3's latency, so many are kept in flight
# (README, "Running at scale"); the pool holds them and the 2 sample readers.
SMALL_READS_IN_FLIGHT = 32


def _client_config() -> botocore.config.Config:
    return botocore.config.Config(
        connect_timeout=10, read_timeout=60, max_pool_connections=SMALL_READS_IN_FLIGHT + 8,
        retries={"total_max_attempts": 1},  # retries are ours (see retried)
    )


def refresh_margins(session_seconds: int) -> tuple[int, int]:
    """(advisory, mandatory): how many seconds before an assumed role's credentials expire
    botocore refreshes them (and, advisory, how much must remain of cached ones). Its own 15 and
    10 minutes for sessions of an hour or more; a quarter and a sixth of a shorter session, so
    that a 15-minute session is not refreshed at every request but once, after 11 minutes
    (README "AWS access")."""
    return min(15 * 60, session_seconds // 4), min(10 * 60, session_seconds // 6)


class RoleChain:
    """The boto3 session to use: the default chain, or the configured role(s) assumed with
    refreshable credentials (proxy role first, when there is one)."""

    def __init__(self, config: "Config", knobs: Knobs) -> None:
        self.config = config
        self.knobs = knobs

    def session(self) -> boto3.Session:
        base = boto3.Session()
        if not self.config.role_arn:
            return base
        credentials_source = base
        if self.config.proxy_role_arn:
            credentials_source = self._assumed_session(base, self.config.proxy_role_arn, None)
        return self._assumed_session(credentials_source, self.config.role_arn,
                                     self.config.external_id)

    def _assumed_session(self, source_session: boto3.Session, role_arn: str,
                         external_id: str | None) -> boto3.Session:
        # endpoint_url is for S3 only: a VPC endpoint for S3 does not answer STS
        sts = source_session.client("sts", endpoint_url=self.config.sts_endpoint_url,
                                    config=_client_config())
        advisory, mandatory = refresh_margins(self.knobs.role_session_seconds)
        cache = CredentialCache(self.config.credentials_cache_path, role_arn, external_id,
                                datetime.timedelta(seconds=advisory))

        # Not botocore's AssumeRoleCredentialFetcher (with JSONFileCache): its cache key hashes
        # the RoleSessionName (ours differs per run: never a hit), an unusable cache file raises
        # KeyError or TypeError out of it (boto/botocore#3106), and our log line, retries and
        # messages would need a stand-in STS client. Its DeferredRefreshableCredentials takes no
        # refresh margins: at its 15/10 minutes a 900 s session is inside the refresh window
        # from the start (tests/e2e/test_roles.py's 60 files: 24 AssumeRole calls, not 1).
        def fetch() -> dict[str, str]:
            cached = cache.load()
            if cached:
                return cached
            kwargs = {"RoleArn": role_arn, "DurationSeconds": self.knobs.role_session_seconds,
                      "RoleSessionName": f"tap-intacct-{uuid.uuid4().hex[:12]}"}
            if external_id:
                kwargs["ExternalId"] = external_id
            LOGGER.info("Assuming role %s", role_arn)
            try:
                assume_role = retried(timed("AssumeRole", sts.assume_role), self.knobs)
                creds = assume_role(**kwargs)["Credentials"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                if isinstance(exc, botocore.exceptions.ConnectionError):
                    unreachable = _unreachable("STS", sts.meta.endpoint_url, exc)
                    raise StorageError(f"cannot assume role {role_arn}: {unreachable}; check "
                                       "sts_endpoint_url, the network and any proxy") from None
                raise StorageError(f"cannot assume role {role_arn}: {_describe(exc)}; check the "
                                   "role's trust policy and external ID",
                                   refused=_refused(exc)) from None
            metadata = {
                "access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat(),
            }
            cache.save(metadata)
            return metadata

        credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method=_AssumedRole.METHOD,
            advisory_timeout=advisory, mandatory_timeout=mandatory)
        core = botocore.session.get_session()
        core.register_component("credential_provider",
                                botocore.credentials.CredentialResolver([_AssumedRole(credentials)]))
        return boto3.Session(botocore_session=core,
                             region_name=source_session.region_name or "us-east-1")


class _AssumedRole(botocore.credentials.CredentialProvider):
    """The only link in a session's credential chain: the role's refreshable credentials."""

    METHOD = "sts-assume-role"

    def __init__(self, credentials: botocore.credentials.RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> botocore.credentials.RefreshableCredentials:
        return self._credentials


class Bucket(ResumableReads):
    """One bucket, one boto3 client, built once per run and handed to discovery and sync."""

    small_reads_in_flight = SMALL_READS_IN_FLIGHT

    def __init__(self, config: "Config", knobs: Knobs | None = None) -> None:
        self.config = config
        self.knobs = knobs or Knobs()
        self.name = config.bucket or ""  # config.validate requires it for storage s3
        self.kind = "S3"
        self.requests = RequestCounter()
        session = RoleChain(config, self.knobs).session()
        self.session = session  # the event mode's SQS client uses it too (storage/sqs.py)
        self._client = session.client("s3", endpoint_url=config.endpoint_url,
                                      config=_client_config())
        self._client.meta.events.register("before-call.s3", self.requests)
        self._client.meta.events.register("after-call.s3.GetObject", _keep_connection)

    def _failure(self, exc: BaseException, what: str,
                 key: str | None = None) -> StorageError | ObjectError:
        """The error for a refused or failed request, naming the bucket, the prefix or key, and
        the role: an ObjectError when it concerns only the object `key`, else a StorageError."""
        role = f" as role {self.config.role_arn}" if self.config.role_arn else ""
        code = error_code(exc)
        hint = {
            "NoSuchBucket": "check 'bucket'",
            "AccessDenied": "check the IAM policy allows s3:ListBucket and s3:GetObject here",
            "InvalidAccessKeyId": "check the AWS credentials",
            "SignatureDoesNotMatch": "check the AWS credentials",
            "ExpiredToken": "the AWS session token has expired",
            "InvalidObjectState": "the object is archived; restore it to read it",
        }.get(code, "")
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            hint = "set AWS credentials (environment, profile or instance role) or role settings"
        if key is None and is_transient(exc):  # the listing, still failing after the retries
            hint = (f"still failing after {self.knobs.max_tries} attempt(s); nothing was read "
                    "or bookmarked: run again later")
        if key is not None and code == "AccessDenied":
            hint = ("check the IAM policy allows s3:GetObject on it (and kms:Decrypt on the key "
                    "of a KMS-encrypted file)")
        reason = _describe(exc)
        if isinstance(exc, botocore.exceptions.ConnectionError):
            reason = _unreachable("S3", self._client.meta.endpoint_url, exc)
            hint = "check endpoint_url, the network and any proxy"
        message = f"cannot {what} in s3://{self.name}/{role}: {reason}" + (
            f"; {hint}" if hint else "")
        if key is None or code in BUCKET_CODES or isinstance(exc, BUCKET_EXCEPTIONS):
            return StorageError(message, refused=_refused(exc))
        return ObjectError(key, message)

    def location(self, prefix: str = "") -> str:
        """Where prefix is, as messages show it."""
        return f"s3://{self.name}/{prefix}"

    def list(self, prefix: str) -> Iterator[StoredFile]:
        """Yield every object directly under prefix: one paginated pass, sub-folders not entered.

        Every page is checked (pages.check_s3) before any of its objects is yielded; a page that
        is not complete and well-formed is asked for again like a 503, and then fails the listing
        with a StorageError naming the bucket and prefix, never ends it early."""
        request = timed("ListObjectsV2", self._client.list_objects_v2)

        def checked_page(**kwargs: Any) -> dict[str, Any]:
            try:
                page = request(**kwargs)
            except botocore.parsers.ResponseParserError as exc:  # older botocore: not a 500
                raise pages.MalformedPage("ListObjectsV2", f"not XML: {exc}") from None
            pages.check_s3(page, bucket=self.name, prefix=prefix,
                           token_sent=kwargs.get("ContinuationToken"))
            return page

        list_page = retried(checked_page, self.knobs)
        kwargs = {"Bucket": self.name, "Prefix": prefix, "Delimiter": "/", "MaxKeys": 1000}
        subfolders = 0
        while True:
            try:
                page = list_page(**kwargs)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                    pages.MalformedPage) as exc:
                raise self._failure(exc, f"list prefix '{prefix}'") from None
            subfolders += len(page.get("CommonPrefixes", ()))
            for item in page.get("Contents", ()):
                yield StoredFile(
                    key=item["Key"], size=item.get("Size", 0),
                    last_modified=item["LastModified"].astimezone(datetime.timezone.utc),
                    etag=item.get("ETag", ""), storage_class=item.get("StorageClass", "STANDARD"))
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        if subfolders:
            LOGGER.info("Ignored %d sub-folder(s) under s3://%s/%s (only direct children are "
                        "DDS exports)", subfolders, self.name, prefix)

    def head(self, key: str) -> StoredFile | None:
        """The object `key` as a listing would describe it (a HeadObject request), or None if
        there is none (the event mode: an event names a key, the object says the rest)."""
        request = retried(timed("HeadObject", self._client.head_object), self.knobs)
        try:
            response = request(Bucket=self.name, Key=key)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._failure(exc, f"look at '{key}'") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._failure(exc, f"look at '{key}'") from None
        return StoredFile(key=key, size=response.get("ContentLength", 0),
                          last_modified=response["LastModified"].astimezone(
                              datetime.timezone.utc),
                          etag=response.get("ETag", ""),
                          storage_class=response.get("StorageClass", "STANDARD"))

    def get(self, stored: StoredFile, first_byte: int,
            last_byte: int | None = None) -> tuple["_Body", int]:
        """One GetObject attempt for bytes first_byte..last_byte (default: to the end), pinned to
        the listed ETag.

        Returns (body, bytes to skip): a server that ignores Range answers 200 with the whole
        object, whose first first_byte bytes the caller drops. Transient failures are raised as
        they are (the caller retries); the others as FileGone, ObjectError or StorageError.
        """
        kwargs = {"Bucket": self.name, "Key": stored.key}
        if stored.etag:
            kwargs["IfMatch"] = stored.etag
        ranged = first_byte > 0 or last_byte is not None
        if ranged:
            kwargs["Range"] = f"bytes={first_byte}-{'' if last_byte is None else last_byte}"
        try:
            response = timed("GetObject", self._client.get_object)(**kwargs)
        except botocore.exceptions.ClientError as exc:
            if is_transient(exc):
                raise
            code = error_code(exc)
            if code in ("NoSuchKey", "404"):
                raise FileGone(stored.key, "it was deleted after the listing") from None
            if code in ("PreconditionFailed", "412"):
                raise FileGone(stored.key, "it was replaced after the listing; its new version "
                                           "is read on the next run") from None
            raise self._failure(exc, f"read '{stored.key}'", stored.key) from None
        except botocore.exceptions.BotoCoreError as exc:
            if is_transient(exc):
                raise
            raise self._failure(exc, f"read '{stored.key}'", stored.key) from None
        body = _Body(response["Body"], response.pop(CONNECTION, None))
        if not ranged:
            return body, 0
        return body, self._range_skip(stored, first_byte, response)

    def _range_skip(self, stored: StoredFile, first_byte: int, response: dict[str, Any]) -> int:
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        content_range = response.get("ContentRange") or ""
        if status == 206 and content_range.startswith(f"bytes {first_byte}-"):
            return 0
        if status == 200:
            if first_byte:
                LOGGER.warning("%s: the server ignored the Range header and sent the whole "
                               "object; dropping its first %d bytes", stored.key, first_byte)
            return first_byte
        response["Body"].close()
        raise ObjectError(stored.key, f"cannot read '{stored.key}' in s3://{self.name}/: asked "
                                      f"for bytes from {first_byte}, the server answered HTTP "
                                      f"{status} with Content-Range {content_range!r}")

    # What ResumableBody needs besides get() and knobs.
    is_transient = staticmethod(is_transient)
    describe = staticmethod(_describe)

    def failure(self, exc: BaseException, what: str,
                key: str | None = None) -> StorageError | ObjectError:
        return self._failure(exc, what, key)

    @staticmethod
    def interrupt(body: "_Body") -> None:
        if hasattr(body.connection, "shutdown"):  # urllib3 2.3+; else the read timeout ends it
            # refused when the body was closed or fully read meanwhile: nothing to wake then
            with contextlib.suppress(ValueError, RuntimeError, OSError):
                body.connection.shutdown()


# The GetObject response key under which _keep_connection leaves the HTTP response the body is
# read from (botocore's StreamingBody does not expose it).
CONNECTION = "TapIntacctConnection"


def _keep_connection(http_response: Any, parsed: dict[str, Any], **_kwargs: Any) -> None:
    """botocore's after-call event handler for GetObject: keeps the HTTP response under the
    body, whose shutdown() is the only way to end a read blocked on the network."""
    parsed[CONNECTION] = getattr(http_response, "raw", None)


class _Body:
    """An object's body (read, close) and the connection it is read from (for interrupt)."""

    def __init__(self, streaming: Any, connection: Any) -> None:
        self.read = streaming.read
        self.close = streaming.close
        self.connection = connection


class BatchUploader:
    """Uploads finished batch files to their s3:// URLs with boto3's default credentials (the
    loader's staging bucket, not the DDS bucket: the DDS role is not used here). The client is
    built on the first upload."""

    def __init__(self, knobs: Knobs) -> None:
        self._knobs = knobs
        self._client: Any = None

    def __call__(self, path: str, url: str) -> None:
        bucket, _, key = url[len("s3://"):].partition("/")
        if self._client is None:
            self._client = boto3.Session().client("s3", config=_client_config())
        upload = retried(timed("PutObject", self._client.upload_file), self._knobs)
        try:
            upload(Filename=path, Bucket=bucket, Key=key)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                boto3.exceptions.S3UploadFailedError) as exc:
            raise StorageError(f"cannot upload the batch file to {url}: {_describe(exc)}; "
                               "check batch_config storage.root and the AWS credentials of the "
                               "tap's environment") from None
