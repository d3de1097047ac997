"""Find secrets in one text: keyword prefilter, RE2 regex, entropy, allowlists, inline
`botaudit:allow` / `gitleaks:allow`. Returns redacted previews and keyed fingerprints only; the
value never leaves this module."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from ..redaction import redact, secret_fingerprint
from .assignments import vocab_database
from .parsed import parsed_find
from .parsedgate import ParsedGate, path_features
from .prefilter import Prefilter, RegexGate, fold_database, utf8_shape
from .values import rule_kind, shannon_entropy, value_judge  # noqa: F401 - shannon_entropy re-exported

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
    if len(text) > MAX_LINE:
        lines = text.split("\n")
        if max(map(len, lines)) > MAX_LINE:
            text = "\n".join(line[:MAX_LINE] for line in lines)
    return text


def _line_at(text: str, pos: int) -> tuple[int, str]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text.count("\n", 0, pos) + 1, text[start: end if end >= 0 else len(text)]


class _Lines:
    """gitleaks' location() (detect/location.go) over one text, with str.count/find (C speed)."""

    def __init__(self, text: str):
        self.text = text
        self._total = None

    def at(self, start: int, end: int) -> tuple[int, str]:
        """(1-based line of `start`, gitleaks' `Line`: from the newline before the start line to the
        newline after the end line). A newline belongs to the line after it. A match that starts
        on or after the last newline gets the text from the very beginning, as in gitleaks."""
        text = self.text
        if self._total is None:
            self._total = text.count("\n")
        k = text.count("\n", 0, start + 1)  # newlines at or before `start`
        if self._total and k == self._total:  # gitleaks' "!lineSet": after the last newline
            stop = end
            while stop < len(text) and text[stop] not in "\r\n":
                stop += 1
            return k + 1, text[:stop]
        first = text.rfind("\n", 0, start + 1) if k else 0
        after_start = text.find("\n", start + 1) if self._total else len(text)
        after_end = text.find("\n", end) if self._total else len(text)
        stop = after_end if after_end >= 0 else after_start
        return k + 1, text[first:max(stop, end)]


@dataclass
class _Hit:
    rule: object
    line: int
    secret: str
    start: int
    end: int
    judged: tuple = field(default=("medium", ()))


def _secret(rule, match_text: str) -> str:
    """gitleaks runs the regex again on the (newline-trimmed) match: the secret is `secretGroup`, else
    the first non-empty group, else the whole match."""
    if not rule.regex.groups:
        return match_text
    again = rule.regex.search(match_text)
    if again is None:
        return match_text
    if rule.secret_group:
        return again.group(rule.secret_group) or ""
    return next((g for g in again.groups() if g), match_text)


def gitleaks_entropy(value: str) -> float:
    """gitleaks' shannonEntropy: counts characters but divides by the UTF-8 length."""
    if not value:
        return 0.0
    n = len(value.encode("utf-8", "surrogatepass"))
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def rule_scan(rule, text: str, lines: _Lines, *, path: str, commit: str, allowlists) -> list[_Hit]:
    """One content rule over one text, as gitleaks' detectRule (decoding passes aside)."""
    if any(a.skips_fragment(path=path, commit=commit) for a in rule.allowlists):
        return []
    if rule.path is not None and not rule.path.search(path):
        return []
    hits = []
    for m in rule.regex.finditer(text):
        match_text = m.group(0).strip("\n")
        start, end = m.start(), m.start() + len(match_text)
        line_no, line = lines.at(start, end)
        if any(marker in line for marker in INLINE_ALLOW):
            continue
        secret = _secret(rule, match_text)
        if rule.entropy and gitleaks_entropy(secret) <= rule.entropy:
            continue
        context = {"secret": secret, "match": match_text, "line": line, "path": path, "commit": commit}
        if any(a.allows(**context) for a in (*allowlists, *rule.allowlists)):
            continue
        offset = match_text.find(secret) if secret else -1
        span = (start + offset, start + offset + len(secret)) if offset >= 0 else (start, end)
        hits.append(_Hit(rule, line_no, secret, *span))
    return hits


def generic_dedupe(hits: list[_Hit]) -> list[_Hit]:
    """gitleaks' filter(): a generic finding goes when a non-generic one on the same line holds its secret."""
    return [h for h in hits if not h.rule.generic or not any(
        o.line == h.line and o.rule.id != h.rule.id and not o.rule.generic and h.secret in o.secret for o in hits)]


class Detector:
    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.rules = [r for r in ruleset.rules if not r.path_only]
        self.path_rules = [r for r in ruleset.rules if r.path_only]
        self.prefilter = Prefilter(self.rules)
        self.multiline = {i for i, r in enumerate(self.rules) if spans_lines(r.regex.pattern)}
        self._kind_of = {r.id: rule_kind(r) for r in self.rules}
        self.parsed = any(r.id == "url-credentials" for r in self.rules)  # BotAudit's default rules are in use
        self._path_allowed: dict[str, bool] = {}  # the same paths come back in every commit
        self._path_found: dict[str, list] = {}
        self._path_keys: dict[str, tuple] = {}
        self._by_id = {r.id: r for r in ruleset.rules}
        self._kinds: dict[tuple, int] = {}
        self._commit_lists = any(a.commits for r in ruleset.rules for a in (*ruleset.allowlists, *r.allowlists))
        self._gate = self._parsed_gate = None
        self.judge_non_ascii = True  # gate non-ASCII text through its shape (see may_match; False: never)

    def __reduce__(self):
        """Pickled as its rules and settings (for the scanning process, engine.py): the caches and the
        hyperscan databases are rebuilt there."""
        return _detector_rebuild, (self.ruleset, self.judge_non_ascii)

    def path_allowed(self, path: str, commit: str = "") -> bool:
        """A global allowlist skips the whole file (gitleaks' checkCommitOrPathAllowed)."""
        if commit:
            return any(a.skips_fragment(path=path, commit=commit) for a in self.ruleset.allowlists)
        allowed = self._path_allowed.get(path)
        if allowed is None:
            if len(self._path_allowed) > 100_000:
                self._path_allowed.clear()
            allowed = self._path_allowed[path] = any(a.skips_fragment(path=path) for a in self.ruleset.allowlists)
        return allowed

    def path_key(self, path: str) -> int:
        """A small number naming what a path changes about a scan (global and rule path allowlists,
        rule paths, what the parsed detectors and the value judge read in a path): one blob scanned
        under paths with the same key gives the same matches."""
        key = self._path_keys.get(path)
        if key is None:
            if len(self._path_keys) > 100_000:
                self._path_keys.clear()
            kind = (self.path_allowed(path), *path_features(path)) + tuple(
                (r.path is None or bool(r.path.search(path)))
                and not any(a.skips_fragment(path=path) for a in r.allowlists) for r in self.rules)
            key = self._path_keys[path] = self._kinds.setdefault(kind, len(self._kinds))
        return key

    def commit_allowed(self, rule_id: str, *, commit: str, path: str) -> bool:
        """An allowlist's `commits` skip that commit's findings (global, or the rule's). A blob is
        scanned once for every commit that adds it, so history scans apply this per commit."""
        if not self._commit_lists:
            return False
        rule = self._by_id.get(rule_id)  # None: a parsed.py finding, only the global allowlists apply
        lists = (*self.ruleset.allowlists, *(rule.allowlists if rule else ()))
        return any(a.commits and a.skips_fragment(path=path, commit=commit) for a in lists)

    def path_scan(self, path: str, commit: str = "") -> list[Match]:
        """Path-only rules (a `path`, no `regex`): one match on the file, line 0 as gitleaks reports
        it; the fingerprint and preview are of the path, never of content."""
        if not self.path_rules or self.path_allowed(path, commit):
            return []
        found = self._path_found.get(path) if not commit else None
        if found is None:
            found = [Match(r.id, 0, secret_fingerprint(path), redact(path), 0, 0) for r in self.path_rules
                     if r.path.search(path) and not any(a.skips_fragment(path=path, commit=commit)
                                                        for a in r.allowlists)]
            if not commit:
                if len(self._path_found) > 100_000:
                    self._path_found.clear()
                self._path_found[path] = found
        return found

    def scan(self, text: str, *, path: str = "", commit: str = "", unordered: bool = False) -> list[Match] | None:
        """Matches of the content rules in `text`. With `unordered` (lines in no particular order),
        returns None instead when a rule that spans lines could match: the caller must pass the
        lines in order. Path-only rules are `path_scan`'s."""
        if self.path_allowed(path, commit):
            return []
        candidates = self.prefilter.candidates(text)
        if unordered and self.multiline.intersection(candidates):
            return None
        lines = _Lines(text)
        hits = [h for index in candidates for h in rule_scan(
            self.rules[index], text, lines, path=path, commit=commit, allowlists=self.ruleset.allowlists)]
        found = [Match(h.rule.id, h.line, secret_fingerprint(h.secret), redact(h.secret), h.start, h.end, *h.judged)
                 for h in generic_dedupe([h for h in hits if self._judge(h, text, path)])]
        return found + self.parsed_scan(text, path=path, commit=commit, taken=found) if self.parsed else found

    def _judge(self, hit: _Hit, text: str, path: str) -> bool:
        """Confidence and reasons (values.value_judge). With BotAudit's default rules a value judged
        not a secret is dropped; with any other rule file (e.g. gitleaks') every hit gitleaks would
        report is kept, a placeholder-looking one at low confidence."""
        judged = value_judge(value=hit.secret, kind=self._kind_of[hit.rule.id], line=_line_at(text, hit.start)[1],
                             path=path)
        if judged is None and self.parsed:
            return False
        hit.judged = judged or ("low", ("placeholder value",))
        return True

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

    def gates_build(self) -> None:
        """Compile every hyperscan database a scan uses (gates, the assignment parser's key words, the
        case-fold check; ~0.5 s for the default rules), in this thread: once before a history scan's
        worker processes fork, instead of once in each."""
        self._gate = RegexGate(self.rules)
        self._parsed_gate = ParsedGate(self._gate.expressions) if self.parsed else None  # both gates, one pass
        if self._parsed_gate is not None:
            self._parsed_gate.build()
        if self.parsed:
            vocab_database()
        fold_database()

    def may_match(self, data: bytes, path: str = "") -> bool:
        """False only when nothing in `data` (the raw bytes of a text at `path`) can give a match, so
        a caller may skip decoding it and all line work: the regex rules' gate, and with BotAudit's
        default rules the parsed detectors' (parsedgate.py). The hyperscan databases are built on
        first use (~0.3 s for the default rules). Any detection added to scan() must keep this True
        for any text it could find something in."""
        if self._gate is None:
            self.gates_build()
        shaped = not data.isascii()
        # Else the text, one byte per character (prefilter.utf8_shape); lines as long as in the
        # bytes, so a superset of text_decode's capped lines. On celery's history it closes 9 in 10
        # non-ASCII texts since the parsed gate reads values (~3 of 17 CPU-s saved).
        if shaped and (not self.judge_non_ascii or not self._gate.shapes or (data := utf8_shape(data)) is None):
            return True
        if self.parsed and not self._gate.open:  # one pass for both gates (the regex rules' are in it)
            return self._parsed_gate.may_match(data, path, shaped=shaped)
        if self._gate.may_match(data, shaped=shaped):
            return True
        return self.parsed and self._parsed_gate.may_match(data, path, shaped=shaped)

    def rules_by_id(self, rule_id: str):
        return self._by_id[rule_id]


def _detector_rebuild(ruleset, judge_non_ascii: bool) -> Detector:
    detector = Detector(ruleset)
    detector.judge_non_ascii = judge_non_ascii
    return detector
