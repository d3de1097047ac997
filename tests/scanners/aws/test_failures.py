"""AccessDenied -> partial, unreachable -> failed; earlier findings stay open; API calls grow with
pages, not principals."""

from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from inventory.models import Connector
from scanners.aws.iam_collect import roles_last_used
from scanners.aws.model import Principal
from scanners.models import Finding, ProbeRun
from scanners.redaction import secret_fingerprint
from scanners.services.audit import audit_run_in_process
from tests.helpers import units_view

ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _probe(run):
    return units_view(run, kind="aws")


def _use_key(monkeypatch, key):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])


def test_access_denied_on_one_call_is_partial_and_keeps_earlier_findings(aws, aws_connector, monkeypatch):
    gone = aws.secret("will/vanish")
    first = _probe(audit_run_in_process(connector_names=["aws-test"]))
    assert first.status == ProbeRun.Status.OK, first.error
    assert Finding.objects.get(check_id="aws.secret.rotation_disabled", subject=gone).status == "open"

    aws.sm.delete_secret(SecretId=gone, ForceDeleteWithoutRecovery=True)
    key = aws.enforce_auth_as("auditor", [ALL, {"Effect": "Deny", "Action": "secretsmanager:ListSecrets",
                                                "Resource": "*"}])
    _use_key(monkeypatch, key)
    run = audit_run_in_process(connector_names=["aws-test"])
    second = _probe(run)
    assert second.status == ProbeRun.Status.PARTIAL
    assert "secretsmanager:ListSecrets in us-east-1" in second.error and "AccessDenied" in second.error
    assert Finding.objects.get(check_id="aws.secret.rotation_disabled", subject=gone).status == "open"
    assert run.probe_runs.get(kind="inventory").status == ProbeRun.Status.OK
    assert not Finding.objects.filter(check_id="aws.inventory.missing").exists()


def test_unreachable_endpoint_fails_the_probe_and_the_audit_goes_on(aws, aws_connector):
    aws.secret("kept/open")
    assert _probe(audit_run_in_process(connector_names=["aws-test"])).status == ProbeRun.Status.OK
    opened = set(Finding.objects.filter(status="open").values_list("fingerprint", flat=True))
    aws_connector.options = {"regions": ["us-east-1"], "endpoint_url": "http://127.0.0.1:9", "max_attempts": 2}
    aws_connector.save()
    run = audit_run_in_process(connector_names=["aws-test"])
    probe = _probe(run)
    assert probe.status == ProbeRun.Status.FAILED
    assert "aws-test" in probe.error and "127.0.0.1:9" in probe.error
    assert opened <= set(Finding.objects.filter(status="open").values_list("fingerprint", flat=True))
    assert run.probe_runs.get(kind="inventory").status == ProbeRun.Status.OK


def test_bad_options_fail_with_a_clear_error(db, aws):
    Connector.objects.create(name="bad-aws", kind="aws", options={"regions": "", "endpoint_url": 5})
    probe = _probe(audit_run_in_process(connector_names=["bad-aws"]))
    assert probe.status == ProbeRun.Status.FAILED
    assert "bad-aws" in probe.error and "endpoint_url" in probe.error


def test_without_the_credential_report_keys_are_listed_per_user(aws, aws_connector, monkeypatch):
    _, (bot_key,) = aws.user("key-user", keys=1)
    key = aws.enforce_auth_as("auditor", [ALL, {"Effect": "Deny", "Resource": "*", "Action": [
        "iam:GenerateCredentialReport", "iam:GetCredentialReport"]}])
    _use_key(monkeypatch, key)
    probe = _probe(audit_run_in_process(connector_names=["aws-test"]))
    assert probe.status == ProbeRun.Status.OK, probe.error
    assert secret_fingerprint(bot_key["AccessKeyId"]) in probe.facts["active_access_keys"]
    calls = probe.counts["api_calls_by_operation"]
    assert calls["ListAccessKeys"] == 2 and calls["GetAccessKeyLastUsed"] == 2  # key-user and auditor
    # the auditor's key was used by the probe itself: not "unused"
    unused = Finding.objects.filter(check_id="aws.key.unused").values_list("evidence__user", flat=True)
    assert list(unused) == ["arn:aws:iam::123456789012:user/key-user"]


def test_api_calls_grow_with_pages_not_principals(aws, aws_connector):
    def calls():
        return _probe(audit_run_in_process(connector_names=["aws-test"])).api_calls

    for i in range(5):
        aws.role(f"r{i}", [ALL])
        aws.user(f"u{i}")
    calls()  # the first run also waits for the credential report to be generated
    few = calls()
    for i in range(5, 60):
        aws.role(f"r{i}", [ALL])
        aws.user(f"u{i}")
    assert calls() == few


@pytest.mark.django_db
def test_role_last_used_is_read_for_bot_roles(aws):
    iam = aws.iam
    stub = Stubber(iam)
    used = datetime(2026, 5, 1, tzinfo=UTC)
    stub.add_response("get_role", {"Role": {
        "Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLEEXAMPLE12", "Arn": "arn:aws:iam::123456789012:role/r",
        "CreateDate": datetime(2026, 1, 1, tzinfo=UTC), "RoleLastUsed": {"LastUsedDate": used, "Region": "us-east-1"}}},
        {"RoleName": "r"})
    stub.add_client_error("get_role", "AccessDenied", "not allowed", expected_params={"RoleName": "s"})
    roles = [Principal(arn="arn:aws:iam::123456789012:role/r", name="r", kind="role"),
             Principal(arn="arn:aws:iam::123456789012:role/s", name="s", kind="role")]
    errors = []
    with stub:
        roles_last_used(iam, roles, errors)
    assert roles[0].last_used == used
    assert roles[1].last_used is None and errors == ["iam:GetRole s: AccessDenied: not allowed"]


def test_assume_role_with_external_id(aws, aws_connector):
    role = aws.role("botaudit-read", trust={"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "botaudit"}}}]})
    aws_connector.options = {**aws_connector.options, "assume_role": role, "external_id": "botaudit"}
    aws_connector.save()
    probe = _probe(audit_run_in_process(connector_names=["aws-test"]))
    assert probe.status == ProbeRun.Status.OK, probe.error
    # each unit (`<account>/iam`, `<account>/us-east-1`) runs in its own task: one AssumeRole per unit
    assert probe.counts["api_calls_by_operation"]["AssumeRole"] == len(probe.units) == 2
    assert all(u.counts["api_calls_by_operation"]["AssumeRole"] == 1 for u in probe.units)
    assert not Finding.objects.filter(check_id="aws.role.trust_any_principal").exists()


def test_clients_use_adaptive_retries_and_throttling_is_retryable(aws):
    from botocore.exceptions import ClientError

    from scanners.aws.errors import error_raise
    from scanners.aws.session import clients_build
    from scanners.registry import ProbeError, ProbeUnavailable

    clients = clients_build(name="c", options={"regions": ["us-east-1", "eu-west-1"], "endpoint_url": aws.url})
    assert clients.iam.meta.config.retries["mode"] == "adaptive"
    assert set(clients.secrets) == {"us-east-1", "eu-west-1"} and clients.account_id == "123456789012"
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ListSecrets")
    with pytest.raises(ProbeUnavailable, match="ThrottlingException"):
        error_raise(throttled, where="secretsmanager:ListSecrets")
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListSecrets")
    with pytest.raises(ProbeError) as info:
        error_raise(denied, where="secretsmanager:ListSecrets")
    assert not isinstance(info.value, ProbeUnavailable)
