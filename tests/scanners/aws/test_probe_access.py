"""The new access checks end to end through moto: group-attached managed policies, conditions,
cross-account trust and the `trusted_accounts` option."""

import json

import pytest

from inventory.models import Connector, Identity
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process

from .conftest import ACCOUNT

OUTSIDE = "999988887777"
pytestmark = pytest.mark.django_db


def _run(name="aws-test"):
    probe = audit_run_in_process(connector_names=[name]).probe_runs.get(kind="aws")
    assert probe.status == ProbeRun.Status.OK, probe.error
    return probe


def _managed(aws, name, statements):
    doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return aws.iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"]


def _trust(principal, condition=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [{**st, "Condition": condition} if condition else st]}


def test_group_managed_policy_with_passed_to_service_is_the_lambda_escalation(aws, aws_connector, make_bot):
    bot = make_bot("lambda-bot")
    arn, _ = aws.user("lambda-bot")
    policy = _managed(aws, "deployer", [
        {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
        {"Sid": "Fn", "Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction",
                                                   "ec2:RunInstances"], "Resource": "*"}])
    aws.iam.create_group(GroupName="deployers")
    aws.iam.attach_group_policy(GroupName="deployers", PolicyArn=policy)
    aws.iam.add_user_to_group(GroupName="deployers", UserName="lambda-bot")
    Identity.objects.create(bot=bot, kind="aws_iam_user", ref=arn)
    _run()
    f = Finding.objects.get(check_id="aws.policy.privilege_escalation", subject=arn)
    assert f.bot == bot and f.severity == "high"
    details = {d["id"]: d for d in f.evidence["details"]}
    assert "PassExistingRoleToNewLambdaThenInvoke" in details and "CreateEC2WithExistingIP" not in details
    policies = {s["policy"] for s in details["PassExistingRoleToNewLambdaThenInvoke"]["statements"]}
    assert policies == {policy}


def test_cross_account_trust_and_the_trusted_accounts_option(aws, aws_connector):
    plain = aws.role("partner-plain", trust=_trust({"AWS": f"arn:aws:iam::{OUTSIDE}:root"}))
    guarded = aws.role("partner-guarded", trust=_trust({"AWS": OUTSIDE}, {"StringEquals": {"sts:ExternalId": "e"}}))
    star = aws.role("star-external", trust=_trust({"AWS": "*"}, {"StringEquals": {"sts:ExternalId": "e"}}))
    own = aws.role("own-account", trust=_trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    _run()
    found = {f.subject: f.severity for f in Finding.objects.filter(check_id="aws.role.trust_cross_account")}
    assert found == {plain: "high", guarded: "medium", star: "high"}
    assert own not in found
    assert not Finding.objects.filter(check_id="aws.role.trust_any_principal", subject=star).exists()

    aws_connector.options = {**aws_connector.options, "trusted_accounts": [OUTSIDE]}
    aws_connector.save()
    _run()
    still = Finding.objects.filter(check_id="aws.role.trust_cross_account", status="open")
    assert {f.subject for f in still} == {star}  # "*" is never a trusted account


def test_bad_trusted_accounts_option_names_it(db, aws):
    Connector.objects.create(name="bad-trust", kind="aws", options={"endpoint_url": aws.url,
                                                                     "trusted_accounts": ["12345"]})
    probe = audit_run_in_process(connector_names=["bad-trust"]).probe_runs.get(kind="aws")
    assert probe.status == ProbeRun.Status.FAILED
    assert "bad-trust" in probe.error and "trusted_accounts" in probe.error


def test_conditional_and_least_privilege_principals(aws, aws_connector):
    region = aws.role("region-bound", [{"Effect": "Allow", "Action": ["s3:GetObject", "ec2:TerminateInstances"],
                                        "Resource": "*",
                                        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}])
    clean = aws.role("least", [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::least/*"},
        {"Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/least/*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1"}])
    _run()
    data = Finding.objects.get(check_id="aws.policy.data_exfiltration", subject=region)
    assert data.severity == "medium" and data.evidence["conditional"] is True
    infra = Finding.objects.get(check_id="aws.policy.infrastructure_modification", subject=region)
    assert infra.severity == "low" and infra.evidence["by_service"]["ec2"]["examples"] == ["ec2:terminateinstances"]
    assert not Finding.objects.filter(subject=clean).exclude(check_id="aws.inventory.unowned").exists()
