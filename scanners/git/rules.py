"""Rules in gitleaks' TOML format, with gitleaks 8.30's semantics (config/config.go, rule.go,
allowlist.go): `[[rules]]` (id, description, regex, path, secretGroup, entropy, keywords, tags,
skipReport, `[rules.allowlist]` / `[[rules.allowlists]]`), path-only rules (a `path` and no
`regex`), a top-level `[allowlist]` / `[[allowlists]]` (with `targetRules`) and `[extend]`
(`useDefault` / `path` / `disabledRules`, rules of the same id merged field by field). Regexes are
compiled with google-re2 (Go RE2 syntax, linear time), so a sloppy or hostile rule file cannot hang
a worker. Composite rules (`[[rules.required]]`) and `[extend] url` are refused by name."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import re2

from inventory.text import control_problem

DEFAULT_RULES = Path(__file__).with_name("rules") / "default.toml"
MAX_EXTEND_DEPTH = 2  # gitleaks' maxExtendDepth
_OPTIONS = re2.Options()
_OPTIONS.max_mem = 16 << 20  # per regex, its DFA cache 2/3 of it (64 MB let each history worker grow ~10 MB more)


class RuleError(ValueError):
    """A rule file is unusable; the message names the file and the rule."""


def _compile(pattern, where: str):
    if not isinstance(pattern, str):
        raise RuleError(f"{where}: a regex must be a string, not {pattern!r}")
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except Exception as exc:  # re2.error, TypeError
        raise RuleError(f"{where}: invalid regex {pattern!r}: {exc}") from None


def _joined(patterns: list[str], where: str):
    """gitleaks joins an allowlist's regexes (and paths) into one `(?:a|b)`; a flag such as `(?i)`
    inside one of them therefore also applies to the ones after it. Same here."""
    for p in patterns:
        _compile(p, where)
    return _compile("(?:" + "|".join(patterns) + ")", where) if patterns else None


def _strings(raw: dict, key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: {key} must be a list of strings")
    return value


@dataclass
class Allowlist:
    regexes: object = None  # one joined pattern, or None
    regex_target: str = "secret"  # secret | match | line
    paths: object = None
    stopwords: tuple = ()
    commits: frozenset = frozenset()
    condition: str = "OR"
    description: str = ""

    def path_allowed(self, path: str) -> bool:
        return bool(path) and self.paths is not None and self.paths.search(path) is not None

    def commit_allowed(self, commit: str) -> bool:
        return bool(commit) and commit.lower() in self.commits

    def stopword_in(self, secret: str) -> bool:
        lowered = secret.lower()
        return bool(secret) and any(w in lowered for w in self.stopwords)

    def skips_fragment(self, *, path: str, commit: str = "") -> bool:
        """gitleaks' checkCommitOrPathAllowed: the whole file (or commit) is allowed, before any
        regex runs. An AND allowlist with regexes or stopwords is left to `allows`."""
        if not path and not commit:
            return False
        if self.condition == "AND":
            if self.regexes is not None or self.stopwords:
                return False
            checks = ([self.commit_allowed(commit)] if self.commits else []) + (
                [self.path_allowed(path)] if self.paths is not None else [])
            return all(checks)
        return self.commit_allowed(commit) or self.path_allowed(path)

    def allows(self, *, secret: str, match: str, line: str, path: str, commit: str = "") -> bool:
        """gitleaks' checkFindingAllowed: OR tests the regexes (on `regexTarget`) and the stopwords
        (always on the secret); AND needs every check the allowlist defines."""
        target = {"match": match, "line": line}.get(self.regex_target, secret)
        regex_ok = bool(target) and self.regexes is not None and self.regexes.search(target) is not None
        if self.condition != "AND":
            return regex_ok or self.stopword_in(secret)
        checks = []
        if self.commits:
            checks.append(self.commit_allowed(commit))
        if self.paths is not None:
            checks.append(self.path_allowed(path))
        if self.regexes is not None:
            checks.append(regex_ok)
        if self.stopwords:
            checks.append(self.stopword_in(secret))
        return all(checks)


@dataclass
class Rule:
    id: str
    regex: object  # None for a path-only rule
    description: str = ""
    secret_group: int = 0
    entropy: float = 0.0
    keywords: tuple = ()
    path: object = None
    allowlists: list = field(default_factory=list)
    tags: tuple = ()
    skip_report: bool = False

    @property
    def generic(self) -> bool:
        """gitleaks' dedupe treats every rule whose id contains 'generic' as generic."""
        return "generic" in self.id.lower()

    @property
    def path_only(self) -> bool:
        return self.regex is None


@dataclass
class RuleSet:
    rules: list
    allowlists: list

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


_CONDITIONS = {"AND": "AND", "&&": "AND", "": "OR", "OR": "OR", "||": "OR"}


def _allowlist(raw: dict, where: str) -> Allowlist:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: allowlist must be a table")
    condition = _CONDITIONS.get(str(raw.get("condition", "")).upper())
    if condition is None:
        raise RuleError(f"{where}: condition must be AND or OR, not {raw.get('condition')!r}")
    target = raw.get("regexTarget", "") or "secret"
    if target not in ("secret", "match", "line"):
        raise RuleError(f"{where}: regexTarget must be secret, match or line, not {target!r}")
    regexes, paths = _strings(raw, "regexes", where), _strings(raw, "paths", where)
    stopwords, commits = _strings(raw, "stopwords", where), _strings(raw, "commits", where)
    if not (regexes or paths or stopwords or commits):
        raise RuleError(f"{where}: an allowlist needs at least one of commits, paths, regexes or stopwords")
    return Allowlist(
        regexes=_joined(regexes, f"{where} regexes"), regex_target=target,
        paths=_joined(paths, f"{where} paths"),
        stopwords=tuple(dict.fromkeys(w.lower() for w in stopwords)),
        commits=frozenset(c.strip().lower() for c in commits), condition=condition,
        description=str(raw.get("description", "")),
    )


def _allowlists(raw: dict, where: str, *, rule: bool) -> list[tuple[Allowlist, list[str]]]:
    """[(allowlist, targetRules)]. `[allowlist]` (deprecated) and `[[allowlists]]` cannot be mixed."""
    single, many = raw.get("allowlist"), raw.get("allowlists", [])
    one, each = ("[rules.allowlist]", "[[rules.allowlists]]") if rule else ("[allowlist]", "[[allowlists]]")
    if single is not None and many:
        raise RuleError(f"{where}: {one} is deprecated and cannot be used alongside {each}")
    if not isinstance(many, list):
        raise RuleError(f"{where}: {each} must be an array of tables")
    items = ([(one, single)] if single is not None else []) + [(f"{each} #{i + 1}", x) for i, x in enumerate(many)]
    out = []
    for label, item in items:
        allowlist = _allowlist(item, f"{where} {label}")
        targets = _strings(item, "targetRules", f"{where} {label}") if not rule else []
        if rule and "targetRules" in item:
            raise RuleError(f"{where} {label}: targetRules belongs in a top-level [[allowlists]]")
        out.append((allowlist, targets))
    return out


MAX_RULE_ID = 100  # GitLeakRecord.rule_id


def _rule(raw: dict, where: str) -> Rule:
    """One `[[rules]]`, not yet validated: under `[extend]` a rule may only add to a base rule."""
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: [[rules]] must be tables")
    rule_id = raw.get("id")
    if not rule_id or not isinstance(rule_id, str) or not rule_id.strip():
        raise RuleError(f"{where}: every [[rules]] needs a string id")
    if len(rule_id) > MAX_RULE_ID or control_problem(rule_id):
        raise RuleError(f"{where}: rule id {rule_id[:40]!r}: at most {MAX_RULE_ID} printable characters")
    where = f"{where} rule {rule_id!r}"
    if raw.get("required"):
        raise RuleError(f"{where}: composite rules ([[rules.required]]) are not supported")
    try:
        group = int(raw.get("secretGroup", 0))
        entropy = float(raw.get("entropy", 0.0))
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{where}: secretGroup/entropy must be numbers: {exc}") from None
    return Rule(
        id=rule_id, regex=_compile(raw["regex"], where) if raw.get("regex") else None,
        description=str(raw.get("description", "")), secret_group=group, entropy=entropy,
        keywords=tuple(k.lower() for k in _strings(raw, "keywords", where)),
        path=_compile(raw["path"], f"{where} path") if raw.get("path") else None,
        allowlists=[a for a, _t in _allowlists(raw, where, rule=True)],
        tags=tuple(_strings(raw, "tags", where)), skip_report=bool(raw.get("skipReport", False)),
    )


def _validate(rule: Rule, where: str) -> None:
    where = f"{where} rule {rule.id!r}"
    if rule.regex is None and rule.path is None:
        raise RuleError(f"{where}: needs a regex or a path (both are empty, the rule would match nothing)")
    if rule.regex is not None and rule.secret_group > rule.regex.groups:
        raise RuleError(f"{where}: secretGroup {rule.secret_group} but the regex has {rule.regex.groups} group(s)")


def _merge(base: Rule, own: Rule) -> Rule:
    """gitleaks' extend: the extending rule's non-empty fields win; tags, keywords and allowlists add up."""
    return Rule(
        id=base.id, regex=own.regex or base.regex, description=own.description or base.description,
        secret_group=own.secret_group or base.secret_group, entropy=own.entropy or base.entropy,
        keywords=base.keywords + own.keywords, path=own.path or base.path,
        allowlists=base.allowlists + own.allowlists, tags=base.tags + own.tags, skip_report=base.skip_report,
    )


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rules: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}") from None


def _extended(rules: dict, allowlists: list, extend: dict, path: Path, depth: int) -> tuple[dict, list]:
    where = str(path)
    if extend.get("url"):
        raise RuleError(f"{where}: [extend] url is not supported (gitleaks does not implement it either)")
    if extend.get("path") and extend.get("useDefault"):
        raise RuleError(f"{where}: [extend] cannot set both path and useDefault")
    if depth >= MAX_EXTEND_DEPTH or not (extend.get("useDefault") or extend.get("path")):
        return rules, allowlists
    if extend.get("useDefault"):
        if path == DEFAULT_RULES:
            return rules, allowlists
        base_path = DEFAULT_RULES
    else:
        base_path = path.parent / extend["path"]
    base_rules, base_allowlists = _load(base_path, depth + 1)
    disabled = set(_strings(extend, "disabledRules", f"{where} [extend]"))
    merged = dict(rules)
    for rule_id, base in base_rules.items():
        if rule_id in disabled:
            continue
        merged[rule_id] = _merge(base, rules[rule_id]) if rule_id in rules else base
    return merged, allowlists + base_allowlists


def _load(path: Path, depth: int) -> tuple[dict, list]:
    """({rule id: Rule}, [(global allowlist, targetRules)]) of one file and what it extends."""
    raw = _read(path)
    where = str(path)
    rules: dict[str, Rule] = {}
    raw_rules = raw.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RuleError(f"{where}: rules must be an array of tables ([[rules]])")
    for item in raw_rules:
        rule = _rule(item, where)
        if rule.id in rules:
            raise RuleError(f"{where}: duplicate rule id(s): {rule.id}")
        rules[rule.id] = rule
    extend = raw.get("extend") or {}
    if not isinstance(extend, dict):
        raise RuleError(f"{where}: [extend] must be a table")
    return _extended(rules, _allowlists(raw, where, rule=False), extend, path, depth)


def rules_load(*, path: str | Path | None = None) -> RuleSet:
    """Load a gitleaks-format rule file (the shipped default when `path` is None). Rules with
    `skipReport` report nothing (they only serve composite rules, which are refused)."""
    path = Path(path) if path else DEFAULT_RULES
    where = str(path)
    rules, allowlists = _load(path, 0)
    for rule in rules.values():
        _validate(rule, where)
    global_lists = []
    for allowlist, targets in allowlists:
        for rule_id in targets:
            if rule_id not in rules:
                raise RuleError(f"{where}: [[allowlists]] targetRules names rule {rule_id!r}, which does not exist")
            rules[rule_id].allowlists.append(allowlist)
        if not targets:
            global_lists.append(allowlist)
    reported = [r for r in rules.values() if not r.skip_report]
    if not reported:
        raise RuleError(f"{where}: no [[rules]]")
    return RuleSet(rules=reported, allowlists=global_lists)
