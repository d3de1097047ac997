"""Full-history scan of real repositories, side by side in one run: `git log -p --all` (the floor),
BotAudit's `manage.py scan_repo PATH --format json` and `botaudit-scan PATH --format json` (the
standalone scanner: same scan, no project apps at start-up; both real CLIs, start-up included), kingfisher,
betterleaks, gitleaks and detect-secrets. Each tool runs `--runs` times, interleaved (tool A, B, …,
then A, B, … again), so every ratio compares runs made under the same machine load.

    python benchmarks/history_bench.py /work/.mirror/celery+celery/repo [more repos] [--runs 3]
        [--peers /work/peers/venv/bin] [--gitleaks /work/peers/gl/bin/gitleaks] [--only botaudit,git]

Peers live in scratch venvs, never in the project. Memory: the peak, over the whole process tree
(children included), of the summed RSS and of the summed PSS (shared pages split between the
processes that map them), sampled every 50 ms from /proc. Also measures an incremental rescan of one
new commit (in-process, as the git probe does it: every earlier tip hidden). Prints Markdown."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
ENV = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "botaudit.settings",
       "DATABASE_URL": "sqlite:////nonexistent/never-opened.sqlite3", "REDIS_URL": ""}


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        p = stack.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                stack.extend(int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split())
        except OSError:
            continue
    return pids


def _memory(pids) -> tuple[int, int]:
    """(RSS, PSS) in kB summed over `pids`."""
    rss = pss = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def run(cmd, *, cwd=None, timeout=1800) -> dict:
    """Wall time, peak summed RSS / PSS (MB), exit code, stdout. Output goes to files, not pipes:
    on a machine where pipes are slow (a sandboxed kernel), `git log -p --all` through a pipe took
    21-23 s against 9-11 s into a file, which would flatter every ratio to the floor."""
    peak = [0, 0]
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=out_file, stderr=err_file)
        done = threading.Event()

        def sample():
            while not done.wait(0.05):
                rss, pss = _memory(_tree(proc.pid))
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        out, err = (f.seek(0) or f.read() for f in (out_file, err_file))
    return {"seconds": wall, "rss_mb": peak[0] / 1024, "pss_mb": peak[1] / 1024, "rc": proc.returncode,
            "stdout": out, "stderr": err}


def _count(data: bytes, key: str):
    try:
        parsed, _ = json.JSONDecoder().raw_decode(data.decode("utf-8", "replace"))
    except ValueError:
        return "?"
    found = parsed.get(key, parsed) if isinstance(parsed, dict) else parsed
    return sum(len(v) for v in found.values()) if isinstance(found, dict) else len(found)


def tools(repo: str, peers: Path, gitleaks: Path, scratch: Path) -> dict:
    """{name: (command, cwd, how to count findings from its output)}"""
    report = scratch / "report.json"
    found = {
        "git log -p --all": (["git", "-C", repo, "log", "-p", "--all"], None,
                             lambda r: f"{len(r['stdout']) / 1e6:.0f} MB of patches"),
        "botaudit scan_repo": ([sys.executable, str(ROOT / "manage.py"), "scan_repo", repo, "--format", "json"], None,
                               lambda r: f"{_count(r['stdout'], 'findings')} findings"),
        # the same scan through the standalone scanner (the pre-commit / CI console script, botaudit-scan):
        # none of the project's apps at start-up, as a peer's command line
        "botaudit-scan": ([sys.executable, "-m", "scanners.git.cli", repo, "--format", "json"], str(ROOT),
                          lambda r: f"{_count(r['stdout'], 'findings')} findings"),
    }
    if (peers / "kingfisher").exists():
        found["kingfisher"] = ([str(peers / "kingfisher"), "scan", repo, "--git-history", "full", "--no-validate",
                                "--format", "json", "--no-update-check"], None,
                               lambda r: f"{_count(r['stdout'], 'findings')} findings")
    if (peers / "betterleaks").exists():
        found["betterleaks"] = ([str(peers / "betterleaks"), "git", repo, "--no-banner", "-l", "error", "-o",
                                 str(report)], None, lambda r: f"{_count(report.read_bytes(), 'findings')} findings")
    if gitleaks.exists():
        found["gitleaks"] = ([str(gitleaks), "git", repo, "--log-opts=--all", "--no-banner", "-l", "error",
                              "-f", "json", "-r", str(report)], None,
                             lambda r: f"{_count(report.read_bytes(), 'findings')} findings")
    if (peers / "detect-secrets").exists():  # its checkout is cloned in bench(), only when it runs
        work = scratch / "checkout"
        found["detect-secrets (HEAD files only)"] = ([str(peers / "detect-secrets"), "scan", "--all-files"], str(work),
                                                    lambda r: f"{_count(r['stdout'], 'results')} findings")
    return found


def bench(repo: str, args) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bench-hist-"))
    table = tools(repo, Path(args.peers), Path(args.gitleaks), scratch)
    if args.only:
        table = {k: v for k, v in table.items() if any(o in k for o in args.only.split(","))}
    for name, (_cmd, cwd, _count) in list(table.items()):
        if cwd is not None and not Path(cwd).exists() and subprocess.run(
                ["git", "clone", "-q", repo, cwd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            print(f"  {name}: skipped, `git clone {repo}` failed (e.g. a missing blob at HEAD)", file=sys.stderr)
            del table[name]
    results = {name: [] for name in table}
    loads = [os.getloadavg()[0]]
    for _ in range(args.runs):
        for name, (cmd, cwd, count) in table.items():
            r = run(cmd, cwd=cwd)
            r["note"] = count(r)
            r["load"] = os.getloadavg()[0]
            results[name].append(r)
            print(f"  {name}: {r['seconds']:.2f} s, load {r['load']:.2f}", file=sys.stderr, flush=True)
        loads.append(os.getloadavg()[0])
    shutil.rmtree(scratch, ignore_errors=True)
    floor = results.get("git log -p --all")
    print(f"\n### {repo}\n\nload average (1 min) at the start and after each round: "
          f"{', '.join(f'{x:.2f}' for x in loads)}\n")
    print("| tool | wall s, each run | x floor, each run (same round) | peak RSS MB (tree) | peak PSS MB (tree) "
          "| rc | output |")
    print("|---|---|---|---:|---:|---|---|")
    for name, runs in results.items():
        walls = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        ratio = ", ".join(f"{r['seconds'] / f['seconds']:.2f}" for r, f in zip(runs, floor or [], strict=False))
        rss = max(r["rss_mb"] for r in runs)
        pss = max(r["pss_mb"] for r in runs)
        print(f"| {name} | {walls} | {ratio} | {rss:.0f} | {pss:.0f} | {runs[-1]['rc']} | {runs[-1]['note']} |",
              flush=True)
    if not args.only or "botaudit" in args.only:
        from scan_bench import incremental  # one new commit on a mirror copy: CLI --since, and as the probe

        for name, r in incremental(repo):
            print(f"\n{name}: {r['seconds']:.3f} s; {r['note']}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="+")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--peers", default="/work/peers/venv/bin")
    ap.add_argument("--gitleaks", default="/work/peers/gl/bin/gitleaks")
    ap.add_argument("--only", help="comma-separated name fragments, e.g. botaudit,git log")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB; "
          f"python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for repo in args.repos:
        bench(repo, args)


if __name__ == "__main__":
    main()
