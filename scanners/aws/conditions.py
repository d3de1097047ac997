"""IAM `Condition` blocks, evaluated for the question the audit asks: "can this bot's principal use
the statement?" Only the keys that change that answer are evaluated; every other key leaves the
statement *conditional* (reported with a lower severity, never silently dropped).

- `iam:PassedToService`: the statement grants `iam:PassRole` only, and only to the named services
  (the escalation methods then match per service).
- `aws:PrincipalOrgID` / `aws:PrincipalOrgPaths`: in the principal's own identity policy the caller
  is the principal, so it is in its own organization: satisfied.
- `aws:SourceIp` / `aws:SourceVpc` / `aws:SourceVpce`: "from anywhere" (0.0.0.0/0, ::/0, `*`) is
  no restriction; a specific network makes the statement hold only from there (`network`).
- `aws:MultiFactorAuthPresent` / `aws:MultiFactorAuthAge`: bots do not use MFA. A user's access
  keys send no MFA key at all (so `Bool ... "false"` does *not* match them, `BoolIfExists` does); a
  role session sends `MultiFactorAuthPresent=false` and no age.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

ALWAYS, NEVER, NETWORK, CONDITIONAL = "always", "never", "network", "conditional"
ANYWHERE = {"0.0.0.0/0", "::/0", "*"}
NETWORK_KEYS = {"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce"}
ORG_KEYS = {"aws:principalorgid", "aws:principalorgpaths"}
MFA_PRESENT, MFA_AGE = "aws:multifactorauthpresent", "aws:multifactorauthage"
PASSED_TO = "iam:passedtoservice"


@dataclass(frozen=True)
class Verdict:
    applies: str  # ALWAYS | NEVER | NETWORK | CONDITIONAL
    passed_to: tuple[str, ...] | None = None  # iam:PassedToService patterns (then only PassRole is granted)
    networks: tuple[str, ...] = ()
    unevaluated: tuple[str, ...] = ()  # condition keys left as "conditional"

    def evidence(self) -> dict:
        out = {"condition": self.applies}
        if self.passed_to is not None:
            out["passed_to_service"] = list(self.passed_to)
        if self.networks:
            out["networks"] = list(self.networks)
        if self.unevaluated:
            out["unevaluated_keys"] = list(self.unevaluated)
        return out


UNCONDITIONAL = Verdict(applies=ALWAYS)


def clauses_parse(condition) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """A Condition block as sorted (operator, key, values) clauses, lowercase keys. Bad shapes raise
    ValueError naming the operator."""
    if not condition:
        return ()
    if not isinstance(condition, dict):
        raise ValueError(f"Condition must be an object, got {type(condition).__name__}")
    out = []
    for operator, body in condition.items():
        if not isinstance(body, dict):
            raise ValueError(f"Condition operator {operator!r} must map keys to values")
        for key, values in body.items():
            values = values if isinstance(values, list) else [values]
            out.append((str(operator), str(key).lower(), tuple(str(v) for v in values)))
    return tuple(sorted(out))


def _split(operator: str) -> tuple[str, str, bool]:
    """(set qualifier, base operator, if_exists)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    return qualifier.lower(), base.removesuffix("IfExists"), if_exists


def _mfa(base: str, key: str, values, if_exists: bool, kind: str):
    """True/False for the bot's request, or None when the operator is not understood."""
    present = kind == "role"  # role sessions carry MultiFactorAuthPresent=false; access keys carry nothing
    if base == "Null":
        absent = key == MFA_AGE or not present
        return any(v.lower() == ("true" if absent else "false") for v in values)
    if key == MFA_AGE or not present:
        return if_exists  # the key is missing: only ...IfExists matches
    if base == "Bool":
        return any(v.lower() == "false" for v in values)
    return None


def _network(base: str, values):
    if base in ("IpAddress", "StringEquals", "StringLike") and set(values) & ANYWHERE:
        return True
    if base in ("IpAddress", "StringEquals", "StringLike", "ArnEquals", "ArnLike"):
        return NETWORK
    return None


def _org(base: str):
    if base in ("StringEquals", "StringLike", "StringEqualsIgnoreCase"):
        return True
    if base in ("StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase"):
        return False
    return None


def _clause(operator: str, key: str, values, kind: str):
    """True, False, NETWORK, (PASSED_TO, values) or None (not evaluated)."""
    _qualifier, base, if_exists = _split(operator)
    if key in (MFA_PRESENT, MFA_AGE):
        return _mfa(base, key, values, if_exists, kind)
    if key in NETWORK_KEYS:
        return _network(base, values)
    if key in ORG_KEYS:
        return _org(base)
    if key == PASSED_TO and base in ("StringEquals", "StringLike"):
        return PASSED_TO, values
    return None


@lru_cache(maxsize=4096)
def condition_evaluate(clauses: tuple, *, kind: str) -> Verdict:
    """All clauses must hold (IAM ANDs them). `kind` is the principal's ("user" or "role")."""
    if not clauses:
        return UNCONDITIONAL
    networks, unevaluated, passed_to, never = [], [], None, False
    for operator, key, values in clauses:
        result = _clause(operator, key, values, kind)
        if result is False:
            never = True
        elif result is NETWORK:
            networks += values
        elif isinstance(result, tuple):
            passed_to = result[1]
        elif result is None:
            unevaluated.append(key)
    if never:
        return Verdict(applies=NEVER)
    applies = CONDITIONAL if unevaluated else NETWORK if networks else ALWAYS
    return Verdict(applies=applies, passed_to=passed_to, networks=tuple(sorted(set(networks))),
                   unevaluated=tuple(sorted(set(unevaluated))))


def service_matches(passed_to: tuple[str, ...] | None, service: str) -> bool:
    """Whether a PassRole grant restricted by iam:PassedToService may pass a role to `service`
    (a service principal such as lambda.amazonaws.com)."""
    return passed_to is None or any(fnmatchcase(service, p.lower()) for p in passed_to)
