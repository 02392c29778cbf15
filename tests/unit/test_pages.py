"""The well-formed listing page of each store (tap_intacct/storage/pages.py), checked on pages
as botocore parses them (S3) and as Azure writes them (raw XML); the end-to-end tests
(tests/e2e/test_listing_pages.py) send the faulty pages through a proxy in front of moto and
Azurite."""

import datetime

import pytest

from tap_intacct.storage.pages import MalformedPage, check_azure, check_s3

PREFIX = "dds/ACME/"
MOMENT = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)


def s3_page(**changes):
    page = {"IsTruncated": True, "Name": "bkt", "Prefix": PREFIX, "KeyCount": 1,
            "NextContinuationToken": "token-2",
            "Contents": [{"Key": PREFIX + "GLENTRY.csv", "LastModified": MOMENT}]}
    page.update(changes)
    return {k: v for k, v in page.items() if v is not None}


def test_a_well_formed_s3_page_passes():
    check_s3(s3_page(), bucket="bkt", prefix=PREFIX, token_sent="token-1")
    check_s3(s3_page(IsTruncated=False, NextContinuationToken=None, Name=None, Prefix=None,
                     Contents=None), bucket="bkt", prefix=PREFIX, token_sent=None)


@pytest.mark.parametrize("changes, why", [
    ({"IsTruncated": None, "Name": None, "Prefix": None, "NextContinuationToken": None,
      "Contents": None}, "no IsTruncated"),  # what botocore makes of an empty body
    ({"IsTruncated": None}, "no IsTruncated"),
    ({"NextContinuationToken": None}, "IsTruncated without a NextContinuationToken"),
    ({"NextContinuationToken": ""}, "IsTruncated without a NextContinuationToken"),
    ({"NextContinuationToken": "token-1"}, "the NextContinuationToken it was asked with"),
    ({"Name": "other"}, "it lists bucket 'other'"),
    ({"Prefix": "dds/"}, "it lists prefix 'dds/'"),
    ({"Contents": [{"Key": "elsewhere/GLENTRY.csv", "LastModified": MOMENT}]}, "not under"),
    ({"Contents": [{"LastModified": MOMENT}]}, "Key None"),
    ({"Contents": [{"Key": PREFIX + "GLENTRY.csv"}]}, "no LastModified"),
])
def test_an_s3_page_that_is_not_well_formed_is_malformed(changes, why):
    with pytest.raises(MalformedPage, match="ListObjectsV2") as raised:
        check_s3(s3_page(**changes), bucket="bkt", prefix=PREFIX, token_sent="token-1")
    assert why in str(raised.value)


BLOB = ("<Blob><Name>{name}</Name><Properties><Last-Modified>Fri, 01 Mar 2024 12:00:00 GMT"
        "</Last-Modified><Etag>0x1</Etag><Content-Length>4</Content-Length></Properties></Blob>")


def azure_page(blobs=None, next_marker="<NextMarker>m2</NextMarker>", container="cont",
               root="EnumerationResults"):
    blobs = [BLOB.format(name=PREFIX + "GLENTRY.csv")] if blobs is None else blobs
    return (f'<?xml version="1.0" encoding="utf-8"?><{root} ServiceEndpoint="https://a/" '
            f'ContainerName="{container}"><Prefix>{PREFIX}</Prefix><Delimiter>/</Delimiter>'
            f'<Blobs>{"".join(blobs)}</Blobs>{next_marker}</{root}>').encode()


def test_a_well_formed_azure_page_passes():
    check_azure(azure_page(), container="cont", prefix=PREFIX, marker_sent="m1")
    last = azure_page(blobs=[f"<BlobPrefix><Name>{PREFIX}sub/</Name></BlobPrefix>",
                             BLOB.format(name="dds%2FACME%2Fodd%0Aname.csv").replace(
                                 "<Name>", '<Name Encoded="true">')],
                      next_marker="<NextMarker />")
    check_azure(last, container="cont", prefix=PREFIX, marker_sent="m1")


@pytest.mark.parametrize("body, why", [
    (b"", "an empty body"),
    (b"  \n", "an empty body"),
    (b"\x00\xff garbage", "not XML"),
    (azure_page()[:200], "not XML"),
    (b"<html><body>Bad gateway</body></html>", "root element is 'html'"),
    (azure_page(root="Error"), "root element is 'Error'"),
    (azure_page(container="other"), "it lists container 'other'"),
    (azure_page().replace(b"<Blobs>", b"<Other>").replace(b"</Blobs>", b"</Other>"),
     "no Blobs element"),
    (azure_page(next_marker=""), "no NextMarker element"),
    (azure_page(next_marker="<NextMarker>m1</NextMarker>"), "the NextMarker it was asked with"),
    (azure_page(blobs=[BLOB.format(name="elsewhere/x.csv")]), "not under the prefix"),
    (azure_page(blobs=[BLOB.format(name=PREFIX + "x.csv").replace(
        "<Last-Modified>Fri, 01 Mar 2024 12:00:00 GMT</Last-Modified>", "")]),
     "no Last-Modified"),
    (azure_page(blobs=["<BlobPrefix></BlobPrefix>"]), "a BlobPrefix without a Name"),
])
def test_an_azure_page_that_is_not_well_formed_is_malformed(body, why):
    with pytest.raises(MalformedPage, match="List Blobs") as raised:
        check_azure(body, container="cont", prefix=PREFIX, marker_sent="m1")
    assert why in str(raised.value)
