import datetime

import pytest

from tap_intacct.config import validate
from tap_intacct.errors import ConfigError

BASE = {"start_date": "2024-01-01T00:00:00Z", "bucket": "dds-bucket", "company_id": "ACME"}


def problems(raw):
    with pytest.raises(ConfigError) as caught:
        validate(raw)
    return caught.value.problems


def test_minimal_config():
    config = validate(BASE)
    assert config.start_date == datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    assert config.company_prefix == "ACME/"
    assert config.role_arn is None and config.lookback_seconds == 0


def test_every_problem_reported_at_once():
    found = problems({"bucket": "s3://dds-bucket/x", "start_date": "yesterday",
                      "account_id": "1234-5678-9012"})
    joined = "\n".join(found)
    assert "'company_id' is required" in joined
    assert "'start_date' is not an ISO 8601" in joined
    assert "bucket name only, not an address" in joined
    assert "'role_name' is missing" in joined and "'external_id' is missing" in joined
    assert len(found) == 5


@pytest.mark.parametrize("bucket, message", [
    ("https://dds-bucket.s3.amazonaws.com", "not an address"),
    ("dds-bucket/exports", "without slashes"),
    ("dds bucket", "spaces"),
])
def test_bucket_must_be_a_name(bucket, message):
    assert message in problems({**BASE, "bucket": bucket})[0]


@pytest.mark.parametrize("path, prefix", [
    ("", "ACME/"), ("/dds/", "dds/ACME/"), ("a/b", "a/b/ACME/"), ("//x//", "x/ACME/")])
def test_company_prefix(path, prefix):
    assert validate({**BASE, "path": path}).company_prefix == prefix


def test_role_settings():
    config = validate({**BASE, "account_id": "1234-5678-9012", "role_name": "dds-reader",
                       "external_id": "ext-123"})
    assert config.role_arn == "arn:aws:iam::123456789012:role/dds-reader"


def test_proxy_needs_both_keys_and_customer_role():
    found = "\n".join(problems({**BASE, "proxy_account_id": "111111111111"}))
    assert "'proxy_role_name' is missing" in found
    assert "proxy settings need the customer role settings" in found


def test_types_and_unknown_keys():
    assert "'bucket' must be a string" in problems({**BASE, "bucket": 5})[0]
    assert validate({**BASE, "some_tool_key": 1}).bucket == "dds-bucket"
    assert validate({**BASE, "lookback_seconds": "600"}).lookback_seconds == 600
    assert "lookback_seconds" in problems({**BASE, "lookback_seconds": 1.5})[0]


def test_naive_start_date_is_utc():
    config = validate({**BASE, "start_date": "2024-01-01"})
    assert config.start_date.tzinfo == datetime.timezone.utc


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "https://s3.eu-west-1.amazonaws.com",
                                 "https://bucket.vpce-0a1b.s3.us-east-1.vpce.amazonaws.com/",
                                 "http://[::1]:9000", "HTTPS://MINIO.local"])
def test_endpoint_urls_accepted(url):
    config = validate({**BASE, "endpoint_url": url, "sts_endpoint_url": url})
    assert config.endpoint_url == config.sts_endpoint_url == url


@pytest.mark.parametrize("url", ["not a url", "s3.amazonaws.com", "ftp://host", "http://",
                                 "http://a_b", "http://host:port", "http://host:99999",
                                 "https://-bad-.example"])
def test_endpoint_urls_rejected_naming_the_key(url):
    found = problems({**BASE, "endpoint_url": url, "sts_endpoint_url": url})
    assert [p.split("'")[1] for p in found] == ["endpoint_url", "sts_endpoint_url"]
    assert all("must be an http:// or https:// URL" in p and repr(url) in p for p in found)


def test_sts_endpoint_url_is_unset_by_default():
    assert validate({**BASE, "endpoint_url": "http://127.0.0.1:5000"}).sts_endpoint_url is None
    assert validate({**BASE, "sts_endpoint_url": ""}).sts_endpoint_url is None
