"""A native gate for the parsed detectors (parsed.py): can `assignments_find` or `credfiles_find`
yield anything for these bytes at this path? One hyperscan pass over the raw bytes of a blob (or of
a change's region) answers; False is a proof that neither can, so the blob never reaches Python.

Each pattern is a superset of one family of assignments.py's forms, read off how a value is found
there: a form matches on one line, and `key_word` keeps a key only when its last word (letters
split at case changes and at every non-letter; digits dropped) is one of `_LAST`, or `key` after a
qualifier, or one of `_PAIRS`. So the key's text ends, in any case, with one of those words
followed only by non-letters, and then comes the form's separator. Credential files: a `.pgpass`
path opens the gate for that path; a Kubernetes Secret needs a `kind: Secret` line.

Bytes are judged as ASCII, or as `prefilter.text_shape` gives them (one byte 0x80 for each
non-ASCII character, which the patterns admit wherever Python's Unicode `\\w` / `\\s` could take
one); without hyperscan the gate stays open."""

from __future__ import annotations

import threading

from .assignments import _CODE_EXT, _KEY_QUALIFIERS, _LAST, _PAIRS
from .credfiles import _PGPASS
from .hsdb import compiled
from .values import _LOCKFILE, MIN_VALUE, path_reasons

try:
    import hyperscan
except ImportError:  # pragma: no cover - platforms without a hyperscan wheel
    hyperscan = None

# What may follow a key's last word inside the key (assignments._KEY, form 3: `\w` less ASCII
# letters); 0x80 stands for any non-ASCII character (prefilter.text_shape), e.g. a Unicode letter.
_NONLETTER_KEY = r"[0-9_.$@:\-\x80]"
_SPACE = r"[\t\n\x0b\x0c\r \x1c-\x1f\x80]"  # Python's `\s` (Unicode spaces as 0x80)


def _words() -> str:
    """The ends of every key `key_word` accepts, as one alternation (matched caselessly)."""
    ends = sorted(_LAST)
    ends += [f"{q}{_NONLETTER_KEY}*key" for q in sorted(_KEY_QUALIFIERS)]
    ends += [f"{a}{_NONLETTER_KEY}*{b}" for a, b in sorted(_PAIRS)]
    return "(?:" + "|".join(ends) + ")"


# A value assignments._VAL takes, as far as its first four characters: values.value_placeholder
# drops every value shorter than that (`accesskey="I"` in generated HTML never opens the gate).
_QUOTED = rf"""(?:"[^"\n]{{{MIN_VALUE}}}|'[^'\n]{{{MIN_VALUE}}}|`[^`\n]{{{MIN_VALUE}}})"""
_VALUE = (rf"""(?:{_QUOTED}|[^\t\n\x0b\x0c\r \x1c-\x1f"'`,;&<>()\[\]{{}}=]"""
          rf"""[^\t\n\x0b\x0c\r \x1c-\x1f"'`,;&<>(){{}}]{{{MIN_VALUE - 1}}})""")


def patterns(*, code: bool = False) -> list[str]:
    """The gate's patterns; `code` (a code file, assignments._CODE_EXT): form 0 takes only quoted
    values there, so `password=None` or `token = self.token` in Python never opens the gate. The
    forms that start with the key share one pattern (one automaton behind each key-word hit: celery's
    history scans 25% faster than with one pattern per form)."""
    w = _words()
    after_key = [
        # form 0: key, quotes, optional type annotation, = : => := ?=, optional Basic/Bearer/Token, a value
        rf"""{_NONLETTER_KEY}{{0,80}}["'\]]{{0,2}}(?:[ \t]*:[ \t]*[A-Za-z_][A-Za-z0-9_\x80.\[\]]{{0,30}})?"""
        rf"""[ \t]{{0,8}}(?:=>|:=|\?=|:|=)[ \t]{{0,8}}(?:[bru]?(?:basic|bearer|token)[ \t]+)?"""
        rf"""{_QUOTED if code else _VALUE}""",
        # form 3: <key ...>value
        rf"{_NONLETTER_KEY}{{0,60}}(?:{_SPACE}[^<>\n]{{0,200}})?>[^<>\n]{{{MIN_VALUE}}}",
        # form 6: 'KEY', 'value' (define(), put(), setdefault()); form 7: setPassword("value")
        rf"""[0-9_.\-\x80]{{0,80}}["']{_SPACE}*,{_SPACE}*{_QUOTED}""",
        rf"""[0-9_\x80]{{0,60}}\({_SPACE}*{_QUOTED}""",
    ]
    return [
        w + "(?:" + "|".join(after_key) + ")",
        # form 4: name="db password" ... value="..."; form 5: <x name="password" ...>value</ (the key
        # word inside the name's quotes: `accesskey="I">index</a>` in generated HTML is neither)
        rf"""(?:name|key|id){_SPACE}*={_SPACE}*["'][^"'\n]*{w}[^A-Za-z"'\n]*["'][^<>\n]*"""
        rf"""(?:value{_SPACE}*={_SPACE}*{_QUOTED}|>[^<>\n]{{{MIN_VALUE}}})""",
        # form 1: a password / requirepass value at a line's start (redis.conf) or after a login (netrc)
        rf"""(?:^[ \t]*|(?:login|user|username)[ \t]+[^\t\n\x0b\x0c\r \x1c-\x1f]+[ \t]+)"""
        rf"""(?:password|passwd|requirepass|masterauth)[ \t]+{_VALUE}""",
        # form 2: --password value
        rf"[ \t]--(?:password|pass|passwd|token|secret|api-key|apikey|auth-token|client-secret)[ \t]+{_VALUE}",
        # forms 8, 9: database clients with -p / -a, curl -u user:value
        rf"(?:mysql|mariadb|sshpass|redis-cli|mongo|psql|sqlcmd)[^\n]{{0,200}}{_SPACE}-[pa]",
        rf"curl[^\n]{{0,200}}{_SPACE}(?:-u|--user)",
        # credfiles.k8s_secret_find: a `kind: Secret` line (case as written)
        rf"(?-i:^kind:{_SPACE}*[\"']?Secret)",
    ]


def path_features(path: str) -> tuple:
    """Everything about `path` that the parsed detectors and the value judge read (code file,
    .pgpass, lockfile, test/docs/example/vendored path): part of a blob cache key."""
    return (bool(_CODE_EXT.search(path)), bool(_PGPASS.search(path)), bool(_LOCKFILE.search(path)),
            tuple(path_reasons(path)))


class ParsedGate:
    """One hyperscan database per thread: the patterns for every kind of path (form 0 twice: its
    plain variant, id 0, does not count in code files, where its code variant does) and,
    with `extra` ((expression, flags) pairs: prefilter.RegexGate's), the regex rules' gate too, so a
    blob is scanned once for both (celery: 2 hyperscan passes per blob before)."""

    def __init__(self, extra=()):
        self._dbs: dict = {}  # per thread (a hyperscan scratch space is not shared; a forked worker
        # inherits its own copy, so the database built before the fork serves it)
        self._paths: dict[str, tuple] = {}
        self._extra = list(extra)

    def _db(self):
        me = threading.get_ident()
        db = self._dbs.get(me)
        if db is None:
            plain, code = patterns(code=False), patterns(code=True)
            assert plain[1:] == code[1:]  # noqa: S101 - only form 0 differs (id 0 plain, id len(plain) code)
            flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_MULTILINE
            found = [(p.encode(), flags) for p in [*plain, code[0]]] + self._extra
            db = self._dbs[me] = compiled([e for e, _f in found], [f for _e, f in found])
        return db

    def build(self) -> None:
        """Compile the database now (e.g. before worker processes fork, which then share it)."""
        if hyperscan is not None:
            self._db()

    def _path(self, path: str) -> tuple[bool, bool]:
        """(parsed whatever the content (.pgpass), a code file)."""
        found = self._paths.get(path)
        if found is None:
            if len(self._paths) > 100_000:
                self._paths.clear()
            found = self._paths[path] = (bool(_PGPASS.search(path)), bool(_CODE_EXT.search(path)))
        return found

    def may_match(self, data: bytes, path: str = "", *, shaped: bool = False) -> bool:
        """`shaped`: `data` is `prefilter.text_shape`'s bytes of the text assignments.py would parse
        (with `extra`, also the bytes the regex gate judges)."""
        always, code = self._path(path)
        if hyperscan is None or always or not (shaped or data.isascii()):
            return True
        try:
            self._db().scan(data, match_event_handler=_stop_in_code if code else _stop)
        except hyperscan.ScanTerminated:
            return True
        return False

    def __getstate__(self):
        raise TypeError("ParsedGate is shared with worker processes by fork, not pickled")


def _stop_in_code(pattern: int, *_args) -> bool:
    return pattern != 0  # form 0's plain variant: in a code file only its code variant counts


def _stop(*_args) -> bool:
    return True
