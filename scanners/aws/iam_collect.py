"""IAM reads: authorization details (all pages), access keys (credential report, else per-user
listing), the account summary, and RoleLastUsed for the roles that belong to bots."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from ..redaction import redact, secret_fingerprint
from .errors import error_code, error_text, is_unavailable
from .model import AccessKey, Principal
from .policy import document_load, statements_parse

ADMIN_POLICY_ARNS = {"arn:aws:iam::aws:policy/AdministratorAccess"}
REPORT_POLLS = 10


def _tags(items) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or []}


def _inline(items, prefix) -> list:
    out = []
    for item in items or []:
        out += statements_parse(item.get("PolicyDocument"), policy=f"{prefix}inline:{item['PolicyName']}")
    return out


def authorization_details(iam) -> list[Principal]:
    """Users and roles with every statement that applies to them (inline, managed default
    versions, and their groups' policies) and roles' trust policies."""
    users, roles, groups, policies = [], [], {}, {}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        users += page.get("UserDetailList", [])
        roles += page.get("RoleDetailList", [])
        groups.update({g["GroupName"]: g for g in page.get("GroupDetailList", [])})
        for pol in page.get("Policies", []):
            default = next((v for v in pol.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None)
            if default is not None:
                policies[pol["Arn"]] = statements_parse(default.get("Document"), policy=pol["Arn"])

    def managed(attached, principal):
        for item in attached or []:
            arn = item["PolicyArn"]
            principal.attached.append(arn)
            if arn in policies:
                principal.statements += policies[arn]
            else:
                principal.unknown_policies.append(arn)

    out = []
    for u in users:
        p = Principal(arn=u["Arn"], name=u["UserName"], kind="user", path=u.get("Path", "/"),
                      tags=_tags(u.get("Tags")), created=u.get("CreateDate"),
                      statements=_inline(u.get("UserPolicyList"), ""))
        managed(u.get("AttachedManagedPolicies"), p)
        for gname in u.get("GroupList", []):
            g = groups.get(gname, {})
            p.statements += _inline(g.get("GroupPolicyList"), f"group:{gname}/")
            managed(g.get("AttachedManagedPolicies"), p)
        out.append(p)
    for r in roles:
        p = Principal(arn=r["Arn"], name=r["RoleName"], kind="role", path=r.get("Path", "/"),
                      tags=_tags(r.get("Tags")), created=r.get("CreateDate"),
                      statements=_inline(r.get("RolePolicyList"), ""),
                      trust=_doc(r.get("AssumeRolePolicyDocument")))
        managed(r.get("AttachedManagedPolicies"), p)
        out.append(p)
    return out


def _doc(document):
    return document_load(document) if document else None


def _date(value: str):
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def credential_report(iam) -> list[dict] | None:
    """Rows of the credential report, or None when it is not available (then the caller lists
    keys per user)."""
    try:
        for _ in range(REPORT_POLLS):
            if iam.generate_credential_report().get("State") == "COMPLETE":
                break
            time.sleep(1)
        content = iam.get_credential_report()["Content"]
    except (BotoCoreError, ClientError) as exc:
        if is_unavailable(exc):
            raise
        return None
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.DictReader(io.StringIO(text)))


def _key(user: Principal, meta: dict, last_used) -> AccessKey:
    key_id = meta["AccessKeyId"]
    return AccessKey(
        user_arn=user.arn, user_name=user.name, fingerprint=secret_fingerprint(key_id), redacted=redact(key_id),
        active=meta.get("Status") == "Active", created=meta.get("CreateDate"), last_used=last_used,
    )


def _list_keys(iam, user_name):
    return [k for page in iam.get_paginator("list_access_keys").paginate(UserName=user_name)
            for k in page.get("AccessKeyMetadata", [])]


def access_keys(iam, users: list[Principal], errors: list[str]) -> tuple[list[AccessKey], bool | None]:
    """Active and inactive keys of every user, and whether the root account has keys (from the
    report). Key ids are listed only for users the report shows with an active key."""
    report = credential_report(iam)
    keys, root = [], None
    by_arn = {u.arn: u for u in users}
    if report is not None:
        for row in report:
            slots = [(row.get(f"access_key_{n}_active") == "true", _date(row.get(f"access_key_{n}_last_rotated")),
                      _date(row.get(f"access_key_{n}_last_used_date"))) for n in (1, 2)]
            if row.get("user") == "<root_account>":
                root = any(active for active, _, _ in slots)
                continue
            user = by_arn.get(row.get("arn"))
            if user is None or not any(active for active, _, _ in slots):
                continue
            used_by_created = {created.replace(microsecond=0): used for _, created, used in slots if created}
            for meta in _call(errors, f"iam:ListAccessKeys {user.name}", _list_keys, iam, user.name) or []:
                created = meta.get("CreateDate")
                used = used_by_created.get(created.replace(microsecond=0)) if created else None
                keys.append(_key(user, meta, used))
        return keys, root
    for user in users:
        for meta in _call(errors, f"iam:ListAccessKeys {user.name}", _list_keys, iam, user.name) or []:
            used = None
            if meta.get("Status") == "Active":
                resp = _call(errors, f"iam:GetAccessKeyLastUsed {user.name}", iam.get_access_key_last_used,
                             AccessKeyId=meta["AccessKeyId"]) or {}
                used = resp.get("AccessKeyLastUsed", {}).get("LastUsedDate")
            keys.append(_key(user, meta, used))
    return keys, root


def root_keys_present(iam, errors: list[str]) -> bool | None:
    resp = _call(errors, "iam:GetAccountSummary", iam.get_account_summary)
    return None if resp is None else bool(resp.get("SummaryMap", {}).get("AccountAccessKeysPresent"))


def roles_last_used(iam, roles: list[Principal], errors: list[str]) -> None:
    for role in roles:
        resp = _call(errors, f"iam:GetRole {role.name}", iam.get_role, RoleName=role.name)
        if resp:
            role.last_used = (resp["Role"].get("RoleLastUsed") or {}).get("LastUsedDate")


def _call(errors: list[str], where: str, fn, *args, **kwargs):
    """One call: unreachable/throttled propagates; access denied and the like are recorded."""
    try:
        return fn(*args, **kwargs)
    except (BotoCoreError, ClientError) as exc:
        if is_unavailable(exc):
            raise
        if error_code(exc) in ("NoSuchEntity", "NoSuchEntityException"):
            return None
        errors.append(error_text(exc, where=where))
        return None
