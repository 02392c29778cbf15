"""Assumed roles through STS on the embedded server: order of calls, proxy chain, cache."""

import datetime
import json
import os
import re
import stat

import pytest

from devtools.faultproxy import FaultProxy

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
    catalog = company.selected_catalog(shared=True)
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


@pytest.mark.parametrize("seconds, settings, assumed", [
    ("900", ROLE, 1), ("900", {**ROLE, **PROXY}, 2), ("1800", ROLE, 1), ("43200", ROLE, 1)])
def test_a_run_shorter_than_the_session_assumes_each_role_once(company, s3, seconds, settings,
                                                               assumed):
    """botocore refreshes 15 minutes before expiry by default: a 900 s session (the least
    allowed) was refreshed at almost every request (60 files, 18 AssumeRole calls)."""
    for n in range(60):
        company.put(f"GLENTRY.{n}.csv", f"RECORDNO\n{n}\n", modified=n)
    catalog = company.selected_catalog(shared=True)
    env = s3.tap_environment()
    env["TAP_INTACCT_ROLE_SESSION_SECONDS"] = seconds
    s3.requests.clear()
    run = company.tap("--catalog", catalog, config=company.config(**settings), env=env)
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 60
    assert len(sts_calls(s3.requests.lines)) == assumed
    assert len(s3_calls(s3.requests.lines)) == 61  # one listing, one read per file


def test_credentials_inside_the_refresh_margin_are_refreshed_once(company, s3):
    """With 900 s sessions botocore refreshes 225 s before expiry (a quarter of the session):
    credentials with 200 s left are refreshed at the next request, the new ones (900 s) are
    kept for the rest of the run."""
    for n in range(20):
        company.put(f"GLENTRY.{n}.csv", f"RECORDNO\n{n}\n", modified=n)
    catalog = company.selected_catalog(shared=True)
    answers = []

    def short_lived_first(request, payload):
        if b"<AssumeRoleResult>" not in payload:
            return payload
        answers.append(request)
        if len(answers) > 1:
            return payload
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=200)
        return re.sub(rb"<Expiration>[^<]*</Expiration>",
                      f"<Expiration>{soon:%Y-%m-%dT%H:%M:%SZ}</Expiration>".encode(), payload)

    env = s3.tap_environment()
    env["TAP_INTACCT_ROLE_SESSION_SECONDS"] = "900"
    with FaultProxy(s3.port, rewrite=short_lived_first) as sts:
        run = company.tap("--catalog", catalog, env=env,
                          config=company.config(**ROLE, sts_endpoint_url=sts.url))
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 20
    assert len(answers) == 2


_first_cache_files = {}


def cache_file(company, tmp_path):
    """A role config with a credentials cache, and the cache file a first run wrote. The first
    run (exit 0, one file) is made once per test process: its file is copied for each test (the
    file's name is the role's and the external ID's digest, the same for every company)."""
    if "file" not in _first_cache_files:
        first = tmp_path / "first-run-creds"
        assert company.tap("--discover", config=company.config(
            **ROLE, credentials_cache_path=str(first))).returncode == 0
        [written] = list(first.iterdir())
        _first_cache_files["file"] = written.name, written.read_bytes()
    name, content = _first_cache_files["file"]
    cache = tmp_path / "creds"
    cache.mkdir()
    cached = cache / name
    cached.write_bytes(content)
    os.chmod(cached, 0o600)
    return company.config(**ROLE, credentials_cache_path=str(cache)), cached


LATER = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).isoformat()
KEYS = {"access_key": "ASIACACHEDKEY", "secret_key": "cached-secret-must-not-leak",
        "token": "cached-token"}
UNUSABLE = {
    "expiry without an offset": ({**KEYS, "expiry_time": LATER[:19]},
                                 "its expiry_time has no UTC offset"),
    "expiry but no keys": ({"expiry_time": LATER}, "it has no access_key, secret_key, token"),
    "a key that is not text": ({**KEYS, "token": 7, "expiry_time": LATER}, "it has no token"),
    "expiry that is no date": ({**KEYS, "expiry_time": "soon"},
                               "its expiry_time is not an ISO 8601 date-time"),
    "a list": ([KEYS], "it is not a JSON object"),
    "garbage": ("{not json", "it is not a JSON object"),
    "empty": ("", "it is not a JSON object"),
    "not UTF-8": (b"\xff\xfe{", "it is not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_an_unusable_cache_file_is_ignored_with_a_warning_and_rewritten(company, s3, tmp_path,
                                                                        case):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    config, cached = cache_file(company, tmp_path)
    content, problem = UNUSABLE[case]
    if isinstance(content, bytes):
        cached.write_bytes(content)
    else:
        cached.write_text(content if isinstance(content, str) else json.dumps(content))
    os.chmod(cached, 0o644)
    s3.requests.clear()
    run = company.tap("--discover", config=config)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert (f"WARNING Ignoring the credentials cache {cached}: {problem}; assuming the role and "
            "rewriting it") in run.stderr, run.stderr
    assert KEYS["secret_key"] not in run.stderr
    assert len(sts_calls(s3.requests.lines)) == 1
    assert stat.S_IMODE(os.stat(cached).st_mode) == 0o600
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]
    s3.requests.clear()
    again = company.tap("--discover", config=config)
    assert again.returncode == 0 and "Ignoring" not in again.stderr
    assert sts_calls(s3.requests.lines) == []  # the rewritten file is used


def test_a_cache_file_that_cannot_be_read_or_replaced_is_warned_about(company, s3, tmp_path):
    """A directory where the cache file goes: it is neither read nor replaced; the role is
    assumed, the run goes on, and no temporary file (with the credentials) is left behind."""
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    config, cached = cache_file(company, tmp_path)
    cached.unlink()
    cached.mkdir()
    s3.requests.clear()
    run = company.tap("--discover", config=config)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert (f"WARNING Ignoring the credentials cache {cached}: it cannot be read (Is a "
            "directory); assuming the role and rewriting it") in run.stderr, run.stderr
    assert f"WARNING Cannot write the credentials cache {cached}: Is a directory" in run.stderr
    assert len(sts_calls(s3.requests.lines)) == 1
    assert [p.name for p in cached.parent.iterdir()] == [cached.name] and cached.is_dir()


def test_an_expired_cache_file_readable_by_others_is_rewritten_0600(company, s3, tmp_path):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    config, cached = cache_file(company, tmp_path)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    cached.write_text(json.dumps({**KEYS, "expiry_time": past.isoformat()}))
    os.chmod(cached, 0o644)
    s3.requests.clear()
    run = company.tap("--discover", config=config)
    assert run.returncode == 0, run.stderr
    assert "Ignoring" not in run.stderr  # expired is ordinary
    assert len(sts_calls(s3.requests.lines)) == 1
    assert stat.S_IMODE(os.stat(cached).st_mode) == 0o600
    assert json.loads(cached.read_text())["access_key"] != KEYS["access_key"]


def test_no_secret_in_logs_even_at_debug(company, s3):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog(shared=True)
    env = s3.tap_environment()
    env["TAP_INTACCT_LOG_LEVEL"] = "DEBUG"
    run = company.tap("--catalog", catalog, config=company.config(**ROLE), env=env)
    assert run.returncode == 0, run.stderr
    assert "DEBUG" in run.stderr or "INFO" in run.stderr
    for secret in (ROLE["external_id"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_ACCESS_KEY_ID"],
                   "SessionToken", "x-amz-security-token", "FQoGZXIvYXdzE"):
        assert secret not in run.stderr
