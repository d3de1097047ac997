"""Keyword prefilter: one pass over the text decides which rules' regexes run, so cost does not
grow with the number of rules. Hyperscan (case-insensitive literals, one match per keyword) when it
imports; ahocorasick-rs otherwise. Measured on 28.7 MB of patch text: hyperscan 557 MB/s,
ahocorasick-rs (overlapping, over lower-cased text) 60 MB/s, Python `re` alternation 8 MB/s."""

from __future__ import annotations

import re
import threading

import ahocorasick_rs

from .hsdb import compiled

try:
    import hyperscan
except ImportError:  # pragma: no cover - platforms without a hyperscan wheel
    hyperscan = None


class Prefilter:
    def __init__(self, rules, *, engine: str | None = None):
        keywords = sorted({k for r in rules for k in r.keywords})
        self._always = [i for i, r in enumerate(rules) if not r.keywords]
        by_keyword = {k: [] for k in keywords}
        for i, rule in enumerate(rules):
            for k in rule.keywords:
                by_keyword[k].append(i)
        self._rules_of = [by_keyword[k] for k in keywords]
        self.engine = engine or ("hyperscan" if hyperscan is not None else "ahocorasick")
        self._hs = self._ac = None
        if not keywords:
            return
        if self.engine == "hyperscan":
            flag = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH
            self._hs = compiled([re.escape(k).encode() for k in keywords], [flag] * len(keywords))
        else:
            self._ac = ahocorasick_rs.AhoCorasick(keywords)

    def candidates(self, text: str) -> list[int]:
        """Indexes of the rules whose keywords occur in `text`, any case (plus keyword-less rules)."""
        hit = set(self._always)
        if self._hs is not None:
            found = set()
            self._hs.scan(text.encode("utf-8", "surrogatepass"),
                          match_event_handler=lambda i, _f, _t, _fl, _c: found.add(i))
        elif self._ac is not None:
            found = {m[0] for m in self._ac.find_matches_as_indexes(text.lower(), overlapping=True)}
        else:
            found = ()
        for k in found:
            hit.update(self._rules_of[k])
        return sorted(hit)

    def __getstate__(self):  # a hyperscan database does not pickle; rebuild in the other process
        raise TypeError("Prefilter is shared with worker processes by fork, not pickled")


# Characters that RE2's or Python's case-insensitive matching takes for an ASCII letter (U+0130 and
# U+0131 for i, U+017F for s, U+212A for k), in UTF-8: a text holding one is never judged by a gate.
_FOLDS_TO_ASCII = ("\u0130".encode(), "\u0131".encode(), "\u017f".encode(), "\u212a".encode())
# An escape that names a non-ASCII character or class (\\x80, \\x{e9}, \\pL, \\C, octal): hyperscan
# would read it as bytes, so a rule set holding one judges only ASCII text.
NON_ASCII_ESCAPE = re.compile(r"\\(?:x|p|P|C|u|U|[0-7])")
_LEAD_TO_0X80 = bytes(range(0x80)) + b"\x80" * 0x80  # bytes.translate table
_CONTINUATION = bytes(range(0x80, 0xC0))


def utf8_shape(data: bytes, *, valid: bool = False) -> bytes | None:
    """The text of UTF-8 `data` as bytes with the same characters at the same offsets: ASCII as
    itself, every other character one byte 0x80 (its lead byte mapped, its continuation bytes
    dropped: one C pass). Hyperscan (bytes, no UTF-8 mode) matches 0x80 wherever RE2 or Python
    matches a non-ASCII character in an ASCII pattern: `.`, negated classes, `\\W`, `\\S`, `\\D`,
    not a word character for `\\b`. Python's `\\w` / `\\s` / `\\d` are Unicode: a pattern standing
    in for them must hold 0x80 itself (parsedgate.py). None when `data` is not valid UTF-8 (unless
    the caller knows it is) or holds a character that folds to an ASCII letter."""
    if not valid:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if _folds_in(data):
        return None
    return data.translate(_LEAD_TO_0X80, _CONTINUATION)


_FOLD_DBS: dict = {}  # per thread (a hyperscan scratch space is not shared; a forked worker inherits its own copy)


def fold_database():
    """This thread's database of characters that fold to ASCII letters (built on first use;
    Detector.gates_build builds it early). None without hyperscan."""
    if hyperscan is None:  # pragma: no cover
        return None
    me = threading.get_ident()
    db = _FOLD_DBS.get(me)
    if db is None:
        db = _FOLD_DBS[me] = compiled([b"".join(b"\\x%02x" % c for c in f) for f in _FOLDS_TO_ASCII],
                                      [hyperscan.HS_FLAG_SINGLEMATCH] * len(_FOLDS_TO_ASCII))
    return db


def _folds_in(data: bytes) -> bool:
    db = fold_database()
    if db is None:  # pragma: no cover
        return any(fold in data for fold in _FOLDS_TO_ASCII)
    try:
        db.scan(data, match_event_handler=_stop)
    except hyperscan.ScanTerminated:
        return True
    return False


def text_shape(text: str) -> bytes | None:
    """`utf8_shape` of a decoded text (lone surrogates count as one character each)."""
    return utf8_shape(text.encode("utf-8", "surrogatepass"), valid=True)


class RegexGate:
    """Can any rule match anywhere in these bytes? Every rule's regex compiled by hyperscan in
    prefilter mode (a superset of what the regex matches), scanned once over raw bytes and stopped
    at the first hit: False is a proof that no rule matches, so the caller skips all line work.
    Only ASCII input is judged (RE2's Unicode case folding, e.g. U+212A for k, is not hyperscan's);
    a rule set hyperscan cannot compile, or a rule without a regex, keeps the gate open."""

    FLAGS = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH
             if hyperscan is not None else 0)

    def __init__(self, rules):
        patterns = [getattr(rule.regex, "pattern", None) for rule in rules]
        self.open, self._db, self.expressions = hyperscan is None or not all(patterns), None, []
        self.shapes = not self.open and all(p.isascii() and not NON_ASCII_ESCAPE.search(p) for p in patterns)
        if self.open or not patterns:
            return
        try:
            db = compiled([p.encode() for p in patterns], [self.FLAGS] * len(patterns))
        except hyperscan.error:  # a construct hyperscan does not support even as a prefilter
            self.open = True
            return
        self._db = db
        self.expressions = [(p.encode(), self.FLAGS) for p in patterns]  # for a database shared with others

    def may_match(self, data: bytes, *, shaped: bool = False) -> bool:
        """`shaped`: `data` is `text_shape`'s bytes (0x80 standing for each non-ASCII character)."""
        if self.open or not (data.isascii() or shaped and self.shapes):
            return True
        if self._db is None:
            return False
        try:
            self._db.scan(data, match_event_handler=_stop)
        except hyperscan.ScanTerminated:
            return True
        return False

    def __getstate__(self):
        raise TypeError("RegexGate is shared with worker processes by fork, not pickled")


def _stop(*_args) -> bool:
    return True  # the first hit answers the question
