"""Rules in gitleaks' TOML format: `[[rules]]` (id, regex, secretGroup, entropy, keywords, path,
`[rules.allowlist]` / `[[rules.allowlists]]`), a top-level `[allowlist]` / `[[allowlists]]` and
`[extend] useDefault` / `path`. Regexes are compiled with google-re2 (Go RE2 syntax, linear time),
so a sloppy or hostile rule file cannot hang a worker."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import re2

from inventory.text import control_problem

DEFAULT_RULES = Path(__file__).with_name("rules") / "default.toml"
_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20


class RuleError(ValueError):
    """A rule file is unusable; the message names the file and the rule."""


def _compile(pattern: str, where: str):
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except Exception as exc:  # re2.error, TypeError
        raise RuleError(f"{where}: invalid regex {pattern!r}: {exc}") from None


@dataclass
class Allowlist:
    regexes: list = field(default_factory=list)
    regex_target: str = "secret"  # secret | match | line
    paths: list = field(default_factory=list)
    stopwords: tuple = ()
    commits: frozenset = frozenset()
    condition: str = "OR"

    def allows(self, *, secret: str, match: str, line: str, path: str, commit: str = "") -> bool:
        target = {"secret": secret, "match": match, "line": line}.get(self.regex_target, secret)
        lowered = secret.lower()
        tests = []
        if self.commits:
            tests.append(commit in self.commits)
        if self.paths:
            tests.append(any(p.search(path) for p in self.paths))
        if self.regexes:
            tests.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            tests.append(any(w in lowered for w in self.stopwords))
        if not tests:
            return False
        return all(tests) if self.condition == "AND" else any(tests)


@dataclass
class Rule:
    id: str
    regex: object
    description: str = ""
    secret_group: int = 0
    entropy: float = 0.0
    keywords: tuple = ()
    path: object = None
    allowlists: list = field(default_factory=list)

    @property
    def generic(self) -> bool:
        return self.id.startswith("generic")


@dataclass
class RuleSet:
    rules: list
    allowlists: list

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _allowlist(raw: dict, where: str) -> Allowlist:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: allowlist must be a table")
    target = raw.get("regexTarget", "secret")
    if target not in ("secret", "match", "line"):
        raise RuleError(f"{where}: regexTarget must be secret, match or line, not {target!r}")
    return Allowlist(
        regexes=[_compile(p, f"{where} regexes") for p in raw.get("regexes", [])],
        regex_target=target,
        paths=[_compile(p, f"{where} paths") for p in raw.get("paths", [])],
        stopwords=tuple(w.lower() for w in raw.get("stopwords", [])),
        commits=frozenset(raw.get("commits", [])),
        condition=str(raw.get("condition", "OR")).upper(),
    )


def _allowlists(raw: dict, where: str) -> list[Allowlist]:
    out = []
    if "allowlist" in raw:
        out.append(_allowlist(raw["allowlist"], f"{where} [allowlist]"))
    for i, item in enumerate(raw.get("allowlists", [])):
        out.append(_allowlist(item, f"{where} [[allowlists]] #{i + 1}"))
    return out


MAX_RULE_ID = 100  # GitLeakRecord.rule_id


def _rule(raw: dict, where: str) -> Rule:
    rule_id = raw.get("id")
    if not rule_id or not isinstance(rule_id, str):
        raise RuleError(f"{where}: every [[rules]] needs a string id")
    if len(rule_id) > MAX_RULE_ID or control_problem(rule_id):
        raise RuleError(f"{where}: rule id {rule_id[:40]!r}: at most {MAX_RULE_ID} printable characters")
    where = f"{where} rule {rule_id!r}"
    if "regex" not in raw and "path" not in raw:
        raise RuleError(f"{where}: needs a regex (path-only rules are not supported)")
    if "regex" not in raw:
        raise RuleError(f"{where}: needs a regex (path-only rules are not supported)")
    try:
        group = int(raw.get("secretGroup", 0))
        entropy = float(raw.get("entropy", 0.0))
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{where}: secretGroup/entropy must be numbers: {exc}") from None
    regex = _compile(raw["regex"], where)
    if group > regex.groups:
        raise RuleError(f"{where}: secretGroup {group} but the regex has {regex.groups} group(s)")
    return Rule(
        id=rule_id, regex=regex, description=raw.get("description", ""), secret_group=group,
        entropy=entropy, keywords=tuple(k.lower() for k in raw.get("keywords", [])),
        path=_compile(raw["path"], f"{where} path") if raw.get("path") else None,
        allowlists=_allowlists(raw, where),
    )


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rules: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}") from None


def rules_load(*, path: str | Path | None = None, _depth: int = 0) -> RuleSet:
    """Load a gitleaks-format rule file (the shipped default when `path` is None)."""
    path = Path(path) if path else DEFAULT_RULES
    raw = _read(path)
    where = str(path)
    rules = [_rule(r, where) for r in raw.get("rules", [])]
    allowlists = _allowlists(raw, where)
    extend = raw.get("extend") or {}
    base = None
    if extend.get("useDefault") and path != DEFAULT_RULES:
        base = rules_load()
    elif extend.get("path"):
        if _depth > 2:
            raise RuleError(f"{where}: [extend] nests too deep")
        base = rules_load(path=(path.parent / extend["path"]), _depth=_depth + 1)
    if base:
        disabled = set(extend.get("disabledRules", []))
        own = {r.id for r in rules}
        rules = [r for r in base.rules if r.id not in own and r.id not in disabled] + rules
        allowlists = base.allowlists + allowlists
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuleError(f"{where}: duplicate rule id(s): {', '.join(dupes)}")
    if not rules:
        raise RuleError(f"{where}: no [[rules]]")
    return RuleSet(rules=rules, allowlists=allowlists)
