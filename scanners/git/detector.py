"""Find secrets in one text: keyword prefilter, RE2 regex, entropy, allowlists, inline
`botaudit:allow` / `gitleaks:allow`. Returns redacted previews and keyed fingerprints only; the
value never leaves this module."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..redaction import redact, secret_fingerprint
from .parsed import parsed_find
from .prefilter import Prefilter
from .values import rule_kind, shannon_entropy, value_judge

MAX_LINE = 4096  # longer lines (minified files) are examined up to this many characters
INLINE_ALLOW = ("botaudit:allow", "gitleaks:allow")


@dataclass(frozen=True)
class Match:
    rule_id: str
    line: int
    secret_fingerprint: str
    redacted: str
    start: int
    end: int
    confidence: str = "medium"  # high | medium | low (values.value_judge)
    reasons: tuple[str, ...] = ()


# A class holding \s (or any-char constructs) under a long repetition: the rule can span lines.
_SPANS = re.compile(r"\(\?s|\\s\\S|\\S\\s|\[[^\]]*\\s[^\]]*\](?:\|[^)]{0,20}\))?(?:[*+]|\{\d{2,})")


def spans_lines(pattern: str) -> bool:
    return bool(_SPANS.search(pattern))


def text_decode(data: bytes) -> str:
    """Decode blob bytes safely: UTF-8, undecodable bytes replaced; overlong lines capped."""
    text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_LINE and any(len(line) > MAX_LINE for line in text.split("\n")):
        text = "\n".join(line[:MAX_LINE] for line in text.split("\n"))
    return text


def _line_at(text: str, pos: int) -> tuple[int, str]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text.count("\n", 0, pos) + 1, text[start: end if end >= 0 else len(text)]


class Detector:
    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.rules = ruleset.rules
        self.prefilter = Prefilter(self.rules)
        self.multiline = {i for i, r in enumerate(self.rules) if spans_lines(r.regex.pattern)}
        self.kinds = [rule_kind(r) for r in self.rules]
        self.parsed = any(r.id == "url-credentials" for r in self.rules)  # BotAudit's default rules are in use
        self._path_allowed: dict[str, bool] = {}  # the same paths come back in every commit

    def path_allowed(self, path: str) -> bool:
        allowed = self._path_allowed.get(path)
        if allowed is None:
            if len(self._path_allowed) > 100_000:
                self._path_allowed.clear()
            allowed = self._path_allowed[path] = any(
                a.condition != "AND" and any(p.search(path) for p in a.paths) for a in self.ruleset.allowlists)
        return allowed

    def scan(self, text: str, *, path: str = "", commit: str = "", unordered: bool = False) -> list[Match] | None:
        """Matches in `text`. With `unordered` (lines in no particular order), returns None instead
        when a rule that spans lines could match: the caller must pass the lines in order."""
        if self.path_allowed(path):
            return []
        found: list[Match] = []
        candidates = self.prefilter.candidates(text)
        if unordered and self.multiline.intersection(candidates):
            return None
        for index in candidates:
            rule = self.rules[index]
            if rule.path is not None and not rule.path.search(path):
                continue
            for m in rule.regex.finditer(text):
                group = rule.secret_group
                secret = m.group(group) if group else m.group(0)
                if not secret:
                    continue
                if rule.entropy and shannon_entropy(secret) < rule.entropy:
                    continue
                line_no, line = _line_at(text, m.start())
                if any(marker in line for marker in INLINE_ALLOW):
                    continue
                context = {"secret": secret, "match": m.group(0), "line": line, "path": path, "commit": commit}
                if any(a.allows(**context) for a in rule.allowlists + self.ruleset.allowlists):
                    continue
                judged = value_judge(value=secret, kind=self.kinds[index], line=line, path=path)
                if judged is None:
                    continue
                span = m.span(group) if group else m.span()
                found.append(Match(rule.id, line_no, secret_fingerprint(secret), redact(secret), *span, *judged))
        specific = [f for f in found if not self.rules_by_id(f.rule_id).generic]
        found = [f for f in found if not self.rules_by_id(f.rule_id).generic
                 or not any(s.start < f.end and f.start < s.end for s in specific)]
        return found + self.parsed_scan(text, path=path, commit=commit, taken=found) if self.parsed else found

    def parsed_scan(self, text: str, *, path: str, commit: str, taken: list[Match]) -> list[Match]:
        """Values assigned by key name and credential-file formats (parsed.py) not already matched."""
        found = []
        for rule_id, secret, start, end, judged in parsed_find(text, path=path):
            if any(t.start < end and start < t.end for t in taken):
                continue
            line_no, line = _line_at(text, start)
            context = {"secret": secret, "match": secret, "line": line, "path": path, "commit": commit}
            if any(marker in line for marker in INLINE_ALLOW) or any(a.allows(**context)
                                                                      for a in self.ruleset.allowlists):
                continue
            found.append(Match(rule_id, line_no, secret_fingerprint(secret), redact(secret), start, end, *judged))
        return found

    def rules_by_id(self, rule_id: str):
        if not hasattr(self, "_by_id"):
            self._by_id = {r.id: r for r in self.rules}
        return self._by_id[rule_id]
