"""The new access checks end to end through moto: group-attached managed policies, conditions,
cross-account trust and the `trusted_accounts` option."""

import json

import pytest

from inventory.models import Connector, Identity
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process
from tests.helpers import units_view

from .conftest import ACCOUNT

OUTSIDE = "999988887777"
pytestmark = pytest.mark.django_db


def _run(name="aws-test"):
    probe = units_view(audit_run_in_process(connector_names=[name]), kind="aws")
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
    probe = units_view(audit_run_in_process(connector_names=["bad-trust"]), kind="aws")
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


def test_data_exfiltration_on_other_bots_data_stores(aws, aws_connector, make_bot, make_credential):
    """Inventory refs name each bot's bucket, parameter, table and key; a reporting role whose
    policy reaches payroll's data is flagged with exactly those resources, a least-privilege one is not."""
    payroll, reporter, tidy = make_bot("payroll-bot"), make_bot("reporter-bot"), make_bot("tidy-bot")
    param = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/payroll/db-password"
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payroll-ledger"
    for name, ref in (("exports", "arn:aws:s3:::payroll-exports"), ("db", param), ("ledger", table)):
        make_credential(payroll, name, store="other", ref=ref)
    make_credential(tidy, "own", store="other", ref="arn:aws:s3:::tidy-data")
    make_credential(reporter, "own", store="other", ref="arn:aws:s3:::reporter-data")
    reporter_arn = aws.role("reporter-bot", [
        {"Sid": "AllBuckets", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"},
        {"Sid": "Params", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/*"},
        {"Sid": "Own", "Effect": "Allow", "Action": "dynamodb:Query",
         "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/reporter-*"}])
    tidy_arn = aws.role("tidy-bot", [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                      "Resource": "arn:aws:s3:::tidy-data/*"}])
    Identity.objects.create(bot=reporter, kind="aws_iam_role", ref=reporter_arn)
    Identity.objects.create(bot=tidy, kind="aws_iam_role", ref=tidy_arn)
    _run()
    found = {f.subject: f for f in Finding.objects.filter(check_id="aws.policy.data_exfiltration")}
    assert tidy_arn not in found
    f = found[reporter_arn]
    assert f.bot == reporter and f.severity == "high"
    others = {o["resource"]: o for o in f.evidence["other_bots"]}
    # every other bot's bucket and payroll's parameter; not its own bucket, not payroll's table
    assert set(others) == {"arn:aws:s3:::payroll-exports", "arn:aws:s3:::tidy-data", param}
    assert others["arn:aws:s3:::tidy-data"]["bots"] == ["tidy-bot"]
    assert others[param]["bots"] == ["payroll-bot"] and others[param]["statements"][0]["statement"] == "Params"
