"""An S3 + STS API on 127.0.0.1 (moto's server mode), with helpers to lay out DDS exports."""

import datetime
import gzip
import io
import logging
import os
import re
import socket
import zipfile

import boto3
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

# Dummy credentials for the embedded server; it accepts any.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing-access-key",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RequestLog(logging.Handler):
    """Every request the server handled as 'METHOD /path?query STATUS'."""

    def __init__(self):
        super().__init__()
        self.lines = []

    _LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+ \S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')

    def emit(self, record):
        match = self._LINE.search(record.getMessage())
        if match:
            self.lines.append(f"{match.group(1)} {match.group(2)}")

    def clear(self):
        self.lines.clear()


class EmbeddedS3:
    """moto's server in a thread of this process, so tests can also set LastModified directly."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        for name, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        self.requests = RequestLog()
        werkzeug_log = logging.getLogger("werkzeug")
        werkzeug_log.setLevel(logging.INFO)
        werkzeug_log.propagate = False  # keep the per-request lines off the console
        werkzeug_log.addHandler(self.requests)
        self._server.start()
        self.client = boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                                   aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    @property
    def _backend(self):
        return get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]

    def stop(self):
        self._server.stop()
        logging.getLogger("werkzeug").removeHandler(self.requests)

    def tap_environment(self):
        """Environment for a tap subprocess: only the fake credentials, never real ones."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(FAKE_CREDENTIALS)
        return env

    def create_bucket(self, name):
        self.client.create_bucket(Bucket=name)

    def put(self, bucket, key, body, last_modified=None, storage_class=None):
        """Store body (bytes or str) and optionally pin its LastModified (aware or naive UTC).

        Straight into the server's backend, as an upload would: the tap reads it over HTTP; a
        PUT through boto3 and the server costs about 3 ms of CPU, and tests lay out thousands.
        """
        if isinstance(body, str):
            body = body.encode("utf-8")
        self._backend.put_object(bucket, key, body, storage=storage_class)
        if last_modified is not None:
            self.set_last_modified(bucket, key, last_modified)

    def set_last_modified(self, bucket, key, moment):
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        self._backend.buckets[bucket].keys[key].last_modified = moment

    def delete(self, bucket, key):
        self.client.delete_object(Bucket=bucket, Key=key)

    @property
    def sqs(self):
        """A boto3 SQS client of the same server (moto serves SQS at the same address)."""
        return boto3.client("sqs", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def queue_url(self, name, bucket=None, prefix=""):
        """The URL of SQS queue `name` (created); with `bucket`, the bucket's ObjectCreated
        notifications under `prefix` are delivered to it, as S3 does (moto sends them, and a
        test event first)."""
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        if bucket is not None:
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
            self.client.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
                    "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}]})
        return url


def gzipped(data):
    return gzip.compress(data if isinstance(data, bytes) else data.encode("utf-8"))


def zipped(data, member="export.csv"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return buffer.getvalue()
