"""The native gates (prefilter.RegexGate, parsedgate.ParsedGate, via Detector.may_match) are
supersets: whenever the detector or the parsed detectors find anything in a text (a value they
judge a secret, or merely a candidate they judge away), the gate says "may match", on ASCII and
on non-ASCII text (judged through prefilter.text_shape). And they close on text without any
candidate, so such blobs never reach Python."""

import random

import pytest

from scanners.git.assignments import _KEY_QUALIFIERS, _LAST, assignments_find
from scanners.git.credfiles import credfiles_find
from scanners.git.detector import Detector, text_decode
from scanners.git.parsed import parsed_find
from scanners.git.parsedgate import ParsedGate
from scanners.git.prefilter import text_shape
from scanners.git.rules import rules_load
from scanners.git.values import MIN_VALUE
from tests.scanners.git.corpus.generate import corpus_build
from tests.scanners.git.samples import PATHS, samples

pytestmark = pytest.mark.fast

UNICODE = ["é", "ü", "—", "✓", "日本", "\u00a0", "\u2003", "\ufffd", "ß", "Ω", "٣"]


@pytest.fixture(scope="module")
def detector():
    found = Detector(rules_load())
    return found


def test_non_ascii_text_is_gated_by_default():
    text = CLEAN.replace("Ask Solem", "Ask Sølem")
    assert not Detector(rules_load()).may_match(CLEAN.encode(), "celery/utils.py")
    assert not Detector(rules_load()).may_match(text.encode(), "celery/utils.py")
    assert Detector(rules_load()).may_match(text.replace("Keys:", 'Keys:\n    token = "s3cRét"').encode(),
                                            "celery/utils.py")


def _candidates(text: str, path: str) -> bool:
    """The parsed detectors yield a candidate the value judge could keep (values shorter than
    MIN_VALUE characters never are: values.value_placeholder)."""
    return (any(len(value) >= MIN_VALUE for _w, value, _s, _e in assignments_find(text, path=path))
            or any(True for _ in credfiles_find(text, path=path)))


def _finds_anything(detector, text: str, path: str) -> bool:
    decoded = text_decode(text.encode())
    return bool(detector.scan(decoded, path=path) or _candidates(decoded, path))


def _unicode_variants(text: str, rng: random.Random) -> list[str]:
    """The text with non-ASCII characters before it, inside its lines and after its key words."""
    out = ["# café — ünïcode ✓\n" + text]
    out.append("".join(c + (rng.choice(UNICODE) if c in " =:\"'" and rng.random() < 0.3 else "") for c in text))
    out.append(text.replace("\n", " ü\n"))
    return out


def test_corpus_and_samples_pass_the_gate(detector):
    files, _values = corpus_build(seed=3)
    rng = random.Random(5)
    cases = [(f.text, f.path) for f in files]
    cases += [(line + "\n", f.path) for f in files for line in f.text.splitlines()]
    for rule_id, (positive, negative) in samples().items():
        cases += [(positive + "\n", PATHS.get(rule_id, "app/config.py")), (negative + "\n", "app/config.py")]
    found = 0
    for text, path in list(cases):
        cases += [(variant, path) for variant in _unicode_variants(text, rng)]
    for text, path in cases:
        if _finds_anything(detector, text, path):
            found += 1
            assert detector.may_match(text.encode(), path), (path, text[:200])
    assert found > 1000


def _fuzz_line(rng: random.Random) -> str:
    key = rng.choice([*sorted(_LAST), *(f"{q}{rng.choice(['', '_', '-', '.', '2'])}key" for q in
                                        sorted(_KEY_QUALIFIERS)), "secret_id", "keyData", "name", "author", "pass"])
    key = rng.choice([key, key.upper(), key.title(), f"db_{key}", f"my{key.title()}", f"{key}{rng.choice('1_$é')}"])
    value = rng.choice(["s3cR" + "".join(rng.choice("abcdefXYZ0189") for _ in range(12)), "x", "${VAR}", "hunter"])
    value = rng.choice([value, value + rng.choice(UNICODE)])
    form = rng.choice([
        "{k} = {v}", "{k}: {v}", '"{k}": "{v}"', "'{k}' => '{v}'", "{k} := \"{v}\"", "--{k}={v}", "{k}={v};",
        "export {k}={v}", "<{k}>{v}</{k}>", '<add name="{k}" value="{v}"/>', "define('{k}', '{v}');",
        'set{K}("{v}")', "password {v}", "login u password {v}", "requirepass {v}", "cmd --password {v}",
        "mysql -u root -p{v} db", "redis-cli -a {v}", "curl -u user:{v} https://h", "{k} {v}", "{k}\t: {v}",
        '<entry key="{k}">{v}</entry>', "{k}: str = \"{v}\"",
    ])
    line = form.format(k=key, K=key[:1].upper() + key[1:], v=value)
    if rng.random() < 0.3:
        line = rng.choice(UNICODE) + " " + line
    return rng.choice(["", "    ", "\t"]) + line


def test_parsed_gate_is_a_superset_on_fuzzed_assignments():
    """Closed means nothing the value judge could keep: no candidate of MIN_VALUE characters or
    more, and no parsed finding. Candidates with shorter values close it (they are never kept)."""
    gate, rng = ParsedGate(), random.Random(11)
    opened = closed_short = 0
    for _ in range(6000):
        text = _fuzz_line(rng) + "\n"
        for path in ("app/settings.py", "config/app.env", "conf/app.xml"):
            data = text.encode()
            shaped = not data.isascii()
            if gate.may_match(text_shape(text) if shaped else data, path, shaped=shaped):
                opened += _candidates(text, path)
                continue
            assert not _candidates(text, path) and not list(parsed_find(text, path=path)), (path, text)
            closed_short += any(True for _ in assignments_find(text, path=path))
    assert opened > 3000 and closed_short > 100


def test_parsed_gate_closes_on_code_that_assigns_no_literal_and_on_short_values():
    gate = ParsedGate()
    for text, path in [("password=None\n", "celery/backends/redis.py"), ("token = self.token\n", "app/api.py"),
                       ('kwargs["password"] = password\n', "app/api.py"), ('<a accesskey="I">ix</a>\n', "x.html"),
                       ("password: abc\n", "conf/app.yaml")]:
        assert not gate.may_match(text.encode(), path), (path, text)
    for text, path in [('password = "s3cRt"\n', "app/api.py"), ("password=None1\n", "conf/app.env"),
                       ('<add key="ApiKey" value="k3y9"/>\n', "web.config")]:
        assert gate.may_match(text.encode(), path), (path, text)


def test_kubernetes_secret_and_pgpass_open_the_gate(detector):
    secret = "apiVersion: v1\nkind: Secret\nstringData:\n  thing: " + "Zq8rT2vW9xKp4\n"
    assert detector.may_match(secret.encode(), "k8s/s.yaml")
    assert not detector.may_match(secret.replace("Secret", "ConfigMap").encode(), "k8s/s.yaml")
    line = "db.example.net:5432:app:app:" + "Zq8rT2vW9xK\n"
    assert detector.may_match(line.encode(), "home/.pgpass")
    assert not detector.may_match(b"db:5432:app:app\n", "notes/hosts.txt")


CLEAN = '''"""A module with nothing secret in it."""

__author__ = "Ask Solem"


def add(x, y):
    """Return the key of the sum."""
    if x is None:
        pass
    return x + y


class Keys:
    monkey = 1
'''


def test_the_gate_closes_on_text_without_candidates(detector):
    assert not detector.may_match(CLEAN.encode(), "celery/utils.py")
    clean_unicode = CLEAN.replace("Ask Solem", "Ask Sølem — ✓ 日本")
    assert not detector.may_match(clean_unicode.encode(), "celery/utils.py")
    assert detector.may_match(clean_unicode.encode("utf-8")[:-3] + b"\xff\xfe\n", "celery/utils.py")  # not UTF-8


@pytest.mark.parametrize("fold", ["\u0130", "\u0131", "\u017f", "\u212a"])
def test_characters_that_fold_to_ascii_letters_keep_the_gate_open(detector, fold):
    assert text_shape(f"x{fold}y") is None
    assert detector.may_match(CLEAN.replace("Solem", f"Solem {fold}").encode(), "celery/utils.py")


def test_text_shape_keeps_offsets_in_characters():
    text = "é = 1\n日本 password = 'x' ✓\n"
    shaped = text_shape(text)
    assert len(shaped) == len(text)
    assert shaped.index(b"password") == text.index("password")
    assert set(shaped) - set(text.encode("ascii", "ignore")) == {0x80}


def test_one_blob_at_two_kinds_of_path_is_judged_at_each(tmp_path):
    """The blob cache key holds what the value judge reads in a path: the same blob under
    examples/ is an example (low confidence), under src/ it is not, whichever was scanned first."""
    from scanners.git.scan import repo_scan
    from tests.scanners.git.gitrepo import Repo

    repo = Repo(tmp_path / "r")
    text = '{"user": "app", "password": "' + "Zq8rT2vW9xKp4mL" + '"}\n'
    repo.commit({"src/initial_data.json": text})
    repo.commit({"src/initial_data.json": text, "examples/initial_data.json": text})
    leaks = {x.file: x for x in repo_scan(repo=repo.repo, detector=Detector(rules_load()), workers=1).leaks}
    assert leaks["src/initial_data.json"].confidence == "medium"
    assert leaks["examples/initial_data.json"].confidence == "low"
    assert "example path" in leaks["examples/initial_data.json"].reasons


def test_k8s_secret_values_are_found_on_every_line_of_data_and_string_data():
    """`data:` / `stringData:` items start mid-text: the item pattern must match at each line start
    (it matched only at offset 0 before, so no k8s Secret value was ever a candidate)."""
    text = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n"
            "  password: c3VwZXJzZWNyZXRwYXNzd29yZDEyMw==\n  other: b3RoZXJzZWNyZXQ=\n"
            "stringData:\n  token: abcdefghijklmnop1234\nnot-data: x\n")
    found = [(rule, value) for rule, value, start, end in credfiles_find(text, path="k8s/db.yaml")
             if text[start:end] == value]
    assert found == [("k8s-secret-data", "c3VwZXJzZWNyZXRwYXNzd29yZDEyMw=="),
                     ("k8s-secret-data", "b3RoZXJzZWNyZXQ="), ("k8s-secret-data", "abcdefghijklmnop1234")]
