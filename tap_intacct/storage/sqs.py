"""The event mode's queue for S3 (README, "Event mode"): the SQS queue that the bucket's event
notifications (ObjectCreated) are delivered to. The only module that talks to SQS; it uses the
bucket's boto3 session (the same credentials and role chain), the one retry policy and the
bucket's request counter.
"""

import logging
import re
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from tap_intacct.errors import StorageError
from tap_intacct.settings.knobs import Knobs
from tap_intacct.storage.events import QueuedMessage
from tap_intacct.storage.s3 import _client_config, _describe, _refused, error_code, retried, timed

if TYPE_CHECKING:
    from tap_intacct.settings.config import Config
    from tap_intacct.storage.s3 import Bucket

LOGGER = logging.getLogger("tap_intacct")

# How long a received message stays invisible to other receivers while a run reads the queue
# (10 messages a request): long enough to read a backlog once. The messages a run does not delete
# are then made visible again at once (release).
VISIBILITY_SECONDS = 120
WAIT_SECONDS = 1  # long polling: every SQS server is asked, so an empty answer means empty
BATCH = 10  # SQS's most messages per ReceiveMessage and per DeleteMessageBatch
_REGION = re.compile(r"^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-[0-9])\.(?:queue\.)?amazonaws\.com", re.I)


def region_of(queue_url: str) -> str | None:
    """The AWS region a queue URL names (https://sqs.<region>.amazonaws.com/<account>/<name>,
    or the older https://<region>.queue.amazonaws.com/...), None for another host."""
    host = urllib.parse.urlsplit(queue_url).hostname or ""
    if host.lower() == "queue.amazonaws.com":
        return "us-east-1"
    match = _REGION.match(host)
    return match.group(1).lower() if match else None


class SqsQueue:
    """One SQS queue, one boto3 client (built from the bucket's session)."""

    def __init__(self, config: "Config", knobs: Knobs, bucket: "Bucket") -> None:
        self.url = config.events_queue or ""  # config.validate requires it for listing events
        self.knobs = knobs
        self.role = config.role_arn
        parts = urllib.parse.urlsplit(self.url)
        region = region_of(self.url) or bucket.session.region_name or "us-east-1"
        self._client = bucket.session.client("sqs", endpoint_url=f"{parts.scheme}://{parts.netloc}",
                                             region_name=region, config=_client_config())
        self._client.meta.events.register("before-call.sqs", bucket.requests)

    def location(self) -> str:
        return self.url

    def _failure(self, exc: BaseException, what: str) -> StorageError:
        code = error_code(exc)
        role = f" as role {self.role}" if self.role else ""
        hint = ("check 'events_queue' (the queue's URL, as the SQS console shows it)"
                if "NonExistentQueue" in code or code == "QueueDoesNotExist" else
                "allow sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on "
                "the queue (README, 'Event mode')" if _refused(exc) or code == "AccessDenied"
                else "")
        return StorageError(f"cannot {what} SQS queue {self.url}{role}: {_describe(exc)}"
                            + (f"; {hint}" if hint else ""), refused=_refused(exc))

    def _call(self, operation: str, what: str, **kwargs: Any) -> dict[str, Any]:
        request = retried(timed(operation, getattr(self._client, _snake(operation))), self.knobs)
        try:
            return request(QueueUrl=self.url, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._failure(exc, what) from None

    def receive(self) -> list[QueuedMessage]:
        answer = self._call("ReceiveMessage", "receive messages from", MaxNumberOfMessages=BATCH,
                            WaitTimeSeconds=WAIT_SECONDS, VisibilityTimeout=VISIBILITY_SECONDS)
        return [QueuedMessage(message["MessageId"], message["ReceiptHandle"],
                              message.get("Body", ""))
                for message in answer.get("Messages", ())]

    def delete(self, messages: Sequence[QueuedMessage]) -> None:
        for start in range(0, len(messages), BATCH):
            chunk = messages[start:start + BATCH]
            answer = self._call("DeleteMessageBatch", "delete messages from", Entries=[
                {"Id": str(n), "ReceiptHandle": message.receipt}
                for n, message in enumerate(chunk)])
            for failed in answer.get("Failed", ()):
                # the message comes back and is looked at again by the next run: harmless
                LOGGER.warning("SQS did not delete message %s (%s: %s); the next run looks at "
                               "it again", chunk[int(failed["Id"])].message_id,
                               failed.get("Code"), failed.get("Message"))

    def release(self, messages: Sequence[QueuedMessage]) -> None:
        for start in range(0, len(messages), BATCH):
            chunk = messages[start:start + BATCH]
            answer = self._call("ChangeMessageVisibilityBatch", "release messages of", Entries=[
                {"Id": str(n), "ReceiptHandle": message.receipt, "VisibilityTimeout": 0}
                for n, message in enumerate(chunk)])
            if answer.get("Failed"):  # they come back once their invisibility ends: harmless
                LOGGER.info("SQS did not make %d message(s) visible again at once; they are "
                            "back in %d s", len(answer["Failed"]), VISIBILITY_SECONDS)

    def waiting(self) -> int:
        answer = self._call("GetQueueAttributes", "read", AttributeNames=[
            "ApproximateNumberOfMessages"])
        return int(answer.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower()
