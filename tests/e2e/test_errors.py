"""User mistakes and refusals: one clear line, a non-zero exit, never a traceback."""

import boto3
import moto.settings
import pytest
from moto.core.responses import ActionAuthenticatorMixin

from tests.e2e.conftest import assert_clean_failure


def test_config_problems_are_all_reported_with_exit_2(company):
    config = company.write("bad.json", {"bucket": "s3://bucket/folder", "start_date": "soon",
                                        "role_name": "reader"})
    run = company.tap("--discover", config=config)
    assert_clean_failure(run, "'company_id' is required", "'start_date' is not an ISO 8601",
                         "bucket name only", "'account_id' is missing", "'external_id' is missing",
                         code=2)
    assert run.stdout == ""


@pytest.mark.parametrize("content, message", [
    ("{not json", "invalid JSON at line 1, column 2"),
    ("[]", "must be a JSON object"),
])
def test_unreadable_config(company, content, message):
    run = company.tap("--discover", config=company.write("c.json", content))
    assert_clean_failure(run, message, code=2)


def test_config_written_with_a_bom_is_read(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    config = company.write("bom.json", "\ufeff" + open(company.config()).read())
    assert company.tap("--discover", config=config).returncode == 0


def test_missing_files_and_arguments(company):
    assert_clean_failure(company.tap("--discover", config="/nonexistent/c.json"),
                         "config /nonexistent/c.json: cannot read", code=2)
    assert_clean_failure(company.tap(), "nothing to do", code=2)
    assert_clean_failure(company.tap("--catalog", "/nonexistent/cat.json"),
                         "catalog /nonexistent/cat.json: cannot read", code=2)


def test_bad_catalog_and_state(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    bad_catalog = company.write("cat.json", {"streams": [{"tap_stream_id": "GLENTRY"}]})
    assert_clean_failure(company.sync(bad_catalog), "stream 'GLENTRY' has no 'schema'", code=2)
    catalog = company.selected_catalog(shared=True)
    run = company.sync(catalog, state={"bookmarks": {"GLENTRY": {"modified_since": "later"}}})
    assert_clean_failure(run, "bookmarks.GLENTRY.modified_since is not an ISO 8601", code=2)
    assert run.records() == []


def test_about_and_version(company):
    import json
    import subprocess

    from tests.e2e.conftest import TAP
    about = json.loads(subprocess.run([TAP, "--about", "--format", "json"], capture_output=True,
                                      text=True, check=True).stdout)
    assert about["name"] == "tap-intacct"
    assert about["capabilities"] == ["catalog", "discover", "state", "properties", "about",
                                    "batch"]
    settings = {s["name"]: s for s in about["settings"]}
    assert settings["external_id"]["sensitive"] and settings["start_date"]["required"]
    assert not settings["bucket"]["required"]  # required for storage s3 only
    assert all(settings[name]["sensitive"] for name in (
        "azure_connection_string", "azure_sas_token", "azure_client_secret"))
    assert set(settings) >= {"start_date", "bucket", "company_id", "path", "account_id",
                             "role_name", "external_id", "proxy_account_id", "proxy_role_name",
                             "credentials_cache_path", "endpoint_url"}
    version = subprocess.run([TAP, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("tap-intacct ")


@pytest.fixture
def iam_user(s3, request):
    """Credentials of an IAM user with no permissions on the embedded server."""
    iam = boto3.client("iam", endpoint_url=s3.url, region_name="us-east-1")
    name = f"no-permissions-{request.node.name[:40]}"
    iam.create_user(UserName=name)
    yield iam.create_access_key(UserName=name)["AccessKey"]
    moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")


def enforce_auth(after_requests=0):
    """From the next request on (after `after_requests` more), check credentials and IAM policy
    as AWS does. (moto mis-signs list queries holding '/', so listing cannot be checked.)"""
    moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = (
        ActionAuthenticatorMixin.request_count + after_requests)


def env_with_keys(s3, key_id, secret):
    env = s3.tap_environment()
    env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
    return env


def test_access_denied_names_bucket_and_file(company, s3, iam_user):
    key = company.put("GLENTRY.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog(shared=True)
    env = env_with_keys(s3, iam_user["AccessKeyId"], iam_user["SecretAccessKey"])
    enforce_auth(after_requests=1)  # the listing passes, reading the file is refused
    run = company.tap("--catalog", catalog, env=env)
    assert_clean_failure(run, f"s3://{company.bucket}/", key, "AccessDenied", "s3:GetObject",
                         code=1)
    assert "reached max retries" not in run.stderr
    enforce_auth(after_requests=1)
    discovered = company.tap("--discover", env=env)  # the file is skipped with a warning
    assert discovered.returncode == 0, discovered.stderr
    [warning] = [line for line in discovered.stderr.splitlines() if "Discovery skipped" in line]
    assert key in warning and "AccessDenied" in warning


def test_invalid_credentials_name_bucket_and_prefix(company, s3, iam_user):
    enforce_auth()
    run = company.tap("--discover", env=env_with_keys(s3, "AKIAINVALIDINVALID00", "nope"))
    assert_clean_failure(run, f"s3://{company.bucket}/", company.prefix, "InvalidAccessKeyId",
                         "check the AWS credentials")


@pytest.mark.parametrize("key", ["endpoint_url", "sts_endpoint_url"])
@pytest.mark.parametrize("url", ["not a url", "s3.amazonaws.com", "ftp://host", "http://a_b:9000"])
def test_bad_endpoint_url_is_one_line_before_any_request(company, s3, key, url):
    s3.requests.clear()
    run = company.tap("--discover", config=company.config(**{key: url}))
    assert_clean_failure(run, f"'{key}' must be an http:// or https:// URL", code=2)
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert s3.requests.lines == []


@pytest.mark.parametrize("variable, value", [
    ("TAP_INTACCT_LOG_LEVEL", "LOUD"), ("TAP_INTACCT_MAX_TRIES", "0"),
    ("TAP_INTACCT_PROGRESS_SECONDS", "0"), ("TAP_INTACCT_RETRY_BASE_SECONDS", "soon"),
    ("TAP_INTACCT_ROLE_SESSION_SECONDS", "60"),
])
def test_bad_environment_knob_is_one_line_before_any_request(company, s3, variable, value):
    env = s3.tap_environment()
    env[variable] = value
    s3.requests.clear()
    run = company.tap("--discover", env=env)
    assert_clean_failure(run, f"environment variable {variable} must be", repr(value), code=2)
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert s3.requests.lines == []


def test_bad_bookmark_of_a_later_stream_fails_before_any_output(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    company.put("VENDOR.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog(shared=True)
    run = company.sync(catalog, state={"bookmarks": {"VENDOR": {"modified_since": "never"}}})
    assert_clean_failure(run, "bookmarks.VENDOR.modified_since", code=2)
    assert run.stdout == ""


def test_closed_stdout_is_one_clear_line(company):
    import subprocess

    from tests.e2e.conftest import TAP
    company.put("GLENTRY.csv", "RECORDNO\n" + "".join(f"{n}\n" for n in range(200_000)))
    catalog = company.selected_catalog(shared=True)
    tap = subprocess.Popen([TAP, "--config", company.config(), "--catalog", catalog],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=company.s3.tap_environment())
    tap.stdout.readline()
    tap.stdout.close()  # the target died
    stderr = tap.stderr.read()
    assert tap.wait(timeout=60) == 1
    assert "stdout was closed" in stderr and "Traceback" not in stderr
    assert "Exception ignored" not in stderr
