"""Extract gitleaks' own true/false-positive examples (the `tps` / `fps` lists its config generator
validates every default rule with, cmd/generate/config/rules/*.go) into a test data file, keep
only those the real gitleaks binary agrees with, and write them base64-encoded (so that secret
scanners, this one included, do not flag the data file itself).

    python benchmarks/gitleaks_examples.py --repo /work/.mirror/gitleaks+gitleaks/repo --tag v8.30.1 \\
        --gitleaks /work/peers/gl/bin/gitleaks --config tests/scanners/git/data/gitleaks-8.30.toml \\
        --out tests/scanners/git/data/gitleaks-examples.json

Only what a small evaluator of Go expressions can rebuild is kept: string literals, `+`,
`[]string{}` / `map[string]string{}`, `append`, utils.GenerateSampleSecret(s), the pattern helpers
(AlphaNumeric, Hex, ...) and secrets.NewSecret / newPlausibleSecret over simple regexes (random
values from a fixed seed). The rest is counted as skipped. gitleaks validates each rule alone with
the global allowlist and no decoding (utils.Validate); the check here does the same: a config with
that one rule, `--max-decode-depth 0`, one file per example.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

TOKEN = re.compile(r'`[^`]*`|"(?:[^"\\\n]|\\.)*"|\.\.\.|[A-Za-z_][\w.]*|//[^\n]*|/\*.*?\*/|\s+|.', re.S)
DIGIT = re.compile(r"[1-9]")
SAMPLES = {  # utils.GenerateSampleSecrets' templates (generate.go)
    "{i}Token=\"{s}\"", "{i}Token = \"{s}\"", "{i}Token={s}", "{i}Token = {s}",
    "{\n    \"{i}_token\": \"{s}\"\n}", '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
    "<{i}Token>\n    {s}\n</{i}Token>", "{i}_token: {s}", "{i}_token: '{s}'", "{i}_token: \"{s}\"",
    'string {i}Token = "{s}";', 'var {i}Token string = "{s}"', '{i}Token := "{s}"', "{i}Token := `{s}`",
    'String {i}Token = "{s}";', 'var {i}Token = "{s}"', '${i}Token .= "{s}"', "{i}Token = '{s}'",
    'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"',
    '{i}_TOKEN = "{s}"', '{i}_TOKEN := "{s}"', '{i}_TOKEN ::= "{s}"', '{i}_TOKEN :::= "{s}"', '{i}_TOKEN ?= "{s}"',
}
PATTERNS = {"Numeric": "[0-9]{%s}", "Hex": "[a-f0-9]{%s}", "AlphaNumeric": "[a-z0-9]{%s}",
            "AlphaNumericExtendedShort": "[a-z0-9_-]{%s}", "AlphaNumericExtended": r"[a-z0-9=_\-]{%s}",
            "AlphaNumericExtendedLong": r"[a-z0-9\/=_\+\-]{%s}"}


class Unsupported(Exception):
    pass


def go_string(tok: str) -> str:
    if tok.startswith("`"):
        return tok[1:-1]
    return json.loads(re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", tok))


# --- a random string for a simple regex (what secrets.NewSecret does with a regex generator) -----
def _class(p: str, i: int) -> tuple[list[str], int]:
    chars, i = [], i + 1
    if p[i] == "^":
        raise Unsupported("negated class")
    while p[i] != "]" or not chars:
        c = p[i]
        if c == "\\":
            c, i = {"w": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", "d": "0123456789"}.get(
                p[i + 1], p[i + 1]), i + 1
            chars.extend(c)
        elif i + 2 < len(p) and p[i + 1] == "-" and p[i + 2] != "]":
            chars.extend(chr(x) for x in range(ord(c), ord(p[i + 2]) + 1))
            i += 2
        else:
            chars.append(c)
        i += 1
    return chars, i + 1


def _repeat(p: str, i: int) -> tuple[int, int, int]:
    if i < len(p) and p[i] == "{":
        j = p.index("}", i)
        lo, comma, hi = p[i + 1:j].partition(",")
        return int(lo), int(hi) if hi else int(lo) + 8 * bool(comma), j + 1
    if i < len(p) and p[i] in "?*+":
        return {"?": (0, 1), "*": (0, 8), "+": (1, 8)}[p[i]] + (i + 1,)
    return 1, 1, i


def regex_sample(p: str, rnd: random.Random) -> str:
    out, i = [], 0
    while i < len(p):
        c = p[i]
        if c == "[":
            chars, i = _class(p, i)
        elif c == "\\":
            chars, i = [p[i + 1]], i + 2
        elif c in "()|^$.":
            raise Unsupported(f"regex construct {c!r}")
        else:
            chars, i = [c], i + 1
        lo, hi, i = _repeat(p, i)
        out.extend(rnd.choice(chars) for _ in range(rnd.randint(lo, hi)))
    return "".join(out)


# --- a tiny evaluator of the Go expressions the tps/fps lists are written in --------------------
class Parser:
    def __init__(self, tokens: list[str], rnd: random.Random, stopwords: list[str]):
        self.t, self.i, self.rnd, self.stopwords = tokens, 0, rnd, stopwords
        self.skipped = 0

    def peek(self) -> str:
        return self.t[self.i] if self.i < len(self.t) else ""

    def take(self, expect: str | None = None) -> str:
        tok = self.peek()
        if expect is not None and tok != expect:
            raise Unsupported(f"expected {expect!r}, got {tok!r}")
        self.i += 1
        return tok

    def skip_to_end_of_item(self) -> None:
        depth = 0
        while self.peek() and not (depth == 0 and self.peek() in (",", "}", ")")):
            depth += self.peek() in "({[" and 1 or 0
            depth -= self.peek() in ")}]" and 1 or 0
            self.i += 1

    def items(self, close: str, keyed: bool = False) -> list:
        out = []
        while self.peek() != close:
            start = self.i
            try:
                key = None
                if keyed:
                    key = self.string()
                    self.take(":")
                value = self.expr()
                out.extend([(key, v) for v in value] if isinstance(value, list) else [(key, value)])
            except (Unsupported, IndexError, ValueError):
                self.i = start
                self.skip_to_end_of_item()
                self.skipped += 1
            if self.peek() == ",":
                self.take()
        self.take(close)
        return out

    def expr(self):
        value = self.term()
        while self.peek() == "+":
            self.take()
            right = self.term()
            if isinstance(value, list) or isinstance(right, list):
                raise Unsupported("+ on lists")
            value += right
        if self.peek() == "...":
            self.take()
        return value

    def string(self) -> str:
        value = self.expr()
        if not isinstance(value, str):
            raise Unsupported("not a string")
        return value

    def call_args(self) -> list:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.expr())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return args

    def term(self):
        tok = self.peek()
        if tok.startswith(("`", '"')):
            return go_string(self.take())
        if tok == "[":
            for part in ("[", "]", "string", "{"):
                self.take(part)
            return [v for _k, v in self.items("}")]
        if tok == "map":
            for part in ("map", "[", "string", "]", "string", "{"):
                self.take(part)
            return self.items("}", keyed=True)
        name = self.take()
        if name in ("tps", "fps") and self.peek() != "(":  # append(tps, ...): what the list holds so far
            return []
        if name == "append":
            args = self.call_args()
            return [x for a in args[1:] for x in (a if isinstance(a, list) else [a])]
        helper = name.split(".")[-1]
        args = self.call_args()
        if helper in PATTERNS:
            return PATTERNS[helper] % args[0]
        if helper == "Hex8_4_4_4_12":
            return "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        if helper == "NewSecret":
            return regex_sample(args[0], self.rnd)
        if helper == "newPlausibleSecret":
            for _ in range(1000):
                value = regex_sample(args[0], self.rnd)
                if DIGIT.search(value) and not any(w in value.lower() for w in self.stopwords):
                    return value
            raise Unsupported("no plausible secret")
        if helper == "GenerateSampleSecret":
            return f'{args[0]}_api_token = "{args[1]}"'
        if helper == "GenerateSampleSecrets":
            return [t.replace("{i}", args[0]).replace("{I}", args[0].upper()).replace("{s}", args[1])
                    for t in sorted(SAMPLES)]
        raise Unsupported(f"call {name}")


def _examples_of(body: str, rnd, stopwords) -> tuple[dict, int]:
    tokens = [t for t in TOKEN.findall(body) if not t.isspace() and not t.startswith(("//", "/*"))]
    found, skipped = {"tp": [], "fp": []}, 0
    for i, tok in enumerate(tokens):
        after = "".join(tokens[i + 1:i + 3])
        if tok not in ("tps", "fps") or not (after == ":=" or after[:1] == "=" and after != "=="):
            continue
        j = i + 3 if after == ":=" else i + 2
        parser = Parser(tokens[j:], rnd, stopwords)
        try:
            value = parser.expr()
        except (Unsupported, IndexError, ValueError):
            skipped += 1
            continue
        skipped += parser.skipped
        for item in value if isinstance(value, list) else [value]:
            path, text = item if isinstance(item, tuple) else ("", item)
            found[tok[0] + "p"].append({"path": path or "", "text": text})
    return found, skipped


def extract(repo: str, tag: str, stopwords: list[str]) -> tuple[list[dict], int]:
    names = subprocess.run(["git", "-C", repo, "ls-tree", "--name-only", f"{tag}:cmd/generate/config/rules"],
                           capture_output=True, text=True, check=True).stdout.split()
    out, skipped = [], 0
    for name in sorted(n for n in names if n.endswith(".go") and not n.endswith("_test.go")):
        src = subprocess.run(["git", "-C", repo, "show", f"{tag}:cmd/generate/config/rules/{name}"],
                             capture_output=True, text=True, check=True).stdout
        for func in re.split(r"\nfunc ", src)[1:]:
            rule = re.search(r'RuleID:\s*"([^"]+)"', func)
            if not rule:
                continue
            found, n = _examples_of(func, random.Random(rule.group(1)), stopwords)
            skipped += n
            out += [{"rule": rule.group(1), "kind": kind, **e} for kind, items in found.items() for e in items]
    return out, skipped


def _single_rule_configs(config_text: str) -> tuple[str, dict[str, str]]:
    head, *blocks = config_text.split("\n[[rules]]\n")
    return head, {re.search(r'^id = "([^"]+)"', b, re.M).group(1): "[[rules]]\n" + b for b in blocks}


def gitleaks_verdicts(examples: list[dict], gitleaks: str, config_text: str) -> list[bool]:
    """For each example: does real gitleaks (that rule alone + global allowlist, no decoding) find it?"""
    head, blocks = _single_rule_configs(config_text)
    verdicts = [False] * len(examples)
    by_rule: dict[str, list[int]] = {}
    for n, e in enumerate(examples):
        by_rule.setdefault(e["rule"], []).append(n)
    for rule_id, indexes in by_rule.items():
        if rule_id not in blocks:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "rule.toml"
            cfg.write_text(head + "\n" + blocks[rule_id])
            root = Path(tmp) / "files"
            for n in indexes:
                target = root / f"ex{n}" / (examples[n]["path"] or "example")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(examples[n]["text"])
            report = Path(tmp) / "report.json"
            subprocess.run([gitleaks, "dir", str(root), "-c", str(cfg), "--max-decode-depth", "0", "--no-banner",
                            "-l", "error", "-f", "json", "-r", str(report), "--exit-code", "0"], check=True)
            for f in json.loads(report.read_text() or "[]"):
                if f["RuleID"] == rule_id:
                    verdicts[int(Path(f["File"]).relative_to(root).parts[0][2:])] = True
    return verdicts


def _sampled(examples: list[dict], max_tps: int) -> list[dict]:
    """Every false positive; per rule at most `max_tps` true positives, spread over its list."""
    tps: dict[str, list[dict]] = {}
    for e in examples:
        if e["kind"] == "tp":
            tps.setdefault(e["rule"], []).append(e)
    keep = {id(e) for rule, items in tps.items()
            for e in (items if rule == "generic-api-key" else items[::max(1, -(-len(items) // max_tps))])}
    return [e for e in examples if e["kind"] == "fp" or id(e) in keep]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True)
    ap.add_argument("--tag", default="v8.30.1")
    ap.add_argument("--gitleaks", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-tps", type=int, default=8, help="true positives kept per rule (all for generic-api-key)")
    args = ap.parse_args()
    config_text = Path(args.config).read_text()
    stopwords = re.search(r"stopwords = \[(.*?)\]", config_text, re.S).group(1)
    examples, skipped = extract(args.repo, args.tag, re.findall(r'"([^"]+)"', stopwords))
    verdicts = gitleaks_verdicts(examples, args.gitleaks, config_text)
    agreed = [e for e, found in zip(examples, verdicts, strict=True) if found == (e["kind"] == "tp")]
    kept = _sampled(agreed, args.max_tps)
    data = {"source": f"gitleaks {args.tag} cmd/generate/config/rules/*.go (MIT licence, (c) Zachary Rice)",
            "encoding": "text is base64 (UTF-8)", "extracted": len(examples), "skipped_expressions": skipped,
            "gitleaks_disagrees": len(examples) - len(agreed), "agreed": len(agreed),
            "examples": [{**e, "text": base64.b64encode(e["text"].encode()).decode()} for e in kept]}
    Path(args.out).write_text(json.dumps(data, indent=0) + "\n")
    rules = {e["rule"] for e in kept}
    print(f"{len(examples)} examples extracted ({skipped} expressions skipped); gitleaks agrees with "
          f"{len(kept)} ({sum(e['kind'] == 'tp' for e in kept)} tp, {sum(e['kind'] == 'fp' for e in kept)} fp) "
          f"over {len(rules)} rules; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
