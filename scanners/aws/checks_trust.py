"""Checks on who may assume a role: accounts outside the audited ones (the connector's account and
its `trusted_accounts` option), and `"*"` held back only by sts:ExternalId."""

from __future__ import annotations

import re

from ..models import Category, Severity
from ..registry import Hit, check
from .checks_policy import _principals
from .policy import as_list

_ACCOUNT = re.compile(r"^(?:arn:aws[\w-]*:(?:iam|sts)::)?(\d{12})(?::|$)")
EXTERNAL_ID = "sts:externalid"
ORG_KEYS = {"aws:principalorgid", "aws:principalorgpaths"}


def principal_account(principal: str) -> str | None:
    """The account of a trust principal: `123456789012`, `arn:aws:iam::123456789012:root|role/..`."""
    m = _ACCOUNT.match(principal.strip())
    return m.group(1) if m else None


def _condition_keys(statement: dict) -> set[str]:
    cond = statement.get("Condition")
    if not isinstance(cond, dict):
        return set()
    return {str(k).lower() for body in cond.values() if isinstance(body, dict) for k in body}


def trust_outsiders(trust: dict, audited: set[str]) -> list[dict]:
    """Allow statements letting a principal outside `audited` accounts assume the role."""
    out = []
    for st in as_list((trust or {}).get("Statement")):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        keys = _condition_keys(st)
        if keys & ORG_KEYS:
            continue  # limited to the organization's principals
        aws = st.get("Principal", {}).get("AWS") if isinstance(st.get("Principal"), dict) else None
        named = ["*"] if st.get("Principal") == "*" else [str(v) for v in as_list(aws)]
        if "*" in named:
            if keys and keys <= {EXTERNAL_ID}:  # no condition at all is aws.role.trust_any_principal
                out.append({"principal": "*", "external_id": True, "statement": st})
            continue
        outside = sorted({a for v in named if (a := principal_account(v)) and a not in audited})
        if outside:
            out.append({"accounts": outside, "external_id": EXTERNAL_ID in keys, "statement": st})
    return out


@check(id="aws.role.trust_cross_account", severity=Severity.HIGH, category=Category.OVER_BROAD_ACCESS,
       title="Role can be assumed from an account outside the audited accounts",
       remediation="Trust only your own accounts (or list the partner in the connector's trusted_accounts), and "
                   "require sts:ExternalId for third parties; never trust \"*\" behind an external id alone.",
       owasp="NHI6")
def role_trust_cross_account(obs, ctx):
    audited = {obs.account_id, *obs.trusted_accounts}
    for p in _principals(obs):
        if p.kind != "role" or not p.trust:
            continue
        found = trust_outsiders(p.trust, audited)
        if not found:
            continue
        any_principal = any(f.get("principal") == "*" for f in found)
        guarded = all(f["external_id"] for f in found) and not any_principal
        accounts = sorted({a for f in found for a in f.get("accounts", [])})
        yield Hit(subject=p.arn, bot_id=p.bot_id, severity=Severity.MEDIUM if guarded else None,
                  evidence={"role": p.arn, "account": obs.account_id, "accounts": accounts,
                            "any_principal_behind_external_id": any_principal, "external_id_required": guarded,
                            "audited_accounts": sorted(audited),
                            "trust_statements": [f["statement"] for f in found]})


CHECKS = [role_trust_cross_account]
