"""An AWS Organization in moto: the management account (conftest.ACCOUNT) and member accounts,
each seeded through OrganizationAccountAccessRole (created by moto's create_account), and a
driver that runs an aws connector unit by unit with the pipeline's own steps."""

from __future__ import annotations

import json

import boto3
from django.utils import timezone

from scanners import registry
from scanners.context import ProbeContext
from scanners.models import AuditRun, ProbeRun
from scanners.services.audit import probe_checks_run, probe_run_commit

from .conftest import REGION, Seeder

ROLE = "OrganizationAccountAccessRole"
REGIONS = [REGION, "eu-west-1"]
OUTSIDE = "999988887777"
# What the README documents for the management (or delegated-admin) account's read identity.
AUDIT_ACTIONS = ["iam:Get*", "iam:List*", "iam:GenerateCredentialReport", "secretsmanager:ListSecrets",
                 "secretsmanager:GetResourcePolicy"]
MANAGEMENT_POLICY = [
    {"Sid": "ListOrganizationAccounts", "Effect": "Allow", "Action": "organizations:ListAccounts", "Resource": "*"},
    {"Sid": "AssumeMemberAuditRole", "Effect": "Allow", "Action": "sts:AssumeRole",
     "Resource": f"arn:aws:iam::*:role/{ROLE}"},
    {"Sid": "AuditThisAccount", "Effect": "Allow", "Action": AUDIT_ACTIONS, "Resource": "*"},
]


def organization_create(url: str, *, members: int) -> list[str]:
    """An organization with `members` new accounts; returns their ids (creation order)."""
    orgs = boto3.client("organizations", endpoint_url=url, region_name=REGION)
    orgs.create_organization(FeatureSet="ALL")
    return [orgs.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")
            ["CreateAccountStatus"]["AccountId"] for n in range(members)]


def member_session(url: str, account: str, role: str = ROLE):
    creds = boto3.client("sts", endpoint_url=url, region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"])


def member_seeder(url: str, account: str, region: str = REGION) -> Seeder:
    return Seeder(url, session=member_session(url, account), region=region)


def member_role_readonly(url: str, account: str) -> None:
    """moto creates the member role without policies (AWS attaches AdministratorAccess): give it the reads."""
    member_seeder(url, account).iam.put_role_policy(
        RoleName=ROLE, PolicyName="audit-read",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": AUDIT_ACTIONS, "Resource": "*"}]}))


def units_run(connector) -> dict[str, ProbeRun]:
    """Plan the connector, then per unit what the units pipeline runs: a ProbeRun scoped
    `connector:<pk>:<unit>`, collect with ctx.unit, the checks, and the commit (upsert + per-unit
    reconcile). A ProbeError fails only that unit. Returns {unit name: ProbeRun}."""
    kind = registry.get("aws")
    run = AuditRun.objects.create(trigger="manual")
    units = kind.plan(connector, ProbeContext.build())
    out = {}
    for unit in units:
        probe_run = ProbeRun.objects.create(audit_run=run, connector=connector, kind="aws",
                                            scope=f"connector:{connector.pk}:{unit.name}",
                                            status=ProbeRun.Status.RUNNING, started=timezone.now())
        ctx = ProbeContext.build(probe_run=probe_run)
        ctx.unit = unit
        try:
            collected = kind.collect(connector, ctx)
            outcome = probe_checks_run(kind=kind, collected=collected, ctx=ctx, label=unit.name)
            probe_run_commit(probe_run=probe_run, outcome=outcome, now=ctx.now)
        except registry.ProbeError as exc:
            probe_run.status, probe_run.error, probe_run.finished = ProbeRun.Status.FAILED, str(exc), timezone.now()
            probe_run.save(update_fields=["status", "error", "finished"])
        out[unit.name] = probe_run
    return out
