"""The only module that talks to AWS: credentials (role chain), listing, and reading objects.

Everything above this module sees a Bucket with three verbs: list(prefix), read_range(file, ...)
and open(file). Retries live here too, so callers never see a transient failure.
"""

import collections
import datetime
import hashlib
import io
import json
import logging
import os
import random
import time
import uuid

import backoff
import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
import urllib3.exceptions
from singer import metrics

from tap_intacct.errors import FileGone, StorageError
from tap_intacct.files import StoredFile
from tap_intacct.readahead import ReadAhead

LOGGER = logging.getLogger("tap_intacct")

# Assumed-role session length; botocore refreshes the credentials 15 minutes before they expire.
SESSION_SECONDS = int(os.environ.get("TAP_INTACCT_ROLE_SESSION_SECONDS", "3600"))
# Codes that will not change by asking again; everything else retryable is retried.
PERMANENT_CODES = frozenset({
    "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "NoSuchBucket", "InvalidBucketName", "ExpiredToken", "InvalidClientTokenId",
    "InvalidToken", "AuthorizationHeaderMalformed", "PermanentRedirect", "InvalidObjectState",
    "403", "400",
})
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
)
MAX_TRIES = int(os.environ.get("TAP_INTACCT_MAX_TRIES", "8"))
# Seconds for the first retry; doubles each time (full jitter), capped at 30 s.
RETRY_BASE_SECONDS = float(os.environ.get("TAP_INTACCT_RETRY_BASE_SECONDS", "0.5"))


def error_code(exc):
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(exc):
    if isinstance(exc, botocore.exceptions.ClientError):
        if error_code(exc) in PERMANENT_CODES:
            return False
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error_code(exc) in RETRYABLE_CODES or status in (429, 500, 502, 503, 504)
    return isinstance(exc, TRANSIENT_EXCEPTIONS)


def _log_retry(details):
    LOGGER.warning("S3 request failed (%s), retry %d in %.1fs",
                   _describe(details.get("exception")), details["tries"], details["wait"])


def _describe(exc):
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"{error.get('Code') or f'HTTP {status}'}: {error.get('Message') or 'no message'}"
    return f"{type(exc).__name__}: {exc}"


def retried(func):
    """Retry transient S3/STS failures with exponential backoff and full jitter, bounded."""
    return backoff.on_exception(
        backoff.expo, Exception, giveup=lambda exc: not is_transient(exc),
        max_tries=MAX_TRIES, factor=RETRY_BASE_SECONDS, max_value=30,
        jitter=backoff.full_jitter, on_backoff=_log_retry, logger=None,
    )(func)


def timed(endpoint, request):
    """The request, logging singer's http_request_timer METRIC for each attempt."""
    def timed_request(**kwargs):
        with metrics.http_request_timer(endpoint):
            return request(**kwargs)
    return timed_request


class RequestCounter:
    """Counts S3 API calls by operation name, for the closing log line and the benchmark."""

    def __init__(self):
        self.counts = collections.Counter()

    def __call__(self, model, **_kwargs):
        self.counts[model.name] += 1

    def summary(self):
        return " ".join(f"{op}={n}" for op, n in sorted(self.counts.items())) or "none"


def _client_config():
    return botocore.config.Config(
        connect_timeout=10, read_timeout=60, max_pool_connections=16,
        retries={"total_max_attempts": 1},  # retries are ours (see retried)
    )


class RoleChain:
    """The boto3 session to use: the default chain, or the configured role(s) assumed with
    refreshable credentials (proxy role first, when there is one)."""

    def __init__(self, config):
        self.config = config

    def session(self):
        base = boto3.Session()
        if not self.config.role_arn:
            return base
        credentials_source = base
        if self.config.proxy_role_arn:
            credentials_source = self._assumed_session(base, self.config.proxy_role_arn, None)
        return self._assumed_session(credentials_source, self.config.role_arn,
                                     self.config.external_id)

    def _assumed_session(self, source_session, role_arn, external_id):
        sts = source_session.client("sts", endpoint_url=self.config.endpoint_url,
                                    config=_client_config())
        cache = CredentialCache(self.config.credentials_cache_path, role_arn, external_id)

        def fetch():
            cached = cache.load()
            if cached:
                return cached
            kwargs = {"RoleArn": role_arn, "DurationSeconds": SESSION_SECONDS,
                      "RoleSessionName": f"tap-intacct-{uuid.uuid4().hex[:12]}"}
            if external_id:
                kwargs["ExternalId"] = external_id
            LOGGER.info("Assuming role %s", role_arn)
            try:
                creds = retried(timed("AssumeRole", sts.assume_role))(**kwargs)["Credentials"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                raise StorageError(f"cannot assume role {role_arn}: {_describe(exc)}; check the "
                                   "role's trust policy and external ID") from None
            metadata = {
                "access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat(),
            }
            cache.save(metadata)
            return metadata

        credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role")
        core = botocore.session.get_session()
        core._credentials = credentials  # botocore has no public setter for these
        return boto3.Session(botocore_session=core,
                             region_name=source_session.region_name or "us-east-1")


class CredentialCache:
    """Assumed-role credentials kept in a 0600 JSON file until 10 minutes before they expire."""

    MARGIN = datetime.timedelta(minutes=10)

    def __init__(self, folder, role_arn, external_id):
        self.path = None
        if folder:
            digest = hashlib.sha256(f"{role_arn}|{external_id}".encode()).hexdigest()[:32]
            self.path = os.path.join(os.path.expanduser(folder), f"tap-intacct-{digest}.json")

    def load(self):
        if not self.path or not os.path.exists(self.path):
            return None
        try:
            with open(self.path, encoding="utf-8") as handle:
                metadata = json.load(handle)
            expiry = datetime.datetime.fromisoformat(metadata["expiry_time"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if expiry - self.MARGIN <= datetime.datetime.now(datetime.timezone.utc):
            return None
        return metadata

    def save(self, metadata):
        if not self.path:
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(metadata, handle)
        except OSError as exc:
            LOGGER.warning("Cannot write the credentials cache %s: %s", self.path, exc.strerror)


class Bucket:
    """One bucket, one boto3 client, built once per run and handed to discovery and sync."""

    def __init__(self, config):
        self.config = config
        self.name = config.bucket
        self.requests = RequestCounter()
        session = RoleChain(config).session()
        self._client = session.client("s3", endpoint_url=config.endpoint_url,
                                      config=_client_config())
        self._client.meta.events.register("before-call.s3", self.requests)

    def _failure(self, exc, what):
        """A StorageError naming the bucket, prefix or key, and the role in use."""
        role = f" as role {self.config.role_arn}" if self.config.role_arn else ""
        code = error_code(exc)
        hint = {
            "NoSuchBucket": "check 'bucket'",
            "AccessDenied": "check the IAM policy allows s3:ListBucket and s3:GetObject here",
            "InvalidAccessKeyId": "check the AWS credentials",
            "SignatureDoesNotMatch": "check the AWS credentials",
            "ExpiredToken": "the AWS session token has expired",
        }.get(code, "")
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            hint = "set AWS credentials (environment, profile or instance role) or role settings"
        return StorageError(f"cannot {what} in s3://{self.name}/{role}: {_describe(exc)}"
                            + (f"; {hint}" if hint else ""))

    def list(self, prefix):
        """Yield every object directly under prefix: one paginated pass, sub-folders not entered."""
        list_page = retried(timed("ListObjectsV2", self._client.list_objects_v2))
        kwargs = {"Bucket": self.name, "Prefix": prefix, "Delimiter": "/", "MaxKeys": 1000}
        subfolders = 0
        while True:
            try:
                page = list_page(**kwargs)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
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

    def _get(self, stored, first_byte, last_byte=None):
        """GetObject pinned to the listed ETag, from first_byte (inclusive) to last_byte."""
        kwargs = {"Bucket": self.name, "Key": stored.key}
        if stored.etag:
            kwargs["IfMatch"] = stored.etag
        if first_byte or last_byte is not None:
            kwargs["Range"] = f"bytes={first_byte}-{'' if last_byte is None else last_byte}"
        try:
            return retried(timed("GetObject", self._client.get_object))(**kwargs)["Body"]
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc)
            if code in ("NoSuchKey", "404"):
                raise FileGone(stored.key, "it was deleted after the listing") from None
            if code in ("PreconditionFailed", "412"):
                raise FileGone(stored.key, "it was replaced after the listing; its new version "
                                           "is read on the next run") from None
            if code == "InvalidRange":
                return io.BytesIO(b"")
            raise self._failure(exc, f"read '{stored.key}'") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._failure(exc, f"read '{stored.key}'") from None

    def read_range(self, stored, length):
        """The first `length` bytes of the object (fewer if it is shorter)."""
        @retried
        def get_and_read():
            body = self._get(stored, 0, max(length, 1) - 1)
            try:
                return body.read()
            finally:
                body.close()
        try:
            return get_and_read()
        except TRANSIENT_EXCEPTIONS as exc:
            raise self._failure(exc, f"read '{stored.key}'") from None

    def open(self, stored):
        """A binary stream of the whole object, fetched ahead of the reader in a thread, that
        resumes where it stopped after a cut. The GET starts now."""
        return io.BufferedReader(ReadAhead(ResumableBody(self, stored)), buffer_size=1 << 16)


class ResumableBody(io.RawIOBase):
    """Reads an object's body; after a network failure, continues with a ranged GET pinned to the
    listed ETag from the first byte not yet received. Never reports end of file early."""

    def __init__(self, bucket, stored):
        super().__init__()
        self._bucket = bucket
        self._stored = stored
        self._position = 0
        self._body = None
        self._failures = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        while True:
            if self._body is None:
                if self._position >= self._stored.size:
                    return 0
                self._body = self._bucket._get(self._stored, self._position)
            try:
                chunk = self._body.read(len(buffer))
            except TRANSIENT_EXCEPTIONS as exc:
                self._retry_after(exc)
                continue
            if not chunk:
                self._body.close()
                self._body = None
                if self._position < self._stored.size:
                    self._retry_after(botocore.exceptions.IncompleteReadError(
                        actual_bytes=self._position, expected_bytes=self._stored.size))
                    continue
                return 0
            self._failures = 0
            self._position += len(chunk)
            buffer[:len(chunk)] = chunk
            return len(chunk)

    def _retry_after(self, exc):
        if self._body is not None:
            self._body.close()
            self._body = None
        self._failures += 1
        if self._failures >= MAX_TRIES:
            raise self._bucket._failure(exc, f"read '{self._stored.key}' at byte {self._position}")
        wait = random.uniform(0, min(30, RETRY_BASE_SECONDS * 2 ** self._failures))
        LOGGER.warning("Reading %s stopped at byte %d (%s); resuming in %.1fs",
                       self._stored.key, self._position, _describe(exc), wait)
        time.sleep(wait)

    def close(self):
        if self._body is not None:
            self._body.close()
            self._body = None
        super().close()


def upload_batch_file(path, url):
    """Upload a finished batch file to its s3:// URL with boto3's default credentials (the
    loader's staging bucket, not the DDS bucket: the DDS role is not used here)."""
    bucket, _, key = url[len("s3://"):].partition("/")
    client = boto3.Session().client("s3", config=_client_config())
    try:
        retried(timed("PutObject", client.upload_file))(Filename=path, Bucket=bucket, Key=key)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
            boto3.exceptions.S3UploadFailedError) as exc:
        raise StorageError(f"cannot upload the batch file to {url}: {_describe(exc)}; check "
                           "batch_config storage.root and the AWS credentials of the tap's "
                           "environment") from None
