"""Judge a candidate secret value: is it a secret at all (placeholders, references, public keys,
UUIDs, hashes, images and code are not), and how confident is the finding (`high` | `medium` |
`low`, with the reasons). Pure functions over the value, its key name, its line and its path."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter

LEVELS = ("low", "medium", "high")

# Rules whose matches are judged like a name-assigned value (no known prefix), or are credential
# file formats; every other regex rule has a known prefix or structure and starts `high`.
URL_RULES = frozenset({"url-credentials", "jdbc-oracle-credentials"})
CREDFILE_RULES = frozenset({"password-hash", "pgpass-password", "k8s-secret-data"})

_PLACEHOLDER = re.compile(
    r"""^(?:\$\{[^}]*\}?|\$\(.*\)|\$[A-Za-z_]\w*|%\(\w+\)[sd]|%[sd]|%\w+%|%env\(.*\)%|\{\{.*\}\}|\{%.*%\}|\{\w*\}
    |<%.*%>|<[^<>]*>|\[[^\[\]]*\]|\#\{.*\}|@\w+@|__\w+__|ENC\[.*|!vault.*|\$ANSIBLE_VAULT.*|vault:.*|ref\+.*
    |[xX*.#_-]{3,}|(.)\1{5,}|0+|1234\d*|abcd\w*|\w*[xX]{4,}\w*)$""", re.X | re.S)
_REFERENCE = re.compile(
    r"""(?:os\.environ|os\.getenv|getenv\(|process\.env|import\.meta\.env|System\.getenv|ENV\[|ENV\.fetch|env\(
    |\benviron\b|settings\.|config\.|secrets\.|Secret\(|\bvars\.|\$\{\{|valueFrom|secretKeyRef|!Ref|!Sub|!GetAtt
    |lookup\(|keyring\.|getpass|input\(|prompt\()""", re.X)
# Placeholder words: long ones anywhere in the value, short ones only as a word of it ("fake_token",
# "test-password"), so a random value that happens to hold "nil" or "bar" is not taken for one.
_PLACEHOLDER_SUBSTRINGS = re.compile(
    r"(?i)example|sample|placeholder|dummy|changeme|change_me|change-me|replace|redacted|removed|insert|notasecret"
    r"|not[_-]a[_-]|lorem|ipsum|fixme|foobar|default|undefined|your[_-]|yourpass|my[_-]?(?:pass|secret|token|key)")
_PLACEHOLDER_TOKENS = frozenset({"test", "fake", "mock", "stub", "foo", "bar", "baz", "qux", "todo", "none", "null",
                                 "nil", "here", "demo", "secret", "pass", "password", "token", "key", "xxx"})
_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def placeholder_words(value: str) -> bool:
    return bool(_PLACEHOLDER_SUBSTRINGS.search(value)) or any(
        t.lower() in _PLACEHOLDER_TOKENS for t in _TOKENS.findall(value))


_CONFIG_WORDS = frozenset([
    "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "required", "optional", "disabled", "enabled",
    "string", "str", "bool", "boolean", "int", "integer", "number", "object", "array", "any", "auto", "plain", "basic",
    "bearer", "oauth", "oauth2", "jwt", "md5", "sha1", "sha256", "scram-sha-256", "trust", "peer", "ident", "password",
    "passwd", "secret", "token", "hidden", "masked", "text", "env", "file", "vault", "keyring", "prompt", "ask",
    "stdin", "yaml", "json", "admin", "root", "guest", "user", "username", "tiger", "postgres", "mysql", "redis",
    "changeit", "foobared", "letmein", "welcome", "public", "private"
])
# Values published in documentation as well-known development credentials.
_PUBLIC_VALUES = frozenset({
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",  # Azurite
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",  # AWS docs
    "minioadmin", "hunter2", "s3cr3t", "P@ssw0rd", "Passw0rd", "password123", "secret123", "admin123",
})
_DOC_PAIRS = frozenset({("guest", "guest"), ("scott", "tiger"), ("user", "password"), ("root", "root"),
                        ("admin", "admin"), ("user", "pass"), ("username", "password"), ("postgres", "postgres"),
                        ("admin", "password"), ("root", "password"), ("test", "test"), ("sa", "sa"),
                        ("user", "secret"), ("foo", "bar"), ("me", "secret")})
_NOT_SECRET = re.compile(
    r"""^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}   # UUID
    |sha(?:1|256|384|512)-[A-Za-z0-9+/=]{20,}                               # SRI integrity
    |data:[\w/+.-]+;base64,.*                                               # inline images
    |(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-\S+|sk-ssh-\S+)\s.*              # public keys
    |-----BEGIN\ (?:PUBLIC\ KEY|CERTIFICATE|X509|PGP\ PUBLIC|SSH2\ PUBLIC|RSA\ PUBLIC)[\s\S]*
    |v?\d+(?:[.:-]\d+)*                                                     # numbers, versions, ports
    |[a-z][\w+.-]*://[^:@/\s]*(?:/.*)?                                      # URLs without a password
    |(?:\.{0,2}/|~/|[A-Za-z]:\\)\S*                                         # file paths
    |[\w.+-]+@[\w-]+\.[\w.-]+                                               # e-mail addresses
    )$""", re.X)
_IDENTIFIER = re.compile(r"^(?:[A-Za-z_$]+(?:\.[A-Za-z_$]+)+(?:\(\))?|[A-Za-z]+(?:_[A-Za-z]+)+"
                         r"|[a-z]+(?:[A-Z][a-z]+)+|(?:[A-Z][a-z]+){2,}|[a-z]+(?:-[a-z]+)+|[A-Za-z_]\w*\(.*\)?)$")
_LOCKFILE = re.compile(r"(?:^|/)(?:go\.sum|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml"
                       r"|poetry\.lock|Pipfile\.lock|Cargo\.lock|composer\.lock|Gemfile\.lock|requirements[\w.-]*\.txt|uv\.lock)$")
_TEST_PATH = re.compile(r"(?i)(?:^|/)(?:tests?|t|spec|specs|__tests__|testing|testdata|fixtures?|mocks?)/|(?:^|/)"
                        r"(?:test_[^/]*|[^/]*_test\.\w+|[^/]*\.(?:test|spec)\.\w+|conftest\.py|[^/]*_spec\.rb)$")
_DOCS_PATH = re.compile(r"(?i)(?:^|/)(?:docs?|documentation|man|wiki)/|\.(?:md|rst|txt|adoc|asciidoc|textile|ipynb)$"
                        r"|(?:^|/)(?:README|CHANGE(?:S|LOG)|HISTORY|FAQ)[^/]*$")
_EXAMPLE_PATH = re.compile(r"(?i)(?:^|/)(?:examples?|samples?|demos?|tutorials?|quickstart|extra)/"
                           r"|\.(?:example|sample|dist|template|tpl|tmpl)(?:\.\w+)?$|[._-](?:example|sample)\.\w+$")
_VENDOR_PATH = re.compile(r"(?:^|/)(?:node_modules|vendor|third_party|site-packages|\.?venv|bower_components)/")
_PLACEHOLDER_HOST = re.compile(
    r"(?i)^(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|::1|\[::1\]|host|hostname|myhost|server|example"
    r"|[\w.-]*\.?example(?:\.(?:com|org|net))?|[\w.-]+\.(?:local|test|invalid|localhost|example)|[a-z][\w-]*)$")
_URL_AUTH = re.compile(r"://([^\s:/@'\"`]{1,64}):([^\s:/@'\"`]{1,128})@(\[[^\]]*\]|[A-Za-z0-9_.-]+)")
_ORACLE = re.compile(r"(?i)jdbc:oracle:\w+:([^/\s:@]+)/([^@\s]+)@([\w.-]+)")


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def path_reasons(path: str) -> list[str]:
    """What the path says about a finding there: tests, docs, examples or vendored code."""
    reasons = []
    for reason, pattern in (("test path", _TEST_PATH), ("docs path", _DOCS_PATH), ("example path", _EXAMPLE_PATH),
                            ("vendored path", _VENDOR_PATH)):
        if pattern.search(path):
            reasons.append(reason)
    return reasons


def base64_text(value: str) -> str | None:
    """The text a base64 value encodes, when it is printable text (docker auth, k8s data, site files)."""
    if len(value) < 8 or len(value) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return text if text.isprintable() else None


MIN_VALUE = 4  # characters: a shorter value is never reported (parsedgate.py relies on it)


def value_placeholder(value: str, *, words: bool = True) -> bool:
    """A placeholder, a reference or an obviously non-secret shape: never reported. With `words`,
    also a bare configuration word (`password`, `guest`, `none` ...)."""
    v = value.strip()
    if len(v) < MIN_VALUE or v in _PUBLIC_VALUES or (words and v.lower() in _CONFIG_WORDS):
        return True
    if _PLACEHOLDER.match(v) or _NOT_SECRET.match(v) or _REFERENCE.search(v):
        return True
    decoded = base64_text(v)
    return decoded is not None and decoded != v and value_placeholder(decoded.split(":", 1)[-1])


def _url_pair(line: str, value: str) -> tuple[str, str] | None:
    for pattern in (_URL_AUTH, _ORACLE):
        for m in pattern.finditer(line):
            if m.group(2) == value:
                return m.group(1), m.group(3)
    return None


def _lower(level: str) -> str:
    return LEVELS[max(0, LEVELS.index(level) - 1)]


def value_judge(*, value: str, kind: str, line: str = "", path: str = "", key: str = "",
                strict: bool = False) -> tuple[str, tuple[str, ...]] | None:
    """(confidence, reasons) for a candidate, or None when it is not a secret. `kind`: `prefix` (a
    rule with a known prefix or structure), `url` (a password in a URL or connection string),
    `credfile` (a credential-file format), `assigned` or `generic` (a value assigned to a key name).
    `strict` (BotAudit's own name-assigned detector) also drops identifiers, words and code."""
    reasons = path_reasons(path)
    if kind == "prefix":
        level = "medium" if reasons else "high"
        return level, ("known prefix", *reasons)
    v = value.strip()
    if value_placeholder(v, words=kind != "url") or (kind != "credfile" and _LOCKFILE.search(path)) or len(line) > 1000:
        return None
    weak = _IDENTIFIER.match(v) or " " in v or v.isalpha() and (len(v) <= 12 or v.islower() or v.isupper())
    if strict and (weak or v.startswith("-") or placeholder_words(v) or (key and key.lower() in v.lower())):
        return None
    entropy = shannon_entropy(v)
    reasons.insert(0, f"entropy {entropy:.1f}")
    if key:
        reasons.insert(0, f"key name {key!r}")
    level = "medium"
    if kind == "url":
        pair = _url_pair(line, v)
        if pair and _PLACEHOLDER_HOST.match(pair[1].strip("[]")):
            reasons.append("placeholder host")
            level = _lower(level)
        if pair and ((pair[0].lower(), v.lower()) in _DOC_PAIRS or pair[0] == v):
            reasons.append("documentation pair")
            level = "low"
    if weak or placeholder_words(v) or entropy < 2.5 or len(v) < 8:
        reasons.append("weak value")
        level = "low"
    if any(r.endswith(" path") for r in reasons):
        level = "low"
    return level, tuple(reasons)


def rule_kind(rule) -> str:
    if rule.id in URL_RULES:
        return "url"
    if rule.id in CREDFILE_RULES:
        return "credfile"
    return "generic" if rule.generic else "prefix"
