"""Assumed roles through STS on the embedded server: order of calls, proxy chain, cache."""

import os
import stat

ROLE = {"account_id": "1234-5678-9012", "role_name": "dds-reader", "external_id": "ext-secret-42"}
PROXY = {"proxy_account_id": "210987654321", "proxy_role_name": "stitch-proxy"}


def sts_calls(lines):
    return [i for i, line in enumerate(lines) if line.startswith("POST / ")]


def s3_calls(lines):
    return [i for i, line in enumerate(lines) if line.startswith("GET /")]


def test_role_is_assumed_before_any_bucket_access(company, s3):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    s3.requests.clear()
    run = company.tap("--discover", config=company.config(**ROLE))
    assert run.returncode == 0, run.stderr
    assert len(sts_calls(s3.requests.lines)) == 1
    assert sts_calls(s3.requests.lines)[0] < s3_calls(s3.requests.lines)[0]
    assert "arn:aws:iam::123456789012:role/dds-reader" in run.stderr
    assert ROLE["external_id"] not in run.stderr


def test_proxy_role_then_customer_role(company, s3):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog()
    s3.requests.clear()
    run = company.sync(catalog, config=company.config(**ROLE, **PROXY))
    assert run.returncode == 0, run.stderr
    assert [r["RECORDNO"] for r in run.records()] == [1]
    assert len(sts_calls(s3.requests.lines)) == 2
    assert max(sts_calls(s3.requests.lines)) < min(s3_calls(s3.requests.lines))
    assert run.stderr.index("role/stitch-proxy") < run.stderr.index("role/dds-reader")


def test_credentials_cache_skips_assume_role_on_the_next_run(company, s3, tmp_path):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    cache = tmp_path / "creds"
    config = company.config(**ROLE, credentials_cache_path=str(cache))
    assert company.tap("--discover", config=config).returncode == 0
    [cached] = list(cache.iterdir())
    assert stat.S_IMODE(os.stat(cached).st_mode) == 0o600
    s3.requests.clear()
    assert company.tap("--discover", config=config).returncode == 0
    assert sts_calls(s3.requests.lines) == []


def test_short_lived_credentials_are_refreshed_during_the_sync(company, s3):
    for n in range(3):
        company.put(f"GLENTRY.{n}.csv", "RECORDNO\n1\n", modified=n)
    catalog = company.selected_catalog()
    env = s3.tap_environment()
    env["TAP_INTACCT_ROLE_SESSION_SECONDS"] = "900"  # inside botocore's 15-minute refresh window
    s3.requests.clear()
    run = company.tap("--catalog", catalog, config=company.config(**ROLE), env=env)
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 3
    assert len(sts_calls(s3.requests.lines)) >= 3  # refreshed, not failed


def test_no_secret_in_logs_even_at_debug(company, s3):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog()
    env = s3.tap_environment()
    env["TAP_INTACCT_LOG_LEVEL"] = "DEBUG"
    run = company.tap("--catalog", catalog, config=company.config(**ROLE), env=env)
    assert run.returncode == 0, run.stderr
    assert "DEBUG" in run.stderr or "INFO" in run.stderr
    for secret in (ROLE["external_id"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_ACCESS_KEY_ID"],
                   "SessionToken", "x-amz-security-token", "FQoGZXIvYXdzE"):
        assert secret not in run.stderr
