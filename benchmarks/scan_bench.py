"""Git leak scan benchmark: BotAudit's `scan_repo` side by side with `git log -p --all` (the floor)
and, where they are installed, detect-secrets, kingfisher and TruffleHog 2.2.1 — on a generated
repository (default 20,000 commits) and on this project's own history.

    python benchmarks/scan_bench.py [--commits 20000] [--repo PATH] [--peers /tmp/peers/bin] [--runs 1]

Peers go in a separate venv (not the project's): `python -m venv /tmp/peers &&
/tmp/peers/bin/pip install detect-secrets kingfisher-bin truffleHog==2.2.1`. The git CLI is used
only here, as the floor and to repack the generated repository. Wall time and peak RSS come from
/usr/bin/time (peak RSS of the largest process in the tree). Prints a Markdown table."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
ENV = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "botaudit.settings",
       "DATABASE_URL": "sqlite:////nonexistent/never-opened.sqlite3", "REDIS_URL": ""}


def timed(cmd, *, cwd=None, timeout=1800) -> dict:
    """Run `cmd` under /usr/bin/time; {"seconds", "rss_mb", "rc", "stdout"}."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        try:
            proc = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%e %M %U %S", *cmd], cwd=cwd, env=ENV,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"seconds": None, "rss_mb": None, "rc": "timeout", "stdout": b""}
        wall = time.perf_counter() - start
        parts = (tf.read().strip().splitlines() or ["0 0"])[-1].split()
        rss = int(parts[1]) / 1024 if len(parts) > 1 and parts[1].isdigit() else None
        cpu = float(parts[2]) + float(parts[3]) if len(parts) > 3 else None
    return {"seconds": wall, "rss_mb": rss, "cpu": cpu, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def scan_repo(repo: str, *extra) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "scan_repo", repo, "--format", "json", *extra]


def botaudit_runs(repo: str) -> list[tuple[str, dict]]:
    rows = []
    for workers in ("2", "1"):
        r = timed(scan_repo(repo, "--workers", workers))
        data = json.loads(r["stdout"] or b"{}")
        r["note"] = (f"{len(data.get('findings', []))} findings, {data.get('stats', {}).get('commits')} commits, "
                     f"in-process {data.get('stats', {}).get('seconds')} s")
        rows.append((f"botaudit scan_repo, {workers} worker(s)", r))
    return rows


def incremental(repo: str) -> list[tuple[str, dict]]:
    """Add one commit to a mirror clone of `repo`, then scan only what is new: through the CLI
    (`--since` the old HEAD: other branches that are not its ancestors are walked too) and
    in-process the way the probe does it (every previously scanned tip hidden)."""
    import django
    import pygit2

    os.environ.update({k: v for k, v in ENV.items() if k.startswith(("DJANGO", "DATABASE", "REDIS"))})
    sys.path.insert(0, str(ROOT))
    django.setup()
    from scanners.git.detector import Detector
    from scanners.git.rules import rules_load
    from scanners.git.scan import refs_select, repo_scan

    copy = tempfile.mkdtemp(prefix="bench-incr-")
    subprocess.run(["git", "clone", "-q", "--mirror", repo, copy], check=True)  # never touch the original
    r = pygit2.Repository(copy)
    old_tips = list(refs_select(r).values())
    head = r.head.peel(pygit2.Commit)
    tb = r.TreeBuilder(head.tree)
    tb.insert("new-file.py", r.create_blob(b"x = 1\n"), pygit2.enums.FileMode.BLOB)
    sig = pygit2.Signature("b", "b@example.com")
    r.create_commit(r.head.name, sig, sig, "one more", tb.write(), [head.id])
    res = timed(scan_repo(copy, "--since", str(head.id)))
    data = json.loads(res["stdout"] or b"{}")
    res["note"] = (f"{data.get('stats', {}).get('commits')} commit(s) walked, in-process "
                   f"{data.get('stats', {}).get('seconds')} s; wall includes Django start-up")
    detector = Detector(rules_load())
    start, cpu = time.perf_counter(), time.process_time()
    result = repo_scan(repo=r, detector=detector, hide=old_tips)
    probe_like = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "rss_mb": None, "rc": 0,
                  "note": f"{result.stats.commits} commit walked, {len(result.leaks)} new findings; in-process"}
    shutil.rmtree(copy, ignore_errors=True)
    return [("botaudit incremental, CLI --since old HEAD", res),
            ("botaudit incremental as the probe (all old tips hidden)", probe_like)]


def _count_kingfisher(out: bytes):
    try:
        data, _ = json.JSONDecoder().raw_decode(out.decode("utf-8", "replace"))
        return len(data.get("findings", []))
    except ValueError:
        return "?"


def peers(repo: str, peers_bin: Path) -> list[tuple[str, dict]]:
    rows = []
    kf = peers_bin / "kingfisher"
    if kf.exists():
        r = timed([str(kf), "scan", repo, "--git-history", "full", "--no-validate", "--format", "json",
                   "--no-update-check"])
        if r["rc"] not in (0, 200, 205) and b"unexpected argument" in r.get("stderr", b""):
            r = timed([str(kf), "scan", repo, "--git-history", "full", "--no-validate", "--format", "json"])
        r["note"] = f"{_count_kingfisher(r['stdout'])} findings; full history, validation off"
        rows.append(("kingfisher (kingfisher-bin)", r))
    th = peers_bin / "trufflehog"
    if th.exists():
        r = timed([str(th), "--regex", "--entropy=False", "--json", f"file://{repo}"], timeout=1200)
        found = sum(1 for line in r["stdout"].splitlines() if line.strip().startswith(b"{"))
        stopped = " (stopped at 20 min)" if r["rc"] == "timeout" else ""
        r["note"] = f"{found} findings; all branches, regex only{stopped}"
        rows.append(("TruffleHog 2.2.1", r))
    ds = peers_bin / "detect-secrets"
    if ds.exists():
        work = tempfile.mkdtemp(prefix="bench-ds-")
        subprocess.run(["git", "clone", "-q", repo, work], check=True)
        r = timed([str(ds), "scan", "--all-files"], cwd=work)
        try:
            found = sum(len(v) for v in json.loads(r["stdout"])["results"].values())
        except (ValueError, KeyError):
            found = "?"
        r["note"] = f"{found} findings; HEAD files only (it does not read history)"
        rows.append(("detect-secrets", r))
        shutil.rmtree(work, ignore_errors=True)
    return rows


def bench(repo: str, peers_bin: Path, label: str) -> None:
    floor = timed(["git", "-C", repo, "log", "-p", "--all"])
    floor["note"] = f"{len(floor['stdout']) / 1e6:.1f} MB of patch text"
    floor["stdout"] = b""
    rows = [("git log -p --all (floor)", floor), *botaudit_runs(repo), *incremental(repo), *peers(repo, peers_bin)]
    print(f"\n### {label}\n")
    print("| tool | wall s | x floor | CPU s (user+sys) | x floor CPU | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, r in rows:
        secs = "timeout" if r["seconds"] is None else f"{r['seconds']:.2f}"
        ratio = "" if r["seconds"] is None else f"{r['seconds'] / floor['seconds']:.2f}"
        rss = "" if r["rss_mb"] is None else f"{r['rss_mb']:.0f}"
        cpu = "" if r.get("cpu") is None else f"{r['cpu']:.2f}"
        cpu_ratio = "" if r.get("cpu") is None or not floor.get("cpu") else f"{r['cpu'] / floor['cpu']:.2f}"
        print(f"| {name} | {secs} | {ratio} | {cpu} | {cpu_ratio} | {rss} | {r.get('note', '')} (rc {r['rc']}) |",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=20_000)
    ap.add_argument("--repo", help="reuse (or create) the generated repository here")
    ap.add_argument("--peers", default="/tmp/peers/bin", help="bin directory of the peers' venv")
    ap.add_argument("--skip-own", action="store_true", help="skip this project's own history")
    args = ap.parse_args()
    repo = args.repo or tempfile.mkdtemp(prefix="bench-git-")
    if not Path(repo, "HEAD").exists():
        from gitgen import repo_generate

        start = time.perf_counter()
        planted = repo_generate(repo, commits=args.commits)
        subprocess.run(["git", "-C", repo, "repack", "-adq"], check=True)
        subprocess.run(["git", "-C", repo, "prune"], check=True)
        print(f"generated {args.commits} commits ({planted} planted secrets) in {time.perf_counter() - start:.0f} s")
    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()}")
    bench(repo, Path(args.peers), f"generated repository, {args.commits} commits")
    print(f"load average after: {os.getloadavg()}")
    if not args.skip_own:
        bench(str(ROOT), Path(args.peers), "this project's own history")


if __name__ == "__main__":
    main()
