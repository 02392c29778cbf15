"""Queue messages exactly as the clouds send them, for the event mode's tests and benchmark
(tap_intacct/storage/events.py reads them; README "Event mode" shows them).

moto delivers S3 event notifications to SQS itself when the bucket has a QueueConfiguration (its
key is not URL-encoded, unlike S3's: test keys use no character that encoding would change), so
the S3 tests use that delivery and these shapes for what moto cannot do (a duplicate, an event
out of order, another bucket's); Azurite has no Event Grid, so the Azure tests send these.
"""

import base64
import json


def s3_notification(bucket, *keys, event="ObjectCreated:Put"):
    """A body exactly as S3 sends it to SQS (keys URL-encoded, a space as '+')."""
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2024-05-01T10:00:00.123Z", "eventName": event,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUV8/"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "tap-intacct",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                          "sequencer": "0055AED6DCD90281E5"}}} for key in keys]})


def blob_created(container, name, schema="eventgrid", event_type="Microsoft.Storage.BlobCreated"):
    """One event exactly as Event Grid sends it (Event Grid or CloudEvents 1.0 schema)."""
    data = {"api": "PutBlob", "clientRequestId": "6d79dbfb-0e37-4fc4-981f-442c9ca65760",
            "requestId": "831e1650-001e-001b-66ab-eeb76e000000",
            "eTag": "0x8D4BCC2E4835CD0", "contentType": "text/csv", "contentLength": 524288,
            "blobType": "BlockBlob",
            "url": f"https://acct.blob.core.windows.net/{container}/{name}",
            "sequencer": "00000000000004420000000000028963"}
    subject = f"/blobServices/default/containers/{container}/blobs/{name}"
    source = ("/subscriptions/id/resourceGroups/rg/providers/Microsoft.Storage/"
              "storageAccounts/acct")
    if schema == "cloudevents":
        return {"specversion": "1.0", "type": event_type, "source": source, "subject": subject,
                "id": "9aeb0fdf-c01e-0131-0922-9eb54906e209", "time": "2024-05-01T10:00:00Z",
                "data": data}
    return {"topic": source, "subject": subject, "eventType": event_type,
            "eventTime": "2024-05-01T10:00:00.1234567Z",
            "id": "9aeb0fdf-c01e-0131-0922-9eb54906e209", "data": data, "dataVersion": "",
            "metadataVersion": "1"}


def queue_text(event):
    """The storage queue message Event Grid writes: the event's JSON, base64-encoded."""
    return base64.b64encode(json.dumps(event).encode()).decode()
