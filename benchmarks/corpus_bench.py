"""Recall and precision on the labelled corpus (tests/scanners/git/corpus/generate.py): writes the
corpus to a directory (plain files for the peers, the same files in one git commit for BotAudit)
and scores BotAudit and the peers that are installed: credential files with a hit / credential
files, labelled lines found at their line / labelled lines, decoy files hit and findings in decoys.

    python benchmarks/corpus_bench.py [--seed 10] [--out DIR] [--peers /work/peers/venv/bin]
                                      [--gitleaks /work/peers/gl/bin/gitleaks]

Peers run in their own venv (never the project's), with their default rules and no network
validation. Prints a Markdown table. Values are never printed."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scan_bench import ENV  # noqa: E402

from tests.scanners.git.corpus.generate import corpus_build  # noqa: E402
from tests.scanners.git.gitrepo import Repo  # noqa: E402


def corpus_write(files, out: Path) -> tuple[Path, Path]:
    plain, repo_dir = out / "plain", out / "repo"
    for f in files:
        path = plain / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text)
    Repo(repo_dir).commit({f.path: f.text for f in files}, "corpus")
    return plain, repo_dir


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, **kw)


def _rel(path: str, root: Path) -> str:
    for prefix in (str(root) + "/", root.name + "/", "./"):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


def botaudit_hits(repo_dir: Path) -> list[tuple[str, int, str]]:
    proc = _run([sys.executable, str(ROOT / "manage.py"), "scan_repo", str(repo_dir), "--format", "json"], env=ENV)
    return [(f["file"], f["line"], f["confidence"]) for f in json.loads(proc.stdout)["findings"]]


def kingfisher_hits(binary: Path, plain: Path) -> list[tuple[str, int, str]]:
    proc = _run([str(binary), "scan", str(plain), "--no-validate", "--no-update-check", "-f", "json",
                 "--git-history", "none"])
    data = json.loads(proc.stdout.splitlines()[0])
    return [(_rel(f["finding"]["path"], plain), f["finding"]["line"], "") for f in data["findings"]]


def gitleaks_like_hits(cmd: list[str], report: Path, plain: Path) -> list[tuple[str, int, str]]:
    _run(cmd)
    data = json.loads(report.read_text() or "[]")
    if isinstance(data, dict):  # betterleaks
        return [(_rel(f["location"]["path"], plain), f["location"]["start_line"], "") for f in data["findings"]]
    return [(_rel(f["File"], plain), f["StartLine"], "") for f in data]


def detect_secrets_hits(binary: Path, plain: Path) -> list[tuple[str, int, str]]:
    proc = _run([str(binary), "-C", str(plain), "scan", "--all-files"])
    results = json.loads(proc.stdout)["results"]
    return [(_rel(name, plain), s["line_number"], "") for name, items in results.items() for s in items]


def credsweeper_hits(binary: Path, plain: Path, report: Path) -> list[tuple[str, int, str]]:
    _run([str(binary), "--path", str(plain), "--save-json", str(report), "--no-stdout"])
    return [(_rel(d["path"], plain), d["line_num"], "") for c in json.loads(report.read_text())
            for d in c["line_data_list"]]


def score(files, hits: list[tuple[str, int, str]]) -> dict:
    by_path = {f.path: f for f in files}
    credential = [f for f in files if not f.decoy]
    hit_files = {p for p, _n, _c in hits}
    hit_lines = {(p, n) for p, n, _c in hits}
    labelled = {(f.path, n) for f in credential for n in f.secret_lines}
    decoy_hits = [(p, n, c) for p, n, c in hits if p in by_path and by_path[p].decoy]
    return {
        "files": sum(f.path in hit_files for f in credential), "of_files": len(credential),
        "lines": len(labelled & hit_lines), "of_lines": len(labelled),
        "decoy_files": len({p for p, _n, _c in decoy_hits}), "of_decoys": len(files) - len(credential),
        "decoy_hits": len(decoy_hits), "decoy_not_low": sum(c not in ("", "low") for _p, _n, c in decoy_hits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--peers", type=Path, default=Path("/work/peers/venv/bin"))
    parser.add_argument("--gitleaks", type=Path, default=Path("/work/peers/gl/bin/gitleaks"))
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="corpus-bench-"))
    if out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
    files, _values = corpus_build(seed=args.seed)
    plain, repo_dir = corpus_write(files, out)
    tools = {"BotAudit": lambda: botaudit_hits(repo_dir)}
    peer = args.peers
    if (peer / "kingfisher").exists():
        tools["kingfisher"] = lambda: kingfisher_hits(peer / "kingfisher", plain)
    if (peer / "betterleaks").exists():
        tools["betterleaks"] = lambda: gitleaks_like_hits(
            [str(peer / "betterleaks"), "fs", str(plain), "-o", str(out / "bl.json"), "--no-color"],
            out / "bl.json", plain)
    if args.gitleaks.exists():
        tools["gitleaks"] = lambda: gitleaks_like_hits(
            [str(args.gitleaks), "dir", str(plain), "-f", "json", "-r", str(out / "gl.json")], out / "gl.json", plain)
    if (peer / "detect-secrets").exists():
        tools["detect-secrets"] = lambda: detect_secrets_hits(peer / "detect-secrets", plain)
    if (peer / "credsweeper").exists():
        tools["credsweeper"] = lambda: credsweeper_hits(peer / "credsweeper", plain, out / "cs.json")
    print(f"Corpus seed {args.seed}: {len(files)} files in {out}\n")
    print("| tool | credential files with a hit | labelled lines found | decoy files hit | findings in decoys |")
    print("|---|---|---|---|---|")
    for name, run in tools.items():
        s = score(files, run())
        decoys = f"{s['decoy_hits']}" + (f" ({s['decoy_not_low']} not low)" if name == "BotAudit" else "")
        print(f"| {name} | {s['files']}/{s['of_files']} ({100 * s['files'] / s['of_files']:.0f}%) "
              f"| {s['lines']}/{s['of_lines']} ({100 * s['lines'] / s['of_lines']:.0f}%) "
              f"| {s['decoy_files']}/{s['of_decoys']} | {decoys} |")


if __name__ == "__main__":
    main()
