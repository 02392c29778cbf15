"""Credentials as people paste them (issue #31): the SAS connection strings Azure's portal and
`az` produce, a "Blob SAS URL" or another secret put in the wrong setting (never repeated in a
message), and `--test` advice that matches the failure."""

import datetime
import re
import urllib.parse

import pytest
from azure.storage.blob import (
    AccountSasPermissions,
    ContainerSasPermissions,
    ResourceTypes,
    generate_account_sas,
    generate_container_sas,
)

from devtools.azuriteserver import ACCOUNT, ACCOUNT_KEY
from devtools.s3server import free_port
from tests.e2e.conftest import assert_clean_failure

NOW = datetime.datetime.now(datetime.timezone.utc)
ROLE_ADVICE = "Storage Blob Data Reader"


def container_sas(container, expiry=NOW + datetime.timedelta(hours=2), **times):
    return generate_container_sas(ACCOUNT, container, account_key=ACCOUNT_KEY,
                                  permission=ContainerSasPermissions(read=True, list=True),
                                  expiry=expiry, **times)


def account_sas():
    """What the portal's "Shared access signature" blade and `az storage account generate-sas`
    make: every resource type, Read and List."""
    return generate_account_sas(ACCOUNT, ACCOUNT_KEY,
                                ResourceTypes(service=True, container=True, object=True),
                                AccountSasPermissions(read=True, list=True),
                                expiry=NOW + datetime.timedelta(hours=2))


def signature(sas):
    return re.search(r"sig=([^&]+)", sas).group(1)


def debug_env(company, **variables):
    env = company.server.tap_environment()
    env["TAP_INTACCT_LOG_LEVEL"] = "DEBUG"
    env.update(variables)
    return env


# ---- row 3: SAS connection strings -----------------------------------------------------------

def portal_form(url, sas):
    host = url.rsplit("/", 1)[0]
    return (f"BlobEndpoint={url}/;QueueEndpoint={host}/queue/;FileEndpoint={host}/file/;"
            f"TableEndpoint={host}/table/;SharedAccessSignature={sas}")


CONNECTION_STRINGS = {
    # (connection string from (Azurite URL, SAS), whether azure_account_url must be set)
    "container SAS, blob endpoint only": (
        lambda url, sas: f"BlobEndpoint={url};SharedAccessSignature={sas}", False),
    "portal: four endpoints": (portal_form, False),
    "portal: four endpoints, token with '?'": (lambda url, sas: portal_form(url, "?" + sas),
                                               False),
    "trailing ';', token first": (
        lambda url, sas: f"SharedAccessSignature={sas};BlobEndpoint={url};", False),
    "lower-case keys": (lambda url, sas: f"blobendpoint={url};sharedaccesssignature={sas}",
                        False),
    "account name and protocol": (
        lambda url, sas: f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                         f"SharedAccessSignature={sas}", True),
    "account name, protocol and suffix, token with '?'": (
        lambda url, sas: f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};"
                         f"EndpointSuffix=core.windows.net;SharedAccessSignature=?{sas}", True),
}


@pytest.mark.stores("azure")
@pytest.mark.parametrize("kind", ["container", "account"])
@pytest.mark.parametrize("form", sorted(CONNECTION_STRINGS))
def test_sas_connection_strings_sign_every_request(company, form, kind):
    company.put("GLENTRY.csv", "RECORDNO\n1\n2\n")
    catalog = company.selected_catalog(shared=True)
    sas = container_sas(company.bucket) if kind == "container" else account_sas()
    build, needs_url = CONNECTION_STRINGS[form]
    settings = {"azure_connection_string": build(company.azurite.url, sas)}
    if needs_url:
        settings["azure_account_url"] = company.azurite.url
    company.clear_requests()
    run = company.tap("--catalog", catalog, config=company.config(**settings),
                      env=debug_env(company))
    assert run.returncode == 0, run.stderr
    assert [r["RECORDNO"] for r in run.records()] == [1, 2]
    requests = [request for request, _range, _status in company.azurite.proxy.log]
    signed = [urllib.parse.unquote(signature(sas)) in urllib.parse.unquote(r) for r in requests]
    assert len(requests) == 2 and all(signed), requests
    assert signature(sas) not in run.stderr


# ---- row 4: a secret in the wrong setting is never repeated ------------------------------------

SECRET = "c2VjcmV0LXNpZ25hdHVyZS10aGF0LW11c3Qtbm90LWxlYWstMDEyMzQ1Njc4OQ"


@pytest.mark.stores("azure")
@pytest.mark.parametrize("style", ["Azurite, path-style", "Azure, domain-style"])
def test_a_blob_sas_url_as_account_url_says_where_token_and_container_go(company, style):
    sas = container_sas(company.bucket)
    base = (company.azurite.url if style.startswith("Azurite")
            else "https://devstoreaccount1.blob.core.windows.net")
    run = company.tap("--discover", config=company.config(
        azure_connection_string=None, azure_account_url=f"{base}/{company.bucket}?{sas}"))
    assert_clean_failure(run, "'azure_account_url' must be the storage account's blob service "
                              "URL without a query string", "in 'azure_sas_token'",
                         f"the container name '{company.bucket}' in 'container'", code=2)
    assert signature(sas) not in run.stderr and "sig=" not in run.stderr
    assert "se=" not in run.stderr and "sv=" not in run.stderr


def azure(**settings):
    return {"storage": "azure", "container": "dds", "bucket": None, **settings}


def s3(**settings):
    return {"storage": "s3", **settings}


KEY_STRING = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={SECRET}=="
SAS_URL = f"https://acct.blob.core.windows.net/dds?sv=2022-11-02&sp=rl&sig={SECRET}%3D"
PRESIGNED = (f"https://dds.s3.amazonaws.com/ACME/GLENTRY.csv?X-Amz-Credential=AKIAEXAMPLE"
             f"&X-Amz-Signature={SECRET}")

MISPLACED = {
    # case: (settings, the setting the one error line names)
    "connection string as account URL": (
        azure(azure_account_url=KEY_STRING, azure_sas_token="sv=1&sig=x"), "azure_account_url"),
    "account key as account URL": (
        azure(azure_account_url=SECRET + "==", azure_sas_token="sv=1&sig=x"),
        "azure_account_url"),
    "SAS URL as account URL, no credential": (
        azure(azure_account_url=SAS_URL, azure_connection_string=None), "azure_account_url"),
    "SAS URL over http, no credential": (
        azure(azure_account_url=SAS_URL.replace("https://acct.blob.core.windows.net",
                                                "http://127.0.0.1:9/acct")),
        "azure_account_url"),
    "SAS URL as container": (
        azure(container=SAS_URL, azure_account_url="https://acct.blob.core.windows.net",
              azure_sas_token="sv=1&sig=x"), "container"),
    "connection string as container": (
        azure(container=KEY_STRING, azure_connection_string=KEY_STRING), "container"),
    "SAS token without its signature": (
        azure(azure_sas_token=f"sv=2022&se={SECRET}",
              azure_account_url="https://acct.blob.core.windows.net"), "azure_sas_token"),
    "SAS connection string without its signature": (
        azure(azure_connection_string=f"BlobEndpoint=https://a.blob.core.windows.net;"
                                      f"SharedAccessSignature=sv=2022&se={SECRET}"),
        "azure_connection_string"),
    "presigned URL as bucket": (s3(bucket=PRESIGNED), "bucket"),
    "key path with signature as bucket": (s3(bucket=PRESIGNED.split("://", 1)[1]), "bucket"),
    "endpoint with a signed query, no scheme": (
        s3(endpoint_url=PRESIGNED.split("://", 1)[1]), "endpoint_url"),
    "endpoint with a password": (s3(endpoint_url=f"https://AKIAEXAMPLE:{SECRET}@:99999"),
                                 "endpoint_url"),
    "STS endpoint with a token": (s3(sts_endpoint_url=f"ftp://sts.example.com/?token={SECRET}"),
                                  "sts_endpoint_url"),
    "secret as account_id": (s3(account_id=SECRET, role_name="r", external_id="ext-1"),
                             "account_id"),
    "secret in company_id": (s3(company_id=f"ACME/{SECRET}"), "company_id"),
    "secret as start_date": (s3(start_date=f"sig={SECRET}"), "start_date"),
    "SAS URL as batch root": (s3(batch_config={"encoding": {"format": "jsonl"},
                                               "storage": {"root": SAS_URL}}), "batch_config"),
}


@pytest.mark.parametrize("case", sorted(MISPLACED))
def test_no_config_message_repeats_a_secret(company, case):
    settings, named = MISPLACED[case]
    run = company.tap("--discover", config=company.config(**settings))
    assert_clean_failure(run, code=2)
    [line] = run.stderr.splitlines()
    assert line.startswith("tap-intacct: error: config ") and f": '{named}'" in line, line
    assert SECRET[:16] not in line, line
    assert not re.search(r"(?i)(sig=[^'])|AccountKey|X-Amz-Signature|token=|AKIAEXAMPLE", line)


# ---- row 7: --test advice that matches the failure ---------------------------------------------

def setup_check(company, **settings):
    run = company.tap("--test", config=company.config(**settings),
                      env=debug_env(company, TAP_INTACCT_MAX_TRIES="2"))
    assert_clean_failure(run, "test: FAILED: ", "the setup check failed", code=1)
    return run


@pytest.mark.stores("azure")
@pytest.mark.parametrize("setting", ["azure_sas_token", "azure_connection_string"])
def test_setup_check_says_the_sas_token_expired(company, setting):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    expired = container_sas(company.bucket, expiry=NOW - datetime.timedelta(hours=1),
                            start=NOW - datetime.timedelta(hours=3))
    settings = ({"azure_sas_token": expired, "azure_connection_string": None,
                 "azure_account_url": company.azurite.url} if setting == "azure_sas_token" else
                {"azure_connection_string": f"BlobEndpoint={company.azurite.url};"
                                            f"SharedAccessSignature={expired}"})
    run = setup_check(company, **settings)
    assert re.search(rf"the SAS token in {setting} expired at 20[0-9-]+T[0-9:]+\+00:00: put a "
                     "new one there", run.stderr), run.stderr
    assert ROLE_ADVICE not in run.stderr and "give a SAS token" not in run.stderr
    assert signature(expired) not in run.stderr


@pytest.mark.stores("azure")
def test_setup_check_of_a_missing_container_gives_no_access_advice(company):
    run = setup_check(company, container="no-such-container")
    assert "ContainerNotFound" in run.stderr and "check 'container'" in run.stderr
    assert ROLE_ADVICE not in run.stderr and "Access keys" not in run.stderr


@pytest.mark.stores("azure")
def test_setup_check_of_an_unreachable_endpoint_says_nothing_answered(company):
    url = f"http://127.0.0.1:{free_port()}/devstoreaccount1"  # nothing listens there
    run = setup_check(company, azure_account_url=url)
    assert f"nothing answered at {url}: check 'azure_account_url'" in run.stderr, run.stderr
    assert ROLE_ADVICE not in run.stderr and "Access keys" not in run.stderr


@pytest.mark.stores("azure")
@pytest.mark.parametrize("way", ["connection string", "SAS token"])
def test_setup_check_of_an_account_url_with_the_container(company, way):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    url = f"{company.azurite.url}/{company.bucket}"
    settings = {"azure_account_url": url}
    if way == "SAS token":
        settings.update(azure_connection_string=None, azure_sas_token=account_sas())
    run = setup_check(company, **settings)
    assert "BlobNotFound" in run.stderr, run.stderr
    assert (f"it must be the storage account's blob service URL, without the container (it "
            f"includes '{company.bucket}': remove it; the container goes in 'container')"
            in run.stderr), run.stderr
    assert ROLE_ADVICE not in run.stderr and "give a SAS token" not in run.stderr


@pytest.mark.stores("azure")
def test_setup_check_of_a_sas_without_list_says_what_the_sas_needs(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    read_only = generate_container_sas(ACCOUNT, company.bucket, account_key=ACCOUNT_KEY,
                                       permission=ContainerSasPermissions(read=True),
                                       expiry=NOW + datetime.timedelta(hours=1))
    run = setup_check(company, azure_connection_string=None, azure_sas_token=read_only,
                      azure_account_url=company.azurite.url)
    assert "AuthorizationPermissionMismatch" in run.stderr
    assert (f"test: give a SAS token for container {company.bucket} (or the whole account) with "
            "Read and List permissions" in run.stderr), run.stderr


@pytest.mark.stores("s3")
def test_setup_check_of_a_missing_bucket_prints_no_policy(company):
    run = setup_check(company, bucket="no-such-bucket-31")
    assert "NoSuchBucket" in run.stderr and "check 'bucket'" in run.stderr
    assert "needs this policy" not in run.stderr
