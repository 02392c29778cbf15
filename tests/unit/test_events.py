"""What a queue message of the event mode says (tap_intacct/storage/events.py), for each shape the
clouds send: S3 event notifications (direct, through SNS, the setup's test event), Event Grid
BlobCreated events (Event Grid and CloudEvents schemas, base64-encoded as Event Grid writes them
to a storage queue, or plain), and what is not an event at all."""

import base64
import json

import pytest

from devtools.eventshapes import blob_created, queue_text, s3_notification
from tap_intacct.storage.events import CreatedObject, NotAnEvent, created_objects


def test_an_s3_notification_names_its_objects_with_their_keys_decoded():
    body = s3_notification("dds", "exports/ACME/GLENTRY.change.1.csv",
                           "exports/ACME/GL+ENTRY+%28copy%29.csv")
    assert created_objects(body) == [
        CreatedObject("dds", "exports/ACME/GLENTRY.change.1.csv"),
        CreatedObject("dds", "exports/ACME/GL ENTRY (copy).csv")]


def test_s3_events_other_than_object_created_name_nothing():
    assert created_objects(s3_notification("dds", "a/B.csv", event="ObjectRemoved:Delete")) == []
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent",
                  "Time": "2024-05-01T10:00:00.000Z", "Bucket": "dds",
                  "RequestId": "5582815E1AEA5ADF",
                  "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9w"}
    assert created_objects(json.dumps(test_event)) == []


def test_an_s3_notification_through_sns_is_unwrapped():
    envelope = {"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:dds",
                "Subject": "Amazon S3 Notification",
                "Message": s3_notification("dds", "exports/ACME/VENDOR.csv"),
                "Timestamp": "2024-05-01T10:00:00.000Z", "SignatureVersion": "1"}
    assert created_objects(json.dumps(envelope)) == [
        CreatedObject("dds", "exports/ACME/VENDOR.csv")]


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
@pytest.mark.parametrize("encode", [queue_text, json.dumps], ids=["base64", "plain"])
def test_a_blob_created_event_names_its_container_and_blob(schema, encode):
    event = blob_created("dds", "exports/ACME/GLENTRY.change.1.csv", schema)
    assert created_objects(encode(event)) == [
        CreatedObject("dds", "exports/ACME/GLENTRY.change.1.csv")]
    assert created_objects(encode([event, event])) == [
        CreatedObject("dds", "exports/ACME/GLENTRY.change.1.csv")] * 2


def test_other_event_grid_events_name_nothing():
    deleted = blob_created("dds", "x/A.csv", event_type="Microsoft.Storage.BlobDeleted")
    assert created_objects(queue_text(deleted)) == []


@pytest.mark.parametrize("body", [
    "", "hello", "not base64 !", base64.b64encode(b"\xff\xfe").decode(),
    base64.b64encode(b"plain text").decode(), "{}", "[]", "[1]", '{"Records": 5}',
    '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}]}',
    json.dumps({"eventType": "Microsoft.Storage.BlobCreated", "subject": "/other/thing"}),
    '{"Type": "Notification", "Message": "not json"}',
])
def test_anything_else_is_not_an_event(body):
    with pytest.raises(NotAnEvent):
        created_objects(body)
