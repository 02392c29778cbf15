"""What a queue message of the event mode says (README, "Event mode"): which objects may be new.

Two shapes are read, exactly as the clouds send them:

- **S3 event notifications** (to SQS, directly or through an SNS topic): the body is
  `{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket":
  {"name": "<bucket>"}, "object": {"key": "<key, URL-encoded, spaces as '+'>", "size": ..,
  "eTag": "..", "sequencer": ".."}}}, ...]}`; through SNS (without raw message delivery) that
  document is the string `Message` of `{"Type": "Notification", "Message": "..."}`. S3 sends
  `{"Service": "Amazon S3", "Event": "s3:TestEvent", ...}` once when the notification is set up.
- **Azure Event Grid** (to a storage queue, the message text base64-encoded, as Event Grid
  writes it, or plain): one event, in the Event Grid schema `{"eventType":
  "Microsoft.Storage.BlobCreated", "subject": "/blobServices/default/containers/<container>/blobs/
  <blob name>", "data": {"url": .., "eTag": .., "contentLength": .., "api": "PutBlob"}, ...}` or
  in the CloudEvents schema (`type` instead of `eventType`), or a JSON array of such events.

Events are hints, not the truth: a run reads each named object's current LastModified, ETag and
size (a HEAD) and the bookmarks decide, as for a listed object. Only ObjectCreated / BlobCreated
events name objects; other events (deletions, tests) name none.

Pure: no cloud SDK is imported here.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

AZURE_SUBJECT = "/blobServices/default/containers/"


@dataclass(frozen=True)
class QueuedMessage:
    """One message as the queue gave it: its id, what deleting it takes, and its text."""

    message_id: str
    receipt: Any  # SQS: the receipt handle; Azure: the message (id and pop receipt)
    body: str


@dataclass(frozen=True)
class CreatedObject:
    """An object an event says was created: the bucket or container, and its key."""

    container: str
    key: str


class NotAnEvent(ValueError):
    """A message that is neither an S3 notification nor an Event Grid event."""


def created_objects(body: str) -> list[CreatedObject]:
    """The objects the message says were created ([] for an event about anything else, such as
    S3's test event or a deletion); NotAnEvent for a message of another shape."""
    document = _json(body)
    if isinstance(document, dict) and document.get("Type") == "Notification" \
            and isinstance(document.get("Message"), str):
        document = _json(document["Message"])  # S3 -> SNS -> SQS
    if isinstance(document, dict) and "Records" in document:
        return _s3_records(document["Records"])
    if isinstance(document, dict) and document.get("Event") == "s3:TestEvent":
        return []
    events = document if isinstance(document, list) else [document]
    if events and all(isinstance(event, dict) and _is_event_grid(event) for event in events):
        return [found for event in events for found in _event_grid(event)]
    raise NotAnEvent("neither an S3 event notification nor an Event Grid event")


def _json(text: str) -> Any:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        try:  # Event Grid base64-encodes the events it writes to a storage queue
            stripped = base64.b64decode(stripped, validate=True).decode("utf-8").strip()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise NotAnEvent("not JSON, nor base64-encoded JSON") from None
    try:
        return json.loads(stripped)
    except ValueError:
        raise NotAnEvent("not JSON") from None


def _s3_records(records: Any) -> list[CreatedObject]:
    if not isinstance(records, list):
        raise NotAnEvent("'Records' is not a list")
    found = []
    for record in records:
        if not isinstance(record, dict):
            raise NotAnEvent("a record is not an object")
        if record.get("eventSource") != "aws:s3" or not str(
                record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3")
        bucket = s3.get("bucket", {}).get("name") if isinstance(s3, dict) else None
        key = s3.get("object", {}).get("key") if isinstance(s3, dict) else None
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise NotAnEvent("an ObjectCreated record without s3.bucket.name and s3.object.key")
        # S3 URL-encodes the key in notifications, a space as '+'
        found.append(CreatedObject(bucket, urllib.parse.unquote_plus(key)))
    return found


def _is_event_grid(event: dict[str, Any]) -> bool:
    kind = event.get("eventType", event.get("type"))
    return isinstance(kind, str) and isinstance(event.get("subject"), str)


def _event_grid(event: dict[str, Any]) -> list[CreatedObject]:
    if event.get("eventType", event.get("type")) != "Microsoft.Storage.BlobCreated":
        return []
    subject = event["subject"]
    if not subject.startswith(AZURE_SUBJECT) or "/blobs/" not in subject:
        raise NotAnEvent(f"a BlobCreated event whose subject is not a blob's: {subject[:200]!r}")
    container, _, name = subject[len(AZURE_SUBJECT):].partition("/blobs/")
    return [CreatedObject(container, name)]
