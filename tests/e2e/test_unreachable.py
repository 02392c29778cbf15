"""An endpoint that cannot be reached is named as such; the IAM policy is printed only when
access is denied (issue 25, row 12)."""

from devtools.faultproxy import FaultProxy
from devtools.s3server import free_port
from tests.e2e.conftest import assert_clean_failure

POLICY = "needs this policy"


def test_setup_check_names_an_unreachable_s3_endpoint_without_the_policy(company):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    run = company.tap("--test", config=company.config(endpoint_url=closed),
                      env={**company.server.tap_environment(), "TAP_INTACCT_MAX_TRIES": "2"})
    assert_clean_failure(run, f"FAILED: cannot list prefix '{company.prefix}' in "
                              f"s3://{company.bucket}/: the S3 endpoint {closed} could not be "
                              "reached", "check endpoint_url, the network", code=1)
    assert POLICY not in run.stderr

    synced = company.tap("--discover", config=company.config(endpoint_url=closed),
                         env={**company.server.tap_environment(), "TAP_INTACCT_MAX_TRIES": "2"})
    assert_clean_failure(synced, f"the S3 endpoint {closed} could not be reached", code=1)


def test_setup_check_names_an_unreachable_sts_endpoint_without_the_policies(company):
    closed = f"http://127.0.0.1:{free_port()}"
    run = company.tap("--test", config=company.config(
        sts_endpoint_url=closed, account_id="123456789012", role_name="dds-reader",
        external_id="ext-secret-42"),
        env={**company.server.tap_environment(), "TAP_INTACCT_MAX_TRIES": "2"})
    assert_clean_failure(run, "cannot assume role arn:aws:iam::123456789012:role/dds-reader: "
                              f"the STS endpoint {closed} could not be reached",
                         "check sts_endpoint_url", code=1)
    assert POLICY not in run.stderr and "trust policy:" not in run.stderr


def test_setup_check_prints_the_policy_when_listing_is_denied(company):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    with FaultProxy(company.server.port) as proxy:
        proxy.add(r"^GET /[^ ]*list-type=2", "status", status=403, code="AccessDenied",
                  times=float("inf"))
        run = company.tap("--test", config=company.config(endpoint_url=proxy.url))
    assert_clean_failure(run, "AccessDenied", f"(or the tap's own credentials) {POLICY}", code=1)
    assert f'"Resource":"arn:aws:s3:::{company.bucket}/{company.prefix}*"' in run.stderr
