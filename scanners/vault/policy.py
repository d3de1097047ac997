"""Vault ACL policies: parse HCL (or JSON) with a real parser and answer "which capabilities does
this set of policies grant on that path", following Vault's matching rules:

- a path without `*` or `+` matches only itself;
- a trailing `*` is a prefix glob (`secret/*` matches `secret/a/b`, and `secret/` itself);
- `+` matches exactly one path segment, anywhere in the path;
- rules with the same path in several policies merge (union of capabilities, `deny` wins);
- when several rules match, the most specific wins (Vault's priority order: later first
  wildcard, no trailing `*`, fewer `+` segments, longer, then lexicographically larger);
- KV v2 is reached through `<mount>/data/<path>` (values) and `<mount>/metadata/<path>`;
  KV v1 values at `<mount>/<path>`;
- the legacy `policy = "deny|read|write|sudo"` field still grants what it always did (merged with
  `capabilities` when both are given);
- templated paths (`{{identity.entity.name}}`, `{{identity.groups.names.<g>.id}}` ...) are rendered per
  token identity; a path whose template cannot be resolved is dropped, as the server does.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, replace
from functools import cached_property

DENY = "deny"
LEGACY = {  # the pre-0.9 `policy = "..."` field, as Vault and OpenBao still expand it
    "deny": {"deny"},
    "read": {"read", "list"},
    "write": {"create", "read", "update", "delete", "list"},
    "sudo": {"create", "read", "update", "delete", "list", "sudo"},
}
TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


class PolicyParseError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    path: str
    capabilities: frozenset[str]

    @cached_property
    def segments(self) -> list[str]:
        return self.path.removesuffix("*").split("/")

    @property
    def is_glob(self) -> bool:
        return self.path.endswith("*")

    @property
    def plus_count(self) -> int:
        return self.path.split("/").count("+")

    def matches(self, path: str) -> bool:
        if "+" not in self.path.split("/"):
            if self.is_glob:
                return path.startswith(self.path[:-1])
            return path == self.path
        pattern, parts = self.segments, path.split("/")
        if self.is_glob:
            # all pattern segments but the last must match whole segments; the last is a prefix
            if len(parts) < len(pattern):
                return False
            *whole, last = pattern
            if not _segments_match(whole, parts[: len(whole)]):
                return False
            rest = "/".join(parts[len(whole):])
            return last == "+" and len(parts) > len(whole) or rest.startswith(last)
        return len(parts) == len(pattern) and _segments_match(pattern, parts)

    def priority(self) -> tuple:
        """Larger = more specific (Vault's rules, in order)."""
        path = self.path
        positions = [i for i in (path.find("+"), path.find("*")) if i >= 0]
        first_wild = min(positions) if positions else len(path) + 1
        return (first_wild, not self.is_glob, -self.plus_count, len(path), path)


def _segments_match(pattern: list[str], parts: list[str]) -> bool:
    return all(p == "+" or p == s for p, s in zip(pattern, parts, strict=True))


def _unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def policy_parse(name: str, text: str) -> list[Rule]:
    """Parse one policy document (HCL or JSON) into rules. Errors name the policy."""
    text = text or ""
    try:
        if text.lstrip().startswith("{"):
            doc = json.loads(text)
        else:
            import hcl2  # builds its grammar on import (~0.15 s): only when a probe parses HCL

            doc = hcl2.loads(text)
    except Exception as exc:
        raise PolicyParseError(f"policy {name!r}: cannot parse: {str(exc).splitlines()[0][:200]}") from None
    paths = doc.get("path", [])
    if isinstance(paths, dict):  # JSON form: {"path": {"secret/*": {...}}}
        paths = [paths]
    rules = []
    for block in paths:
        for raw_path, body in block.items():
            body = body[0] if isinstance(body, list) and body else body
            path = _unquote(raw_path).lstrip("/")
            rules.append(Rule(path=path, capabilities=_capabilities(name, path, body)))
    return rules


def _capabilities(name: str, path: str, body) -> frozenset[str]:
    body = body if isinstance(body, dict) else {}
    caps = body.get("capabilities", [])
    caps = {_unquote(c) for c in ([caps] if isinstance(caps, str) else caps)}
    legacy = _unquote(body.get("policy"))
    if legacy:
        if legacy not in LEGACY:
            raise PolicyParseError(f"policy {name!r}: path {path!r}: unknown policy value {legacy!r} "
                                   f"(expected one of {', '.join(LEGACY)})")
        caps |= LEGACY[legacy]
    return frozenset(caps)


def is_templated(rule: Rule) -> bool:
    return "{{" in rule.path


def _template_value(param: str, identity) -> str | None:
    """One `identity.*` parameter for a token's identity (entity and its groups), or None."""
    entity, groups = identity
    parts = param.split(".")
    if entity is None or parts[:1] != ["identity"]:
        return None
    if parts[1:3] == ["entity", "id"] and len(parts) == 3:
        return entity.id
    if parts[1:3] == ["entity", "name"] and len(parts) == 3:
        return entity.name
    if parts[1:3] == ["entity", "metadata"] and len(parts) == 4:
        return entity.metadata.get(parts[3])
    if parts[1:3] == ["entity", "aliases"] and len(parts) >= 5:
        alias = next((a for a in entity.aliases if a.mount_accessor == parts[3]), None)
        if alias is None:
            return None
        if len(parts) == 5:
            return {"id": alias.id, "name": alias.name}.get(parts[4])
        return alias.metadata.get(parts[5]) if parts[4] == "metadata" and len(parts) == 6 else None
    if parts[1] == "groups" and len(parts) >= 5 and parts[2] in ("ids", "names"):
        key = "id" if parts[2] == "ids" else "name"
        group = next((g for g in groups if getattr(g, key) == parts[3]), None)
        if group is None:
            return None
        if len(parts) == 5:
            return {"id": group.id, "name": group.name}.get(parts[4])
        return group.metadata.get(parts[5]) if parts[4] == "metadata" and len(parts) == 6 else None
    return None


def rule_render(rule: Rule, identity) -> Rule | None:
    """A templated rule with its parameters filled in for `identity` = (entity or None, [groups]);
    None when a parameter cannot be resolved (the server then ignores the path)."""
    missing = False

    def fill(match):
        nonlocal missing
        value = _template_value(match.group(1), identity)
        if value is None:
            missing = True
            return ""
        return str(value)

    path = TEMPLATE.sub(fill, rule.path)
    return None if missing else replace(rule, path=path)


class Acl:
    """The merged rules of a set of policies (templated rules already rendered)."""

    def __init__(self, rules):
        merged: dict[str, set[str]] = {}
        for rule in rules:
            merged.setdefault(rule.path, set()).update(rule.capabilities)
        self.rules = [
            Rule(path=p, capabilities=frozenset({DENY}) if DENY in caps else frozenset(caps))
            for p, caps in merged.items()
        ]
        self._exact = {r.path: r for r in self.rules if not r.is_glob and "+" not in r.path.split("/")}
        # rules grouped by their first segment; "" holds those starting with a wildcard
        self._by_head: dict[str, list[Rule]] = {}
        for r in self.rules:
            if r.path in self._exact:
                continue
            head = r.segments[0] if len(r.segments) > 1 and r.segments[0] != "+" else ""
            self._by_head.setdefault(head, []).append(r)

    def rule_for(self, path: str) -> Rule | None:
        """The rule Vault would apply to `path`, or None (no access)."""
        path = path.lstrip("/")
        if path in self._exact:
            return self._exact[path]
        head = path.split("/", 1)[0]
        candidates = [r for r in [*self._by_head.get(head, ()), *self._by_head.get("", ())] if r.matches(path)]
        return max(candidates, key=Rule.priority) if candidates else None

    def capabilities(self, path: str) -> frozenset[str]:
        rule = self.rule_for(path)
        if rule is None or DENY in rule.capabilities:
            return frozenset()
        return rule.capabilities

    def allows(self, capability: str, path: str) -> bool:
        return capability in self.capabilities(path)


def kv_data_path(mount: str, path: str) -> str:
    """The API path that reads a KV v2 secret's value."""
    return f"{mount.strip('/')}/data/{path.strip('/')}"


def kv_metadata_path(mount: str, path: str) -> str:
    return f"{mount.strip('/')}/metadata/{path.strip('/')}"


class PathIndex:
    """Sorted API paths, to find the ones a rule can match without testing every path: a rule only
    matches paths that start with its literal prefix (everything before the first `+` or `*`)."""

    def __init__(self, paths):
        self.paths = sorted(set(paths))
        self._exact = set(self.paths)

    def matching(self, rule: Rule):
        literal = rule.path
        for mark in ("+", "*"):
            cut = literal.find(mark)
            if cut >= 0:
                literal = literal[:cut]
        if literal == rule.path:  # an exact rule
            if literal in self._exact:
                yield literal
            return
        i = bisect.bisect_left(self.paths, literal)
        while i < len(self.paths) and self.paths[i].startswith(literal):
            if rule.matches(self.paths[i]):
                yield self.paths[i]
            i += 1

    def readable(self, acl: Acl, capability: str = "read"):
        """The indexed paths on which `acl` grants `capability` (after Vault's priority rules)."""
        candidates = set()
        for rule in acl.rules:
            if capability in rule.capabilities and DENY not in rule.capabilities:
                candidates.update(self.matching(rule))
        return sorted(p for p in candidates if acl.allows(capability, p))
