"""Every default rule flags its true-positive sample and not its false-positive one; rule files
load in gitleaks' format and bad ones fail naming the file and the rule."""

import pytest

from scanners.git.detector import Detector, shannon_entropy
from scanners.git.rules import RuleError, rules_load
from tests.scanners.git.samples import PATHS, samples

SAMPLES = samples()


@pytest.fixture(scope="module")
def detector():
    return Detector(rules_load())


def test_every_default_rule_has_samples():
    assert {r.id for r in rules_load().rules} == set(SAMPLES)


@pytest.mark.parametrize("rule_id", sorted(SAMPLES))
def test_rule_true_positive(detector, rule_id, settings):
    found = detector.scan(SAMPLES[rule_id][0] + "\n", path=PATHS.get(rule_id, "app/config.py"))
    assert rule_id in {m.rule_id for m in found}, found


@pytest.mark.parametrize("rule_id", sorted(SAMPLES))
def test_rule_false_positive(detector, rule_id):
    found = detector.scan(SAMPLES[rule_id][1] + "\n", path=PATHS.get(rule_id, "app/config.py"))
    assert rule_id not in {m.rule_id for m in found}, found


def test_specific_rule_wins_over_generic(detector):
    line = SAMPLES["github-pat"][0].replace("token: ", "GITHUB_TOKEN = ")
    assert [m.rule_id for m in detector.scan(line)] == ["github-pat"]


def test_inline_allow_and_redaction(detector):
    secret_line = SAMPLES["stripe-access-token"][0]
    assert detector.scan(secret_line + "  # botaudit:allow") == []
    assert detector.scan(secret_line + "  # gitleaks:allow") == []
    (m,) = detector.scan(secret_line)
    value = secret_line.split("=", 1)[1]
    assert m.redacted == f"{value[:4]}\u2026({len(value)})" and value not in repr(m)


def test_entropy():
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2


def test_custom_rules_file_in_gitleaks_format(tmp_path):
    path = tmp_path / ".gitleaks.toml"
    path.write_text('''
[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[[rules]]
id = "internal-token"
regex = \'\'\'\\b(itk_[a-z0-9]{24})\\b\'\'\'
secretGroup = 1
keywords = ["itk_"]
path = \'\'\'\\.env$\'\'\'
[[rules.allowlists]]
regexes = [\'\'\'^itk_0+$\'\'\']

[allowlist]
paths = [\'\'\'^vendor/\'\'\']
''')
    rules = rules_load(path=path)
    ids = {r.id for r in rules.rules}
    assert "internal-token" in ids and "github-pat" in ids and "generic-api-key" not in ids
    det = Detector(rules)
    token = "itk_" + "a1b2c3d4e5f6a7b8c9d0e1f2"
    assert [m.rule_id for m in det.scan(f"T={token}\n", path="app/.env")] == ["internal-token"]
    assert det.scan(f"T={token}\n", path="app/config.py") == []  # rule path does not match
    assert det.scan("T=itk_" + "0" * 24 + "\n", path="app/.env") == []  # rule allowlist
    assert det.scan(SAMPLES["github-pat"][0], path="vendor/lib.py") == []  # global allowlist path


@pytest.mark.parametrize("body,message", [
    ('[[rules]]\nid = "bad"\nregex = "(unclosed"\n', "rule 'bad': invalid regex"),
    ('[[rules]]\nregex = "x"\n', "needs a string id"),
    ('[[rules]]\nid = "g"\nregex = "x"\nsecretGroup = 2\n', "secretGroup 2 but the regex has 0"),
    ("[[rules]\n", "not valid TOML"),
    ('[[rules]]\nid = "a"\nregex = "a"\n[[rules]]\nid = "a"\nregex = "b"\n', "duplicate rule id(s): a"),
])
def test_bad_rule_files_name_file_and_rule(tmp_path, body, message):
    path = tmp_path / "rules.toml"
    path.write_text(body)
    with pytest.raises(RuleError) as exc:
        rules_load(path=path)
    assert message in str(exc.value) and str(path) in str(exc.value)


def test_hostile_regex_runs_in_linear_time(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid = "redos"\nregex = \'\'\'(a+)+$\'\'\'\n')
    det = Detector(rules_load(path=path))
    assert det.scan("a" * 50_000 + "!") == []  # catastrophic for backtracking engines


def test_prefilter_engines_agree():
    from scanners.git.prefilter import Prefilter

    rules = rules_load().rules
    hs, ac = Prefilter(rules, engine="hyperscan"), Prefilter(rules, engine="ahocorasick")
    text = "\n".join(line for pair in SAMPLES.values() for line in pair) + "\nCAF\u00c9 Api_Key SK_LIVE"
    assert hs.candidates(text) == ac.candidates(text)
    assert len(hs.candidates(text)) == len(rules)
    assert hs.candidates("nothing to see") == ac.candidates("nothing to see") == [
        i for i, r in enumerate(rules) if not r.keywords]


@pytest.mark.parametrize("line", [
    '    Credential.Store.ENV_VAR: Severity.MEDIUM,',
    '        self.sm = boto3.client("secretsmanager", endpoint_url=url, region_name=REGION)',
    '        bots["ghost-bot"], "token", ref=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ghost/token-Zz9Zz9")',
    '                 title="AWS key committed to git", first_seen=IN_WEEK,',
    '        ref: "arn:aws:secretsmanager:us-east-1:123456789012:secret:payments/sendgrid-Xk29Qa"',
    '    make_credential(orphan, "envkey", store=Credential.Store.ENV_VAR, rotation_days=None)',
    '    id="git.secret.leaked", severity=Severity.HIGH, category=Category.LEAK,',
    '    body = "-----BEGIN RSA PRIVATE KEY-----\\n" + "\\n".join(rand(ALNUM, 64) for _ in range(6))'
    '    + "-----END RSA PRIVATE KEY-----"',
])
def test_code_that_is_not_a_secret(detector, line):
    """Lines from this project's own history that a looser generic rule flagged."""
    assert detector.scan(line + "\n", path="scanners/x.py") == []


def test_rules_that_span_lines_are_known():
    from scanners.git.detector import spans_lines

    assert [r.id for r in rules_load().rules if spans_lines(r.regex.pattern)] == ["private-key", "putty-private-key"]
    assert spans_lines(r"(?s)a.*b") and spans_lines(r"x[\s\S]{10,}y") and not spans_lines(r"a[\s'\"]{0,3}b")
