"""What only Azure has: its ways to authenticate, its refusals, and secrets kept out of logs."""

import os
import re

import pytest

from devtools.azuriteserver import ACCOUNT_KEY
from tests.e2e.conftest import assert_clean_failure

pytestmark = pytest.mark.stores("azure")
# Azure answers a wrong key or signature with AuthenticationFailed, Azurite with
# AuthorizationFailure: the tap names either with the same advice.
REFUSED = re.compile(r"(AuthenticationFailed|AuthorizationFailure) \(HTTP 403\)")
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="


def debug_env(company):
    env = company.server.tap_environment()
    env["TAP_INTACCT_LOG_LEVEL"] = "DEBUG"
    return env


def synced_ok(company, **settings):
    catalog = company.selected_catalog(shared=True)
    run = company.tap("--catalog", catalog, config=company.config(**settings),
                      env=debug_env(company))
    assert run.returncode == 0, run.stderr
    return run


def assert_one_error_line(run, *fragments):
    assert_clean_failure(run, *fragments)
    errors = [line for line in run.stderr.splitlines() if line.startswith("tap-intacct: error:")]
    assert len(errors) == 1, run.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_sas_token_with_or_without_its_question_mark(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n2\n")
    sas = company.server.sas_token(company.bucket)
    for token in (sas, "?" + sas):
        run = synced_ok(company, azure_connection_string=None, azure_sas_token=token,
                        azure_account_url=company.server.url)
        assert [r["RECORDNO"] for r in run.records()] == [1, 2]
        assert run.records()[0]["_sdc_source_bucket"] == company.bucket
        signature = [p for p in sas.split("&") if p.startswith("sig=")][0]
        assert signature[4:] not in run.stderr and "Azure requests: GetBlob=1 ListBlobs=1" in \
            run.stderr


def test_wrong_account_key_is_one_line_without_the_key(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    wrong = company.server.connection_string.replace(ACCOUNT_KEY, WRONG_KEY)
    run = company.tap("--discover", config=company.config(azure_connection_string=wrong),
                      env=debug_env(company))
    assert_one_error_line(run, "account devstoreaccount1", f"container {company.bucket}",
                          "check azure_connection_string or azure_sas_token")
    assert REFUSED.search(run.stderr)
    assert WRONG_KEY not in run.stderr and ACCOUNT_KEY not in run.stderr
    assert "AccountKey" not in run.stderr


def test_tampered_sas_signature_is_one_line_without_the_signature(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    sas = company.server.sas_token(company.bucket)
    tampered = sas.replace("sig=", "sig=AAAA")
    run = company.tap("--discover", env=debug_env(company), config=company.config(
        azure_connection_string=None, azure_sas_token=tampered,
        azure_account_url=company.server.url))
    assert_one_error_line(run, f"container {company.bucket}", "check azure_connection_string")
    assert REFUSED.search(run.stderr)
    assert "sig=" not in run.stderr.replace("sig=***", "")
    assert tampered.split("sig=")[1][:20] not in run.stderr


def test_sas_without_list_permission_says_what_to_grant(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    read_only = company.server.sas_token(company.bucket, read=True)
    run = company.tap("--discover", env=debug_env(company), config=company.config(
        azure_connection_string=None, azure_sas_token=read_only,
        azure_account_url=company.server.url))
    assert_one_error_line(run, f"container {company.bucket}", "account devstoreaccount1")
    assert "Authorization" in run.stderr and "List" in run.stderr
    assert read_only.split("sig=")[1][:20] not in run.stderr


def test_missing_container_names_account_and_container(company):
    run = company.tap("--discover", config=company.config(container="no-such-container"))
    assert_one_error_line(run, "ContainerNotFound", "container no-such-container",
                          "check 'container'")


def test_unknown_service_principal_tenant_fails_in_one_line_without_the_secret(company):
    secret = "client-secret-that-must-not-leak"  # noqa: S105 (a test value)
    env = debug_env(company)
    env["AZURE_AUTHORITY_HOST"] = "https://127.0.0.1:9"  # nothing listens: no network leaves
    run = company.tap("--discover", env=env, config=company.config(
        azure_connection_string=None, azure_account_url="https://127.0.0.1:9/devstoreaccount1",
        azure_tenant_id="00000000-0000-0000-0000-000000000000", azure_client_id="app",
        azure_client_secret=secret), timeout=120)
    assert_one_error_line(run, f"container {company.bucket}", "check the Azure credential")
    assert secret not in run.stderr


def test_malformed_connection_string_is_one_line_without_it(company):
    broken = "AccountName=devstoreaccount1;AccountKey=" + WRONG_KEY  # no endpoint, no protocol
    run = company.tap("--discover", config=company.config(azure_connection_string=broken,
                                                          azure_account_url=None))
    assert_clean_failure(run, "tap-intacct: error:")
    assert WRONG_KEY not in run.stderr


def test_defaults_to_s3_and_says_how_to_choose_azure(company):
    run = company.tap("--discover", config=company.config(storage=None))
    assert run.returncode == 2
    assert "'bucket' is required for storage s3 (or set storage: azure" in run.stderr
    assert os.path.exists(company.config())


def test_an_azure_run_never_loads_boto3(company, tmp_path):
    """boto3 is only for S3 stores and s3:// batch roots (storage/store.py): an Azure run, in
    RECORD and in BATCH mode with a file:// root, does not import it."""
    company.put("GLENTRY.csv", "RECORDNO\n1\n2\n")
    batch = {"encoding": {"format": "jsonl", "compression": "gzip"},
             "storage": {"root": f"file://{tmp_path}", "prefix": "b-"}}
    for settings in ({}, {"batch_config": batch}):
        env = company.server.tap_environment()
        env["PYTHONPROFILEIMPORTTIME"] = "1"  # every module imported, on stderr
        catalog = company.selected_catalog(shared=True)
        run = company.tap("--catalog", catalog, config=company.config(**settings), env=env)
        assert run.returncode == 0, run.stderr
        assert "azure.storage.blob" in run.imported  # the check sees the imports
        assert not [name for name in run.imported if name.split(".")[0] in ("boto3", "botocore")]
