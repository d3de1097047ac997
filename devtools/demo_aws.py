"""`make demo`: create the example fleet's AWS identities and secrets in the local moto server
(devtools.moto_server), plus planted problems, so the demo shows real AWS findings without
credentials. Reads the fleet from the database; idempotent; only ever talks to a loopback endpoint."""

from __future__ import annotations

import json
import secrets as pysecrets
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError
from django.conf import settings

from inventory.models import Bot, Connector, Credential, Identity
from scanners.aws.attribution import principal_key, secret_base

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TRUST_EC2 = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
TRUST_ANYONE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
# Planted problems, handed out in order to the roles of active bots (sorted by name).
ROLE_PLANS = [
    ("admin", [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]),
    ("escalation", [{"Sid": "DeployFunctions", "Effect": "Allow", "Resource": "*",
                     "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction", "s3:*"]}]),
    ("read-all-secrets", [{"Sid": "ReadSecrets", "Effect": "Allow", "Resource": "*",
                           "Action": ["secretsmanager:GetSecretValue", "sts:AssumeRole"]}]),
    ("trust-anyone", None),
]


def _doc(statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _ok(fn, *args, **kwargs):
    """Call, tolerating 'already exists' so running the demo twice works."""
    try:
        return fn(*args, **kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("EntityAlreadyExists", "ResourceExistsException"):
            return None
        raise


def _post(url: str, body: dict) -> bool:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
            return True
    except urllib.error.URLError:
        return False


def _wait(url: str) -> bool:
    for _ in range(30):
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):  # noqa: S310 - loopback only
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    return False


def _secret_name(ref: str) -> str:
    return secret_base(ref).split(":secret:", 1)[1] if ":secret:" in ref else ref


def aws_demo_seed() -> str:
    connector = next((c for c in Connector.objects.filter(kind="aws", enabled=True)
                      if urlparse(c.options.get("endpoint_url") or "").hostname in LOOPBACK), None)
    if connector is None:
        return "aws demo: skipped (no enabled aws connector with a loopback endpoint_url)"
    url = connector.options["endpoint_url"]
    if not _wait(url):
        return f"aws demo: skipped (no moto server answering at {url}; `make demo` starts one)"
    region = (connector.options.get("regions") or ["us-east-1"])[0]
    iam = boto3.client("iam", endpoint_url=url, region_name=region)
    sm = boto3.client("secretsmanager", endpoint_url=url, region_name=region)
    tag = settings.BOTAUDIT_BOT_TAG

    own_secrets: dict[int, list[str]] = {}
    creds = Credential.objects.filter(store=Credential.Store.AWS_SECRETSMANAGER).select_related("bot")
    ages = {}
    ordered = list(creds.order_by("bot__name", "name"))
    missing = ordered.pop() if len(ordered) > 2 else None  # planted: in the manifest, not in the account
    for i, cred in enumerate(ordered):
        name = _secret_name(cred.ref)
        _ok(sm.create_secret, Name=name, SecretString=f"demo-{pysecrets.token_hex(8)}",
            Tags=[{"Key": "team", "Value": cred.bot.team.slug}])
        arn = sm.describe_secret(SecretId=name)["ARN"]
        own_secrets.setdefault(cred.bot_id, []).append(arn)
        if i % 3 == 0:
            sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": cred.rotation_days or 30})
        else:
            ages[name] = 120 + 60 * i
        if i == 1:
            sm.put_resource_policy(SecretId=name, ResourcePolicy=_doc([
                {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]))
    _ok(sm.create_secret, Name="ops/old-ftp-password", SecretString=f"demo-{pysecrets.token_hex(8)}")
    ages["ops/old-ftp-password"] = 500

    idents = Identity.objects.filter(kind__in=["aws_iam_role", "aws_iam_user"]).select_related("bot")
    roles = [i for i in idents.order_by("bot__name") if i.kind == "aws_iam_role"]
    plans = iter(ROLE_PLANS)
    for ident in roles:
        key = principal_key(ident.ref)
        if key is None:
            continue
        plan = next(plans, None) if ident.bot.status == Bot.Status.ACTIVE else None
        trust = TRUST_ANYONE if plan and plan[0] == "trust-anyone" else TRUST_EC2
        _ok(iam.create_role, RoleName=key[2], AssumeRolePolicyDocument=json.dumps(trust))
        statements = plan[1] if plan and plan[1] else [
            {"Sid": "OwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": own_secrets.get(ident.bot_id) or f"arn:aws:secretsmanager:{region}:*:secret:none"}]
        iam.put_role_policy(RoleName=key[2], PolicyName="bot-policy", PolicyDocument=_doc(statements))

    key_ages = {}
    users = [i for i in idents.order_by("bot__name") if i.kind == "aws_iam_user"]
    for n, ident in enumerate(users):
        key = principal_key(ident.ref)
        if key is None:
            continue
        _ok(iam.create_user, UserName=key[2])
        iam.put_user_policy(UserName=key[2], PolicyName="bot-policy", PolicyDocument=_doc(
            [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::demo-*/*"}]))
        if not iam.list_access_keys(UserName=key[2])["AccessKeyMetadata"]:
            for k in range(2 if n == 0 else 1):
                made = iam.create_access_key(UserName=key[2])["AccessKey"]["AccessKeyId"]
                key_ages[made] = 200 - 90 * k
    _ok(iam.create_user, UserName="contractor-upload")
    _ok(iam.create_role, RoleName="tagged-report-runner", AssumeRolePolicyDocument=json.dumps(TRUST_EC2),
        Tags=[{"Key": tag, "Value": users[0].bot.name}] if users else [])

    aged = _post(f"{url}/botaudit-demo/age", {"access_keys": key_ages, "secrets": {region: ages}, "root_keys": True})
    note = "aged keys and secrets" if aged else "plain moto server: nothing aged"
    skipped = f", left out {missing.ref} on purpose" if missing else ""
    return (f"aws demo: {len(roles)} roles, {len(users)} users, {len(ordered)} secrets for the fleet at {url}, "
            f"plus planted problems ({note}{skipped})")
