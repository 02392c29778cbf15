"""The event mode's queue for Azure (README, "Event mode"): the storage queue that an Event Grid
subscription delivers the container's BlobCreated events to. The only module importing
azure-storage-queue; it authenticates the way the container's settings say (account key, SAS
token, service principal or DefaultAzureCredential), retries with the one policy, counts its
requests with the container's, and no secret reaches a message.
"""

import logging
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import AzureError
from azure.identity import ClientSecretCredential, DefaultAzureCredential
from azure.storage.queue import QueueClient

from tap_intacct.errors import StorageError
from tap_intacct.settings.secrets import connection_string_fields, connection_string_sas
from tap_intacct.storage import retry
from tap_intacct.storage.azure import REFUSAL_CODES, describe, error_code, is_transient
from tap_intacct.storage.events import QueuedMessage

if TYPE_CHECKING:
    from tap_intacct.settings.config import Config
    from tap_intacct.settings.knobs import Knobs
    from tap_intacct.storage.azure import Container

LOGGER = logging.getLogger("tap_intacct")
VISIBILITY_SECONDS = 120  # as storage/sqs.py: long enough to read a backlog once
BATCH = 32  # the most messages one Get Messages request returns


def _credential(config: "Config") -> Any:
    """The queue's credential, from the same settings as the container's."""
    if config.azure_connection_string:
        fields = connection_string_fields(config.azure_connection_string)
        if fields.get("ACCOUNTKEY"):
            return AzureNamedKeyCredential(fields.get("ACCOUNTNAME", ""), fields["ACCOUNTKEY"])
        return connection_string_sas(config.azure_connection_string)
    if config.azure_sas_token:
        return config.azure_sas_token
    if config.azure_client_secret:
        return ClientSecretCredential(config.azure_tenant_id or "", config.azure_client_id or "",
                                      config.azure_client_secret)
    return DefaultAzureCredential()


class StorageQueue:
    """One storage queue, one QueueClient."""

    def __init__(self, config: "Config", knobs: "Knobs", container: "Container") -> None:
        self.knobs = knobs
        parts = urllib.parse.urlsplit(config.events_queue or "")  # validate requires it
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self._redact = container.redactor.redact
        self._count = container.requests.count
        try:
            self._client = QueueClient.from_queue_url(
                self.url, credential=_credential(config), retry_total=0,  # retries are ours
                connection_timeout=10, read_timeout=60, logging_enable=False,
                raw_request_hook=self._counted)
        except ValueError as exc:  # a URL the SDK cannot read as a queue's
            first_line = (str(exc).strip().splitlines() or [""])[0]
            raise StorageError(self._redact(f"cannot use events_queue {self.url}: {first_line}; "
                                            "it is the queue's URL, https://<account>.queue.core"
                                            ".windows.net/<queue>")) from None

    def _counted(self, pipeline_request: Any) -> None:
        request = pipeline_request.http_request
        self._count("DeleteMessage" if request.method == "DELETE" else
                    "UpdateMessage" if request.method == "PUT" else
                    "GetQueueProperties" if "comp=metadata" in request.url else "GetMessages")

    def location(self) -> str:
        return self.url

    def _log_retry(self, details: dict[str, Any]) -> None:
        LOGGER.warning("Azure queue request failed (%s), retry %d in %.1fs",
                       describe(details.get("exception")), details["tries"], details["wait"])

    def _call(self, what: str, request: Any, *args: Any, tolerated: tuple[str, ...] = (),
              **kwargs: Any) -> Any:
        try:
            return retry.retried(request, self.knobs, is_transient, self._log_retry)(
                *args, **kwargs)
        except AzureError as exc:
            code = error_code(exc)
            if code in tolerated:
                LOGGER.warning("Azure queue %s: %s (%s); the next run looks at it again",
                               self.url, what, code)
                return None
            hint = ("check 'events_queue' (the queue's URL: https://<account>.queue.core."
                    "windows.net/<queue>)" if code == "QueueNotFound" else
                    "the tap's identity needs the 'Storage Queue Data Message Processor' role on "
                    "the queue (a SAS: the queue service, Read and Process permissions)"
                    if code in REFUSAL_CODES else "")
            raise StorageError(self._redact(f"cannot {what} Azure queue {self.url}: "
                                            f"{describe(exc)}" + (f"; {hint}" if hint else "")),
                               refused=code in REFUSAL_CODES) from None

    def receive(self) -> list[QueuedMessage]:
        def first_page() -> list[Any]:
            pages = self._client.receive_messages(
                messages_per_page=BATCH, visibility_timeout=VISIBILITY_SECONDS).by_page()
            return list(next(pages, []))

        return [QueuedMessage(message.id, message, _text(message.content))
                for message in self._call("receive messages from", first_page)]

    def delete(self, messages: Sequence[QueuedMessage]) -> None:
        for message in messages:  # Azure deletes one message per request
            # gone already, or received again since (another pop receipt): harmless
            self._call(f"delete message {message.message_id} from", self._client.delete_message,
                       message.receipt, tolerated=("MessageNotFound", "PopReceiptMismatch"))

    def release(self, messages: Sequence[QueuedMessage]) -> None:
        for message in messages:  # one request per message, as delete
            self._call(f"release message {message.message_id} of", self._client.update_message,
                       message.receipt, visibility_timeout=0,
                       tolerated=("MessageNotFound", "PopReceiptMismatch"))

    def waiting(self) -> int:
        properties = self._call("read", self._client.get_queue_properties)
        return int(properties.approximate_message_count or 0)


def _text(content: Any) -> str:
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    return str(content or "")
