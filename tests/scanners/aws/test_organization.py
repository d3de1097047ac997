"""AWS units and the `organization` option, against moto (Organizations, STS, IAM, Secrets Manager
in member accounts). Units run through org_scenario.units_run: plan, then per unit the pipeline's
collect -> checks -> commit in the unit's own scope."""

from __future__ import annotations

import json

import boto3
import pytest

from inventory.models import Connector, Identity
from scanners import registry
from scanners.context import ProbeContext
from scanners.models import Finding, ProbeRun
from scanners.redaction import secret_fingerprint

from . import org_scenario as org
from .conftest import ACCOUNT, REGION
from .scenario import CANARY

ADMIN = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def _trust(account):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def organization(aws, make_bot, make_credential):
    a, b, c = org.organization_create(aws.url, members=3)
    for account in (a, b, c):
        org.member_role_readonly(aws.url, account)
    seed_a = org.member_seeder(aws.url, a)
    s = {"a": a, "b": b, "c": c}
    s["deploy_user"], (s["deploy_key"],) = seed_a.user("deploy-bot", ADMIN, keys=1)
    s["a_db"] = seed_a.secret("a/db", value=CANARY)
    s["a_eu"] = org.member_seeder(aws.url, a, region="eu-west-1").secret("a/eu")
    seed_b = org.member_seeder(aws.url, b)
    s["in_org_role"] = seed_b.role("in-org", trust=_trust(a))
    s["outsider_role"] = seed_b.role("outsider", trust=_trust(org.OUTSIDE))
    s["b_token"] = seed_b.secret("b/token")
    s["c_user"], _ = org.member_seeder(aws.url, c).user("c-user")
    deploy, token = make_bot("deploy-bot"), make_bot("token-bot")
    Identity.objects.create(bot=deploy, kind="aws_iam_user", ref=s["deploy_user"])
    s["ghost_ref"] = f"arn:aws:iam::{b}:role/ghost"
    Identity.objects.create(bot=token, kind="aws_iam_role", ref=s["ghost_ref"])
    s["token_cred"] = make_credential(token, "token", ref=s["b_token"])
    s["bots"] = {"deploy": deploy, "token": token}
    s["connector"] = Connector.objects.create(name="aws-org", kind="aws", options={
        "regions": org.REGIONS, "endpoint_url": aws.url, "organization": {}})
    return s


def _names(units):
    return [u.name for u in units]


def _plan(connector):
    return registry.get("aws").plan(connector, ProbeContext.build())


def test_plan_has_iam_once_per_account_and_secrets_per_account_and_region(organization):
    s = organization
    units = _plan(s["connector"])
    accounts = sorted([ACCOUNT, s["a"], s["b"], s["c"]])
    assert sorted(_names(units)) == sorted(f"{acct}/{part}" for acct in accounts
                                           for part in ("iam", *org.REGIONS))
    by_name = {u.name: u for u in units}
    assert by_name[f"{ACCOUNT}/iam"].params["role_arn"] == ""  # the management account: its own session
    member = by_name[f"{s['b']}/eu-west-1"]
    assert member.account == s["b"] and member.phase == 0
    assert member.params["role_arn"] == f"arn:aws:iam::{s['b']}:role/{org.ROLE}"
    assert member.params["region"] == "eu-west-1" and member.params["audited_accounts"] == accounts
    assert "region" not in by_name[f"{s['b']}/iam"].params


def test_without_organization_the_plan_is_the_connectors_own_account(db, aws):
    conn = Connector.objects.create(name="one", kind="aws", options={"regions": org.REGIONS, "endpoint_url": aws.url})
    assert _names(_plan(conn)) == [f"{ACCOUNT}/iam", f"{ACCOUNT}/us-east-1", f"{ACCOUNT}/eu-west-1"]


def test_include_and_exclude(organization):
    s, conn = organization, organization["connector"]
    conn.options["organization"] = {"include": [s["a"], s["b"]], "exclude": [s["b"]], "role_name": "Auditor"}
    conn.save()
    units = _plan(conn)
    assert {u.account for u in units} == {s["a"]}
    assert all(u.params["role_arn"] == f"arn:aws:iam::{s['a']}:role/Auditor" for u in units)
    conn.options["organization"] = {"exclude": [ACCOUNT, s["c"]]}
    conn.save()
    assert {u.account for u in _plan(conn)} == {s["a"], s["b"]}


def test_an_included_account_outside_the_organization_is_its_own_failed_unit(organization):
    s, conn = organization, organization["connector"]
    conn.options = {**conn.options, "regions": [REGION], "organization": {"include": [s["a"], org.OUTSIDE]}}
    conn.save()
    runs = org.units_run(conn)
    assert {n: r.status for n, r in runs.items()} == {
        f"{s['a']}/iam": "ok", f"{s['a']}/{REGION}": "ok",
        f"{org.OUTSIDE}/iam": "failed", f"{org.OUTSIDE}/{REGION}": "failed"}
    assert f"account {org.OUTSIDE} is in `include` but not an active account" in runs[f"{org.OUTSIDE}/iam"].error


def test_every_page_of_list_accounts_is_read(db, aws):
    members = org.organization_create(aws.url, members=2 * 20 + 1)  # 42 accounts with the management one
    conn = Connector.objects.create(name="big", kind="aws", options={
        "regions": [REGION], "endpoint_url": aws.url, "organization": {}})
    assert {u.account for u in _plan(conn)} == {ACCOUNT, *members}


def test_units_find_each_member_accounts_problems_in_their_own_scope(organization):
    s, conn = organization, organization["connector"]
    runs = org.units_run(conn)
    assert all(r.status == ProbeRun.Status.OK for r in runs.values()), {n: r.error for n, r in runs.items()}
    a, b = s["a"], s["b"]

    def found(check_id, subject):
        return Finding.objects.get(check_id=check_id, subject=subject)

    admin = found("aws.policy.admin", s["deploy_user"])
    assert admin.scope == f"connector:{conn.pk}:{a}/iam" and admin.evidence["account"] == a
    assert admin.bot_id == s["bots"]["deploy"].pk  # the manifest ref names a member account's user
    assert found("aws.secret.rotation_disabled", s["a_eu"]).scope == f"connector:{conn.pk}:{a}/eu-west-1"
    assert found("aws.secret.rotation_disabled", s["a_db"]).evidence["account"] == a
    # trust: another account of the organization is audited, an outside account is not
    assert found("aws.role.trust_cross_account", s["outsider_role"]).evidence["accounts"] == [org.OUTSIDE]
    assert not Finding.objects.filter(check_id="aws.role.trust_cross_account", subject=s["in_org_role"]).exists()
    missing = Finding.objects.get(check_id="aws.inventory.missing")
    assert missing.evidence["ref"] == s["ghost_ref"] and missing.scope == f"connector:{conn.pk}:{b}/iam"
    token = found("aws.secret.rotation_disabled", s["b_token"])
    assert token.bot_id == s["bots"]["token"].pk and token.scope == f"connector:{conn.pk}:{b}/{REGION}"
    assert found("aws.inventory.unowned", s["c_user"]).evidence["account"] == s["c"]
    for f in Finding.objects.all():  # the evidence names the account; the subject ARN is in it
        assert f.evidence["account"] in f.subject or f.evidence["account"] in f.evidence.get("ref", ""), f.subject
    # each unit did only its part
    iam_calls = runs[f"{a}/iam"].counts["api_calls_by_operation"]
    region_calls = runs[f"{a}/eu-west-1"].counts["api_calls_by_operation"]
    assert "GetAccountAuthorizationDetails" in iam_calls and "GetResourcePolicy" not in iam_calls
    assert set(region_calls) == {"AssumeRole", "ListSecrets", "GetResourcePolicy"}
    assert "AssumeRole" not in runs[f"{ACCOUNT}/iam"].counts["api_calls_by_operation"]
    # facts: active keys come from the iam unit, with their account
    fact = runs[f"{a}/iam"].facts["active_access_keys"][secret_fingerprint(s["deploy_key"]["AccessKeyId"])]
    assert fact["account"] == a and fact["user"] == s["deploy_user"]
    assert runs[f"{a}/{REGION}"].facts == {}


def test_an_unassumable_account_fails_its_units_and_resolves_nothing_others_go_on(organization, aws, monkeypatch):
    s, conn = organization, organization["connector"]
    first = org.units_run(conn)
    assert all(r.status == ProbeRun.Status.OK for r in first.values())
    c_user = Finding.objects.get(check_id="aws.inventory.unowned", subject=s["c_user"])
    # a.eu goes away; c's role can no longer be assumed (moto enforces the probe identity's policy)
    boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=aws.url, **_creds(aws.url, s["a"])
                 ).delete_secret(SecretId=s["a_eu"], ForceDeleteWithoutRecovery=True)
    c_role = f"arn:aws:iam::{s['c']}:role/{org.ROLE}"
    key = aws.enforce_auth_as("org-auditor", [*org.MANAGEMENT_POLICY, {
        "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": c_role}])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    second = org.units_run(conn)
    c_units = {n for n in second if n.startswith(s["c"])}
    assert c_units == {f"{s['c']}/iam", f"{s['c']}/{REGION}", f"{s['c']}/eu-west-1"}
    for name, run in second.items():
        if name in c_units:
            assert run.status == ProbeRun.Status.FAILED
            assert f"account {s['c']}: cannot assume role {c_role}" in run.error and "AccessDenied" in run.error
        else:
            assert run.status == ProbeRun.Status.OK, (name, run.error)
    c_user.refresh_from_db()
    assert c_user.status == Finding.Status.OPEN  # a failed unit resolves nothing of its own
    gone = Finding.objects.get(check_id="aws.secret.rotation_disabled", subject=s["a_eu"])
    assert gone.status == Finding.Status.RESOLVED  # its unit succeeded and did not see it again
    assert Finding.objects.get(check_id="aws.policy.admin", subject=s["deploy_user"]).status == Finding.Status.OPEN


def _creds(url, account):
    creds = org.member_session(url, account).get_credentials()
    return {"aws_access_key_id": creds.access_key, "aws_secret_access_key": creds.secret_key,
            "aws_session_token": creds.token}


@pytest.mark.parametrize(("value", "field"), [
    ("yes", "'organization' must be a mapping"),
    ({"role": "x"}, "unknown field(s) role"),
    ({"role_name": "bad name/with slash"}, "'organization.role_name' must be an IAM role name"),
    ({"include": ["12345"]}, "'organization.include' must be a list of 12-digit"),
    ({"exclude": "123456789012"}, "'organization.exclude' must be a list of 12-digit"),
    ({"external_id": ""}, "'organization.external_id' must be a non-empty string"),
])
def test_invalid_organization_option_names_connector_and_field(db, value, field):
    conn = Connector.objects.create(name="bad-org", kind="aws", options={"organization": value})
    kind = registry.get("aws")
    with pytest.raises(registry.ProbeError, match="connector 'bad-org'") as info:
        kind.plan(conn, ProbeContext.build())
    assert field in str(info.value)
    with pytest.raises(registry.ProbeError, match="connector 'bad-org'"):
        kind.collect(conn, ProbeContext.build())


def test_no_secret_value_or_key_reaches_unit_runs_or_findings(organization, aws, monkeypatch):
    """Canary: unit errors, counts, facts and findings of an organization audit never hold a secret
    value, an access key id or its secret key, nor the probe's own assumed-role credentials."""
    s, conn = organization, organization["connector"]
    key = aws.enforce_auth_as("org-auditor", [*org.MANAGEMENT_POLICY, {
        "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{s['c']}:role/{org.ROLE}"}])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    runs = org.units_run(conn)
    assert any(r.status == ProbeRun.Status.FAILED for r in runs.values())  # the error path is covered too
    stored = json.dumps([[r.error, r.counts, r.facts] for r in ProbeRun.objects.all()], default=str)
    stored += json.dumps([[f.subject, f.title, f.evidence] for f in Finding.objects.all()], default=str)
    for value in (CANARY, s["deploy_key"]["AccessKeyId"], s["deploy_key"]["SecretAccessKey"],
                  key["AccessKeyId"], key["SecretAccessKey"]):
        assert value not in stored
    assert "ASIA" not in stored  # no assumed-role (temporary) access key id either


def test_member_roles_are_assumed_with_the_organizations_external_id(organization):
    from moto.sts.models import sts_backends

    s, conn = organization, organization["connector"]
    conn.options = {**conn.options, "regions": [REGION],
                    "organization": {"include": [s["b"]], "external_id": "botaudit-org"}}
    conn.save()
    runs = org.units_run(conn)
    assert sorted(runs) == [f"{s['b']}/iam", f"{s['b']}/{REGION}"]
    assert all(r.status == ProbeRun.Status.OK for r in runs.values())
    assumed = [r for r in sts_backends[s["b"]]["aws"].assumed_roles if r.session_name == "botaudit-probe"]
    assert len(assumed) == 2 and {r.external_id for r in assumed} == {"botaudit-org"}
    assert {r.role_arn for r in assumed} == {f"arn:aws:iam::{s['b']}:role/{org.ROLE}"}
