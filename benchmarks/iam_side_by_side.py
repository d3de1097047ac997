"""BotAudit's IAM analysis side by side with Cloudsplaining on one moto account.

    .venv/bin/python benchmarks/iam_side_by_side.py [--cloudsplaining /work/peers/cs/bin/python] [--json]

Cloudsplaining is not a dependency: install it into a scratch venv outside the project
(`python3 -m venv /work/peers/cs && /work/peers/cs/bin/pip install cloudsplaining`) and point
`--cloudsplaining` at that interpreter. The script starts moto's server on a loopback port, seeds
37 principals (every category, and the hard cases: split policies, a deny in another policy, a
scoped deny, NotAction, NotResource, conditions, group-attached managed policies,
AdministratorAccess, cross-account trust), dumps `GetAccountAuthorizationDetails` (moto's policy
list gets `PolicyName`/`PolicyId` from `iam:GetPolicy`, which Cloudsplaining needs), runs
Cloudsplaining on the dump and BotAudit's probe on the account, and prints one row per principal:
the categories each tool reports, the expected answer written down with the case, and the reason
for each disagreement. Fake credentials only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3  # noqa: E402
from aws_probe import ACCOUNT, REGION, Conn, doc, free_port, start_moto  # noqa: E402  (sets up Django)

from inventory.models import Bot, Identity  # noqa: E402
from scanners.aws.collect import collect  # noqa: E402
from scanners.aws.probe import CHECKS  # noqa: E402
from scanners.context import Fleet, ProbeContext  # noqa: E402

OUTSIDE, PARTNER = "999988887777", "111122223333"
CATEGORIES = ("escalation", "data", "exposure", "infra", "credentials", "trust")
BOTAUDIT = {  # check id -> category
    "aws.policy.privilege_escalation": "escalation", "aws.policy.data_exfiltration": "data",
    "aws.policy.reads_other_bots_secrets": "data", "aws.policy.resource_exposure": "exposure",
    "aws.policy.infrastructure_modification": "infra", "aws.policy.credentials_exposure": "credentials",
    "aws.role.trust_cross_account": "trust", "aws.role.trust_any_principal": "trust",
}
CLOUDSPLAINING = {
    "PrivilegeEscalation": "escalation", "DataExfiltration": "data", "ResourceExposure": "exposure",
    "InfrastructureModification": "infra", "CredentialsExposure": "credentials",
    "AssumableByCrossAccountPrincipal": "trust", "AssumableByAnyPrincipal": "trust",
    "AssumableByAnyPrincipalWithConditions": "trust",
}
ALL = ["escalation", "data", "exposure", "infra", "credentials"]
LAMBDA = ["lambda:CreateFunction", "lambda:InvokeFunction"]


def A(actions, resource="*", **extra):  # noqa: N802 - reads like a policy
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def D(actions, resource="*", **extra):  # noqa: N802
    return {"Effect": "Deny", "Action": actions, "Resource": resource, **extra}


def trust(principal, condition=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [{**st, "Condition": condition} if condition else st]}


EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})
EXT = {"StringEquals": {"sts:ExternalId": "partner-x"}}

# name, kind, {policy name: statements}, extras, expected categories, what the case tests
CASES = [
    ("admin-inline", "role", {"p": [A("*")]}, {}, ALL, "* on *"),
    ("admin-managed", "user", {}, {"aws_managed": ["AdministratorAccess"]}, ALL, "AdministratorAccess attached"),
    ("split-policies", "role", {"pass": [A("iam:PassRole")], "fn": [A(LAMBDA)]}, {}, ["escalation", "infra"],
     "PassRole and Lambda create+invoke in two policies"),
    ("cross-policy-deny", "role", {"all": [A(["iam:*", "s3:*"])], "guard": [D("iam:*")]}, {},
     ["data", "exposure", "infra"], "iam:* allowed in one policy, denied in another"),
    ("scoped-deny", "user", {"p": [A("iam:CreateAccessKey"), D("iam:CreateAccessKey",
                                                               f"arn:aws:iam::{ACCOUNT}:user/admin")]}, {},
     ["escalation", "exposure", "credentials"], "a deny on one user leaves every other user"),
    ("notaction-iam", "user", {"p": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}, {},
     ALL, "NotAction iam:* still allows Lambda/Glue code updates, data reads, credentials"),
    ("notresource-trust", "role", {"p": [{"Effect": "Allow", "Action": "iam:UpdateAssumeRolePolicy",
                                          "NotResource": f"arn:aws:iam::{ACCOUNT}:role/admin"}]}, {},
     ["escalation", "exposure"], "NotResource: every role but one"),
    ("passed-to-lambda", "role", {"p": [A("iam:PassRole", Condition={"StringEquals": {
        "iam:PassedToService": "lambda.amazonaws.com"}}), A(LAMBDA)]}, {}, ["escalation", "infra"],
     "iam:PassedToService=lambda plus Lambda create+invoke"),
    ("passed-to-ec2-only", "role", {"p": [A("iam:PassRole", Condition={"StringEquals": {
        "iam:PassedToService": "ec2.amazonaws.com"}}), A(LAMBDA)]}, {}, ["infra"],
     "PassRole only to EC2, no ec2:RunInstances"),
    ("mfa-required", "role", {"p": [A("iam:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})]}, {},
     [], "IAM only with MFA: a bot never has it"),
    ("region-conditional", "user", {"p": [A("iam:CreateAccessKey", Condition={"StringEquals": {
        "aws:RequestedRegion": "eu-west-1"}})]}, {}, ["escalation", "exposure", "credentials"],
     "an unevaluated condition: reported as conditional, one severity lower"),
    ("ip-restricted-reader", "role", {"p": [A("s3:GetObject", Condition={"IpAddress": {
        "aws:SourceIp": "10.0.0.0/8"}})]}, {}, ["data"], "s3:GetObject from one network (conditional)"),
    ("attach-self", "role", {"p": [A("iam:AttachRolePolicy")]}, {}, ["escalation", "exposure"],
     "AttachRolePolicy on *: attach AdministratorAccess to itself"),
    ("update-trust", "user", {"p": [A("iam:UpdateAssumeRolePolicy")]}, {}, ["escalation", "exposure"],
     "UpdateAssumeRolePolicy alone"),
    ("ecs-runner", "role", {"p": [A(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"])]}, {},
     ["escalation", "infra"], "PassRole + ECS register + run task"),
    ("password-data", "role", {"p": [A("ec2:GetPasswordData")]}, {}, ["credentials"], "Windows admin password"),
    ("s3-reader", "role", {"p": [A("s3:GetObject")]}, {}, ["data"], "s3:GetObject on *"),
    ("ssm-reader", "role", {"p": [A("ssm:GetParametersByPath")]}, {}, ["data"], "ssm:GetParametersByPath on *"),
    ("dynamo-scanner", "role", {"p": [A(["dynamodb:Scan", "dynamodb:Query"])]}, {}, ["data"],
     "dynamodb:Scan/Query on * read whole tables"),
    ("kms-decrypt", "role", {"p": [A("kms:Decrypt")]}, {}, ["data"], "kms:Decrypt on * (policy_sentry: Write)"),
    ("bucket-policy", "role", {"p": [A("s3:PutBucketPolicy")]}, {}, ["exposure"], "s3:PutBucketPolicy on *"),
    ("lambda-permission", "role", {"p": [A("lambda:AddPermission")]}, {}, ["exposure"], "lambda:AddPermission"),
    ("kms-key-policy", "role", {"p": [A("kms:PutKeyPolicy")]}, {}, ["exposure"], "kms:PutKeyPolicy on *"),
    ("ec2-terminator", "role", {"p": [A(["ec2:RunInstances", "ec2:TerminateInstances"])]}, {}, ["infra"],
     "create and destroy instances"),
    ("rds-deleter", "role", {"p": [A("rds:DeleteDBInstance")]}, {}, ["infra"], "rds:DeleteDBInstance on *"),
    ("group-managed", "user", {}, {"group_managed": [A("iam:CreateAccessKey")]},
     ["escalation", "exposure", "credentials"],
     "a customer managed policy attached to the user's group"),
    ("group-inline", "user", {}, {"group_inline": [A("s3:GetObject")]}, ["data"], "the group's inline policy"),
    ("secrets-reader", "role", {"p": [A("secretsmanager:GetSecretValue")]}, {}, ["data"],
     "GetSecretValue on * (BotAudit: reads_other_bots_secrets)"),
    ("least-privilege-role", "role", {"p": [
        A(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bot-bucket/*"),
        A("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bot/*"),
        A("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bot-worker",
          Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})]}, {}, [],
     "scoped to its own resources"),
    ("least-privilege-user", "user", {"p": [
        A(["iam:CreateAccessKey", "iam:DeleteAccessKey"], f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"),
        A(["ec2:DescribeInstances", "sts:GetCallerIdentity"])]}, {}, [], "self-service key rotation only"),
    ("cross-account", "role", {}, {"trust": trust({"AWS": f"arn:aws:iam::{OUTSIDE}:root"})}, ["trust"],
     "trusts an unknown account"),
    ("cross-account-extid", "role", {}, {"trust": trust({"AWS": OUTSIDE}, EXT)}, ["trust"],
     "unknown account behind sts:ExternalId (medium)"),
    ("any-behind-extid", "role", {}, {"trust": trust({"AWS": "*"}, EXT)}, ["trust"],
     '"*" held back only by sts:ExternalId'),
    ("org-only", "role", {}, {"trust": trust({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})},
     [], '"*" limited to the organization'),
    ("trusted-partner", "role", {}, {"trust": trust({"AWS": PARTNER})}, [],
     "a partner listed in trusted_accounts (Cloudsplaining: known-accounts)"),
    ("same-account", "role", {}, {"trust": trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})}, [], "own account"),
    ("any-principal", "role", {}, {"trust": trust({"AWS": "*"})}, ["trust"], '"*" without condition'),
]


# Definitions: "exposure" is policy_sentry's Permissions management level (iam:CreateAccessKey and
# AttachRolePolicy included) except iam:PassRole; "infra" is its Write level on resource-scopable
# actions, minus reads and credential calls filed there (kms:Decrypt). Why the tools differ:
CS_INFRA = "definition: Cloudsplaining's infrastructure is every modify action plus its include-actions reads"
WHY = {
    "split-policies": "Cloudsplaining judges each policy alone, so PassRole and Lambda in two policies is no "
                      "escalation; it counts PassRole as resource exposure",
    "cross-policy-deny": "Cloudsplaining ignores a deny in another policy",
    "scoped-deny": "Cloudsplaining drops an action denied anywhere in the policy, even on one user",
    "notresource-trust": "Cloudsplaining does not read NotResource as 'everything but'",
    "passed-to-lambda": "Cloudsplaining skips conditional statements (default flag_conditional_statements=False)",
    "region-conditional": "Cloudsplaining skips conditional statements; BotAudit reports them one severity lower",
    "ip-restricted-reader": "Cloudsplaining skips conditional statements; BotAudit: network-restricted, medium",
    "ecs-runner": "Cloudsplaining counts iam:PassRole as resource exposure; BotAudit only as an escalation step",
    "dynamo-scanner": "Cloudsplaining's data-exfiltration list is s3/ssm/secretsmanager only",
    "kms-decrypt": "Cloudsplaining's data list has no kms:Decrypt; it files it under Write (infrastructure)",
    "org-only": "Cloudsplaining flags any condition on \"*\"; BotAudit reads aws:PrincipalOrgID as the organization",
}


def seed(url: str) -> None:
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
    for name, kind, policies, extras, _, _ in CASES:
        if kind == "role":
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(extras.get("trust", EC2_TRUST)))
            put = lambda p, d, n=name: iam.put_role_policy(RoleName=n, PolicyName=p, PolicyDocument=d)  # noqa: E731
        else:
            iam.create_user(UserName=name)
            put = lambda p, d, n=name: iam.put_user_policy(UserName=n, PolicyName=p, PolicyDocument=d)  # noqa: E731
        for pname, statements in policies.items():
            put(pname, doc(statements))
        for managed in extras.get("aws_managed", []):
            iam.attach_user_policy(UserName=name, PolicyArn=f"arn:aws:iam::aws:policy/{managed}")
        if "group_managed" in extras or "group_inline" in extras:
            iam.create_group(GroupName=f"{name}-group")
            iam.add_user_to_group(GroupName=f"{name}-group", UserName=name)
            if "group_managed" in extras:
                arn = iam.create_policy(PolicyName=f"{name}-managed",
                                        PolicyDocument=doc(extras["group_managed"]))["Policy"]["Arn"]
                iam.attach_group_policy(GroupName=f"{name}-group", PolicyArn=arn)
            if "group_inline" in extras:
                iam.put_group_policy(GroupName=f"{name}-group", PolicyName="inline",
                                     PolicyDocument=doc(extras["group_inline"]))


def authorization_dump(url: str) -> dict:
    """GetAccountAuthorizationDetails, all pages, with PolicyName/PolicyId filled in."""
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
    out = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in out:
            out[key] += page.get(key, [])
    attached = {a["PolicyArn"] for d in (*out["UserDetailList"], *out["GroupDetailList"], *out["RoleDetailList"])
                for a in d.get("AttachedManagedPolicies", [])}
    out["Policies"] = [p for p in out["Policies"] if p["Arn"] in attached]
    for pol in out["Policies"]:
        meta = iam.get_policy(PolicyArn=pol["Arn"])["Policy"]
        pol.setdefault("PolicyName", meta["PolicyName"])
        pol.setdefault("PolicyId", meta["PolicyId"])
        for key in ("Path", "DefaultVersionId", "AttachmentCount", "IsAttachable"):
            pol.setdefault(key, meta.get(key))
    return json.loads(json.dumps(out, default=str))


CS_RUNNER = r'''
import json, sys
from cloudsplaining.scan.authorization_details import AuthorizationDetails
from cloudsplaining.shared.exclusions import Exclusions
data = json.load(open(sys.argv[1]))
cfg = {"policies": [""], "roles": [""], "users": [""], "groups": [""], "include-actions": [
    "s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue"], "exclude-actions": [""], "known-accounts": sys.argv[2].split(",")}
ad = AuthorizationDetails(data, exclusions=Exclusions(cfg), flag_trust_policies=True)
print(json.dumps(ad.results, default=str))
'''


def _has(value) -> bool:
    """A Cloudsplaining category: {"severity", "findings": [...]} (or a plain list)."""
    return bool(value.get("findings") if isinstance(value, dict) else value)


def _policy_findings(results: dict) -> dict[str, dict]:
    out = {}
    for section in ("inline_policies", "customer_managed_policies", "aws_managed_policies"):
        out.update(results.get(section) or {})
    return out


def cloudsplaining_categories(python: str, dump: dict) -> dict[str, set[str]]:
    """{principal name: categories}: findings of every policy attached to it, directly or via a
    group (Cloudsplaining reports per policy; this is how its report attributes them), plus the
    role's own trust findings."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(dump, fh)
    proc = subprocess.run([python, "-c", CS_RUNNER, fh.name, PARTNER], capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise SystemExit(f"cloudsplaining failed: {proc.stderr.strip()[-2000:]}")
    results = json.loads(proc.stdout)
    policies = _policy_findings(results)
    groups = results.get("groups") or {}

    def from_policies(entry) -> set[str]:
        found = set()
        for key in ("inline_policies", "customer_managed_policies", "aws_managed_policies"):
            for pid in entry.get(key) or {}:
                pf = policies.get(pid) or {}
                if not pf.get("is_excluded"):
                    found |= {cat for name, cat in CLOUDSPLAINING.items() if _has(pf.get(name))}
        return found

    out = {}
    for kind in ("users", "roles"):
        for entry in (results.get(kind) or {}).values():
            found = from_policies(entry)
            for gname in entry.get("groups") or {}:
                group = next((g for g in groups.values() if g.get("name") == gname or g.get("id") == gname), None)
                found |= from_policies(group or {})
            found |= {cat for name, cat in CLOUDSPLAINING.items() if _has(entry.get(name))}
            out[entry["name"]] = found
    return out


def botaudit_categories(url: str) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """Every principal belongs to a bot (so reads_other_bots_secrets applies); PARTNER is trusted."""
    from django.utils import timezone

    bots, identities = {}, []
    for i, (name, kind, *_rest) in enumerate(CASES, start=1):
        bots[i] = Bot(pk=i, name=name, slug=name, status="active")
        identities.append(Identity(bot_id=i, kind=f"aws_iam_{kind}", ref=f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"))
    ctx = ProbeContext(fleet=Fleet(bots=bots, credentials=[], identities=identities), now=timezone.now())
    conn = Conn(url)
    conn.options["trusted_accounts"] = [PARTNER]
    obs = collect(conn, ctx).observations
    found, severities = {}, {}
    for chk in CHECKS:
        for hit in chk(obs, ctx):
            cat = BOTAUDIT.get(chk.id)
            name = hit.subject.rsplit("/", 1)[-1]
            if cat:
                found.setdefault(name, set()).add(cat)
                severities.setdefault(name, {})[cat] = hit.severity or chk.severity
    return found, severities


def _fmt(cats) -> str:
    return ", ".join(c for c in CATEGORIES if c in cats) or "-"


def compare(cs: dict, ba: dict, severities: dict) -> list[dict]:
    rows = []
    for name, _kind, _p, _e, expected, case in CASES:
        want, c, b = set(expected), cs.get(name, set()), ba.get(name, set())
        if c == b:
            verdict = "agree" if b == want else "both wrong"
        elif b == want:
            verdict = "BotAudit right"
        elif c == want:
            verdict = "Cloudsplaining right"
        else:
            verdict = "both wrong"
        reason = ""
        if c != b:
            diff = " ".join(x for x in (f"+{_fmt(c - b)}" if c - b else "", f"-{_fmt(b - c)}" if b - c else "") if x)
            whys = [WHY[name]] if name in WHY else []
            if "infra" in c - b and "infra" not in want:
                whys.append(CS_INFRA)
            reason = f"Cloudsplaining {diff}: {'; '.join(whys) or case}"
        sev = ", ".join(f"{k} {v}" for k, v in sorted(severities.get(name, {}).items()) if v != "high")
        rows.append({"principal": name, "case": case, "expected": _fmt(want), "cloudsplaining": _fmt(c),
                     "botaudit": _fmt(b), "botaudit_not_high": sev, "verdict": verdict, "reason": reason})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cloudsplaining", default="/work/peers/cs/bin/python",
                        help="a Python with cloudsplaining installed (outside the project)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # AdministratorAccess must exist to be attached
    proc = start_moto(port)
    try:
        seed(url)
        dump = authorization_dump(url)
        cs = cloudsplaining_categories(args.cloudsplaining, dump)
        ba, severities = botaudit_categories(url)
    finally:
        proc.terminate()
        proc.wait()
    rows = compare(cs, ba, severities)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| principal | expected | Cloudsplaining | BotAudit | verdict | reason |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        botaudit = r["botaudit"] + (f" ({r['botaudit_not_high']})" if r["botaudit_not_high"] else "")
        print(f"| {r['principal']} | {r['expected']} | {r['cloudsplaining']} | {botaudit} | {r['verdict']} | "
              f"{r['reason']} |")
    tally = {}
    for r in rows:
        tally[r["verdict"]] = tally.get(r["verdict"], 0) + 1
    print(f"\n{len(rows)} principals: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))


if __name__ == "__main__":
    main()
