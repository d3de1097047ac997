"""Credentials assigned by key name, in the common config and code formats: INI, .properties, .env,
shell `export`, YAML, JSON, TOML, XML (elements, attributes, name/value pairs), PHP `define()` and
arrays, Python / JavaScript / Java / Go / Terraform assignments, connection strings (`Password=`,
`pwd=`, `?password=`), command lines (`--password=`, `-p`) and whitespace-separated files
(`.netrc`, `requirepass`). One RE2 pass over the text finds the lines that hold a key word; only
those lines are parsed. Yields (key, value, start, end) with offsets into the text."""

from __future__ import annotations

import re
import threading

from .hsdb import compiled
from .prefilter import text_shape

try:
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

# Only lines holding one of these (any case) are parsed.
VOCAB = ("pass", "pw", "psk", "secret", "token", "key", "auth", "cred", "salt", "mysql", "mariadb", "redis-cli",
         "mongo", "curl", "psql", "sqlcmd")
_KEY = r"""[A-Za-z_$@-][\w.$@-]{0,80}"""
_VAL = r"""(?:"([^"\n]{1,300})"|'([^'\n]{1,300})'|`([^`\n]{1,300})`|([^\s"'`,;&<>()\[\]{}=][^\s"'`,;&<>(){}]{0,300}))"""
# Python `re` on single lines of at most 1,000 characters, every repetition bounded.
_FORMS = [re.compile(p) for p in (
    # key = value, key: value, "key": "value", 'key' => 'value', key := value, --key=value, Key=value;
    r"""(?:^|[^\w.$@-])["']?(""" + _KEY + r""")["'\]]{0,2}(?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\]]{0,30}(?=[ \t]*=[^=>]))?"""
    r"""[ \t]{0,8}(?:=>|:=|\?=|:|=)[ \t]{0,8}"""
    r"""(?:[bru]?(?:Basic|Bearer|Token)[ \t]+)?""" + _VAL,
    # key value: .netrc (`login u password p`), redis.conf (`requirepass p`), command-line flags
    r"""(?i)(?:^[ \t]*|\b(?:login|user|username)[ \t]+\S+[ \t]+)(password|passwd|requirepass|masterauth)[ \t]+"""
    + _VAL,
    r"""(?i)[ \t](--password|--pass|--passwd|--token|--secret|--api-key|--apikey|--auth-token|--client-secret)[ \t]+"""
    + _VAL,
    # <Password>value</Password>, <Pass encoding="base64">value</Pass>
    r"""<(\w[\w.:-]{0,60})(?:\s[^<>]{0,200})?>([^<>\n]{1,300})</""",
    # name="password" value="..." (IDE, .NET appSettings, Maven/Spring XML), name="x">value</
    r"""(?i)\b(?:name|key|id)\s*=\s*["']([^"'\n]{1,80})["'][^<>\n]{0,200}?\bvalue\s*=\s*"""
    r"""(?:"([^"\n]{1,300})"|'([^'\n]{1,300})')""",
    r"""(?i)<\w+[^<>\n]{0,100}\b(?:name|key)\s*=\s*["']([^"'\n]{1,80})["'][^<>\n]{0,100}>([^<>\n]{1,300})</""",
    # define('KEY', 'value'), put("password", "value"), setdefault('TOKEN', "value")
    r"""["']([\w.-]{1,80})["']\s*,\s*(?:"([^"\n]{1,300})"|'([^'\n]{1,300})')""",
    # setPassword("value"), withToken('value')
    r"""\b(?:set|with|put)(\w{1,60})\(\s*(?:"([^"\n]{1,300})"|'([^'\n]{1,300})')""",
    # mysql -pVALUE, mysql -p VALUE, redis-cli -a VALUE, sshpass -p VALUE
    r"""(?i)\b((?:mysql\w*|mariadb\w*|sshpass|redis-cli|mongo\w*|psql|sqlcmd)\b[^\n]{0,120}?\s-[pPa])[ \t]?""" + _VAL,
    # curl -u user:VALUE, wget --user=u --password=VALUE (the latter by the first form)
    r"""(?i)\b(curl\b[^\n]{0,200}?\s(?:-u|--user)[ \t=]?["']?[^\s:"']{1,64}:)""" + _VAL,
)]

_LAST = frozenset([
    "password", "passwd", "pwd", "pw", "pass", "passphrase", "passcode", "passwort", "psw", "pword", "secret", "token",
    "apikey", "auth", "authtoken", "credential", "credentials", "creds", "salt", "requirepass", "masterauth",
    "authorization", "psk", "apitoken", "accesstoken", "secretkey", "privatekey", "accesskey", "clientsecret", "appkey",
    "masterkey", "signingkey", "encryptionkey", "authkey", "apisecret", "sas"
])
_KEY_QUALIFIERS = frozenset([
    "api", "secret", "private", "access", "signing", "sign", "encryption", "encrypt", "crypt", "cipher", "app",
    "application", "master", "auth", "nonce", "in", "account", "storage", "session", "hmac", "jwt", "shared", "service",
    "subscription", "consumer", "webhook", "admin", "client", "aes", "fernet", "cookie", "secure", "sas", "symmetric",
    "machine", "validation", "decryption", "license"
])
_PAIRS = frozenset({("secret", "id"), ("key", "base"), ("secret", "base"), ("key", "data")})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_CODE_EXT = re.compile(r"\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|java|kt|kts|scala|groovy|go|rb|php|cs|vb|fs|rs|c|cc|cpp|h"
                       r"|hpp|m|swift|dart|lua|pl|r|ex|exs|erl|clj|vue|svelte|tf|hcl)$")


def key_word(key: str) -> str | None:
    """The key word that makes `key` name a secret ('password' in 'DB_PASSWORD'), or None."""
    words = [w.lower() for w in _WORDS.findall(key) if not w.isdigit()]
    if not words:
        return None
    last = words[-1]
    if last in _LAST:
        return last
    if len(words) > 1 and (last == "key" and words[-2] in _KEY_QUALIFIERS or (words[-2], last) in _PAIRS):
        return f"{words[-2]}_{last}"
    return None


def _vocab_database():
    if hyperscan is None:  # pragma: no cover - platforms without a hyperscan wheel
        return None
    return compiled([w.encode() for w in VOCAB], [hyperscan.HS_FLAG_CASELESS] * len(VOCAB))


_VOCAB_RE = re.compile("|".join(map(re.escape, VOCAB)), re.I)
_HS = {}  # per thread (a hyperscan scratch space is not shared; a forked worker inherits its own copy)
# A line is parsed only when a key word is followed by a separator (or it runs a database client).
_GATE = re.compile(r"""(?i)(?:pass|pw|psk|secret|token|key|auth|cred|salt)[\w.-]{0,40}["'\]]{0,2}[ \t]{0,8}"""
                   r"""(?:[=:,(>]|[ \t]\S)|mysql|mariadb|redis-cli|mongo|psql|sqlcmd|curl""")
_NEEDS = {2: "--", 3: "<", 4: "=", 5: "<", 6: ",", 7: "(", 8: "-", 9: "-"}


def vocab_database():
    """This thread's key-word database (built on first use; Detector.gates_build builds it early)."""
    me = threading.get_ident()
    return _HS.get(me) or _HS.setdefault(me, _vocab_database())


def _hits(text: str) -> list[int]:
    """Offsets where a key word ends (hyperscan over the text's ASCII shape, prefilter.text_shape;
    `re` when a character folds to an ASCII letter). Only the lines they fall in matter."""
    data = None
    if hyperscan is not None:  # one byte per character either way: offsets are in characters
        data = text.encode("ascii") if text.isascii() else text_shape(text)
    if data is not None:
        db = vocab_database()
        hits = []
        db.scan(data, match_event_handler=lambda _i, _f, to, _fl, _c: hits.append(to))
        return sorted(hits)
    return [m.end() for m in _VOCAB_RE.finditer(text)]  # offsets in characters, whatever the encoding


def _candidate_lines(text: str):
    """(line start, line) for each line holding a key word, in order."""
    line_end = -1
    for pos in _hits(text):
        if pos <= line_end:
            continue
        start = text.rfind("\n", 0, pos) + 1
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end < 0 else line_end
        yield start, text[start:line_end]


def assignments_find(text: str, *, path: str = ""):
    """(key word, value, start, end) of each value assigned to a secret-naming key in `text`."""
    code = bool(_CODE_EXT.search(path))
    for base, line in _candidate_lines(text):
        if len(line) > 1000 or not _GATE.search(line):  # minified or generated; no assignment shape
            continue
        seen = set()
        for index, form in enumerate(_FORMS):
            if _NEEDS.get(index, "") not in line:
                continue
            pos = 0
            while (m := form.search(line, pos)) is not None:
                found = _match_value(m, index, code)
                # a key that names no secret may hold a connection string: look inside its value
                pos = m.end() if found else m.end(1)
                if found is None or found[1] in seen:
                    continue
                word, start, end = found
                seen.add(start)
                yield word, line[start:end], base + start, base + end


def _match_value(m, index: int, code: bool):
    key = m.group(1)
    word = "command-line password" if index in (8, 9) else key_word(key)
    if word is None:
        return None
    groups = [g for g in range(2, m.re.groups + 1) if m.group(g) is not None]
    if not groups:
        return None
    g = groups[0]
    unquoted = index in (0, 1, 2, 8, 9) and g == m.re.groups
    if unquoted and code and index == 0:
        return None  # code: only literal strings are values
    if index in (1, 2) and unquoted and m.group(g).isalpha() and m.group(g).islower():
        return None  # prose: "the password is stored ..."
    return word, m.start(g), m.end(g)
