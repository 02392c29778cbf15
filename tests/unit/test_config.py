import datetime

import pytest

from tap_intacct.errors import ConfigError
from tap_intacct.settings.config import SETTINGS, validate

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


AZURE = {"start_date": "2024-01-01", "storage": "azure", "container": "dds-exports",
         "company_id": "ACME", "azure_account_url": "https://acct.blob.core.windows.net"}


def test_azure_needs_container_and_url_not_bucket():
    config = validate(AZURE)
    assert config.storage == "azure" and config.bucket is None
    assert config.container == "dds-exports"
    found = " ".join(problems({**AZURE, "container": None, "azure_account_url": None}))
    assert "'container' is required for storage azure" in found
    assert "'azure_account_url' is required" in found
    assert validate({**AZURE, "azure_account_url": None,
                     "azure_connection_string": "DefaultEndpointsProtocol=https;..."})


def test_bucket_required_for_s3_only_and_storage_checked():
    assert "'bucket' is required for storage s3" in problems({**BASE, "bucket": None})[0]
    assert "or set storage: azure" in problems({**AZURE, "storage": "s3"})[0]
    assert "'storage' must be s3 or azure" in problems({**BASE, "storage": "gcs"})[0]
    assert validate({**BASE, "storage": "S3"}).storage == "s3"


@pytest.mark.parametrize("container", ["ab", "Upper", "with_underscore", "double--hyphen",
                                       "-leading", "x" * 64])
def test_container_names_follow_azure_rules(container):
    assert "Azure container name" in problems({**AZURE, "container": container})[0]


def test_one_way_to_authenticate():
    both = problems({**AZURE, "azure_sas_token": "sv=1&sig=abc",
                     "azure_client_id": "app", "azure_tenant_id": "t",
                     "azure_client_secret": "s"})
    assert any("one way to authenticate to Azure, not 2" in p for p in both)
    partial = " ".join(problems({**AZURE, "azure_client_id": "app"}))
    assert "'azure_tenant_id' is missing" in partial
    assert "'azure_client_secret' is missing" in partial


def test_sas_token_with_or_without_question_mark():
    assert validate({**AZURE, "azure_sas_token": "?sv=1&sig=abc"}).azure_sas_token == "sv=1&sig=abc"
    assert validate({**AZURE, "azure_sas_token": "sv=1&sig=abc"}).azure_sas_token == "sv=1&sig=abc"
    assert "no 'sig=' part" in problems({**AZURE, "azure_sas_token": "sv=1"})[0]


def test_token_credentials_need_https():
    found = problems({**AZURE, "azure_account_url": "http://127.0.0.1:10000/devstoreaccount1"})
    assert "must be https://" in found[0]
    assert validate({**AZURE, "azure_account_url": "http://127.0.0.1:10000/devstoreaccount1",
                     "azure_sas_token": "sv=1&sig=abc"})


def test_storage_azure_without_the_extra_says_what_to_install(monkeypatch):
    from tap_intacct.settings import config as config_module
    monkeypatch.setattr(config_module, "_importable", lambda module: False)
    [problem] = problems(AZURE)
    assert "pip install 'tap-intacct[azure]'" in problem
    assert validate(BASE).storage == "s3"  # S3 never needs it


def test_a_setting_of_the_wrong_type_is_reported_once():
    found = problems({**BASE, "account_id": 123456789012, "role_name": "r", "external_id": "xx"})
    assert found == ["config: 'account_id' must be a string, got int"]


@pytest.mark.parametrize("text, expected", [
    ("0001-01-01T00:00:00+05:00", datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)),
    ("0001-01-01T04:00:00+05:00", datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)),
    ("0001-01-01T06:00:00+05:00", datetime.datetime(1, 1, 1, 1, tzinfo=datetime.timezone.utc)),
    ("9999-12-31T23:59:59Z", datetime.datetime(9999, 12, 31, 23, 59, 59,
                                               tzinfo=datetime.timezone.utc)),
])
def test_date_times_at_the_ends_of_the_calendar(text, expected):
    from tap_intacct.values.datetimes import parse_datetime
    assert parse_datetime(text) == expected


def test_a_start_date_past_year_9999_in_utc_is_one_problem():
    [found] = problems({**BASE, "start_date": "9999-12-31T23:59:59-05:00"})
    assert found == ("config: 'start_date' '9999-12-31T23:59:59-05:00' is after "
                     "9999-12-31T23:59:59.999999Z, the latest date-time the tap can hold")


@pytest.mark.parametrize("name", [setting.name for setting in SETTINGS])
def test_every_key_is_checked_by_its_entry_in_the_table(name):
    """A value no setting accepts (a list) is reported once, naming the key, by SETTINGS alone."""
    found = problems({**BASE, name: [1]})
    assert [p for p in found if p.startswith(f"config: '{name}'")] == found[:1], found
    assert not [p for p in found if f"'{name}' is required" in p or
                f"'{name}' is missing" in p], found


def test_each_setting_is_declared_once_as_a_field_of_config():
    """SETTINGS is Config's fields (but the derived pgp_keys), in order; an unset setting reads
    as its default, and a secret never shows in Config's repr."""
    import dataclasses

    from tap_intacct.settings.config import Config
    assert [s.name for s in SETTINGS] == [
        f.name for f in dataclasses.fields(Config) if f.name != "pgp_keys"]
    role = {"account_id": "123456789012", "role_name": "reader", "external_id": "the-external-id"}
    config = validate({**BASE, **role})
    for setting in SETTINGS:
        if setting.name not in {**BASE, **role}:
            assert getattr(config, setting.name) == setting.default, setting.name
    assert "the-external-id" not in repr(config) and "dds-bucket" in repr(config)


def test_a_key_with_a_problem_counts_as_set_in_the_rules_between_keys():
    # not also "required for storage s3"
    assert problems({**BASE, "bucket": False}) == ["config: 'bucket' must be a string, got bool"]
    # role_name is set (wrongly): the proxy rule does not ask for it again
    found = problems({**BASE, "role_name": True, "proxy_account_id": "123456789012",
                      "proxy_role_name": "hop"})
    assert "config: 'role_name' must be a string, got bool" in found
    assert not [p for p in found if "proxy settings need" in p], found
    assert len([p for p in found if "is missing" in p]) == 2  # account_id and external_id
    azure = {**BASE, "storage": "azure", "azure_connection_string": "UseDevelopmentStorage=true"}
    found = problems({**azure, "container": 59})
    assert not [p for p in found if "'container' is required" in p], found
