"""Units of work on Celery (issue 13): audit wall time of a git connector over generated repositories
(one unit per repository) with 1, 2, 4 git worker processes on one worker host, and the same split
over two worker hosts (two `celery worker` processes with separate `--hostname`s).

    python benchmarks/units_bench.py [--repos 40] [--commits 2000] [--slots 1,2,4] [--hosts 2]
                                     [--dir /tmp/units-bench] [--scan-processes 1]

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/botaudit_units_bench; the
database is created and migrated, and its inventory replaced) and `redis-server` on PATH (a server of
its own on a free loopback port, stopped at the end). Every measured audit scans the full history
(the git scan state is cleared before each). `--scan-processes` is BOTAUDIT_GIT_WORKERS in the
workers (processes per repository scan; 1 so a slot is one core). Prints a Markdown table: wall
time, speed-up against one slot, the sum of unit durations, units per worker host, and the peak
RSS of a git worker process tree."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
CELERY = str(Path(sys.executable).parent / "celery")

from celery_harness import database_ensure, redis_start  # noqa: E402


def _env(database_url: str, redis_url: str, scan_processes: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="botaudit.settings", DJANGO_DEBUG="1", DATABASE_URL=database_url,
               REDIS_URL=redis_url, BOTAUDIT_GIT_WORKERS=str(scan_processes), BOTAUDIT_PROBE_MAX_RETRIES="0",
               DJANGO_SECRET_KEY="units-bench-only", BOTAUDIT_FINGERPRINT_KEY="units-bench-only")
    return env


def repos_generate(base: Path, *, repos: int, commits: int) -> list[Path]:
    from gitgen import repo_generate

    paths = []
    for i in range(repos):
        path = base / f"c{commits}" / f"repo{i:03d}.git"
        if not (path / "HEAD").exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            repo_generate(str(path), commits=commits, seed=1000 + i, planted=8)
        paths.append(path)
    return paths


def inventory_setup(paths: list[Path]) -> None:
    from inventory.models import Connector, Repository

    Connector.objects.filter(name="bench-git").delete()
    Repository.objects.filter(name__startswith="bench-").delete()
    for path in paths:
        Repository.objects.create(name=f"bench-{path.stem}", url=str(path), branches=["*"])
    Connector.objects.create(name="bench-git", kind="git", options={"repositories": [f"bench-{p.stem}" for p in paths]})


class Worker:
    """`celery worker` in its own process group; peak RSS of the whole group sampled every 0.2 s."""

    def __init__(self, env, log: Path, *, queues: str, concurrency: int, hostname: str):
        self.log = log
        self.proc = subprocess.Popen(
            [CELERY, "-A", "botaudit", "worker", "--queues", queues, "--concurrency", str(concurrency),
             "--pool", "prefork", "--hostname", hostname, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.peak_mb = 0.0
        self._stop = False
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop:
            total = 0
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.proc.pid:  # process group = the worker's
                    total += int(fields[21]) * page
            self.peak_mb = max(self.peak_mb, total / 2**20)
            time.sleep(0.2)

    def ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise SystemExit(f"worker did not start: see {self.log}")

    def units_done(self) -> int:
        return len(re.findall(r"Task botaudit\.run_probe\[[^\]]+\] succeeded", self.log.read_text(errors="replace")))

    def stop(self):
        self._stop = True
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def audit_once(timeout: float) -> dict:
    from scanners.git.models import GitScanState
    from scanners.models import Finding
    from scanners.selectors.runs import audit_run_wait
    from scanners.tasks import audit_enqueue

    GitScanState.objects.all().delete()  # every measured audit scans the full history
    Finding.objects.filter(check_id__startswith="git.").delete()
    start = time.perf_counter()
    run = audit_enqueue(trigger="bench", connector_names=["bench-git"])
    done = audit_run_wait(audit_run_id=run.pk, timeout=timeout, poll=0.2)
    wall = time.perf_counter() - start
    if done is None:
        raise SystemExit(f"audit #{run.pk} did not finish in {timeout} s")
    units = list(done.probe_runs.filter(kind="git"))
    return {"wall": wall, "status": done.status, "units": len(units),
            "failed": sum(u.status == "failed" for u in units),
            "unit_seconds": sum(u.duration.total_seconds() for u in units if u.duration),
            "commits": sum(u.counts.get("commits", 0) for u in units)}


def configuration(env, tmp: Path, *, hosts: int, slots: int, timeout: float) -> dict:
    """`slots` git worker processes in total, over `hosts` celery workers (separate --hostname)."""
    tag = f"h{hosts}s{slots}"
    audit = Worker(env, tmp / f"{tag}-audit.log", queues="audit,digest,botaudit", concurrency=1,
                   hostname=f"audit-{tag}@bench")
    git = [Worker(env, tmp / f"{tag}-git{h}.log", queues="probe.git", concurrency=max(1, slots // hosts),
                  hostname=f"git{h}-{tag}@bench") for h in range(hosts)]
    try:
        for w in (audit, *git):
            w.ready()
        result = audit_once(timeout)
    finally:
        for w in (audit, *git):
            w.stop()
    result.update(hosts=hosts, slots=slots, per_host=[w.units_done() for w in git],
                  peak_mb=max(w.peak_mb for w in git))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=40)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--slots", default="1,2,4", help="git worker processes on one host, comma-separated")
    parser.add_argument("--hosts", type=int, default=2, help="worker hosts for the split runs (0: none)")
    parser.add_argument("--dir", default="/tmp/units-bench")
    parser.add_argument("--scan-processes", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--database-url",
                        default=os.environ.get("BENCH_DATABASE_URL",
                                               "postgres://postgres@127.0.0.1:5432/botaudit_units_bench"))
    args = parser.parse_args(argv)
    tmp = Path(args.dir)
    tmp.mkdir(parents=True, exist_ok=True)
    database_ensure(args.database_url)
    redis, port = redis_start(tmp)
    env = _env(args.database_url, f"redis://127.0.0.1:{port}/0", args.scan_processes)
    os.environ.update(env)
    try:
        import django

        django.setup()
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        t0 = time.perf_counter()
        paths = repos_generate(tmp, repos=args.repos, commits=args.commits)
        print(f"{len(paths)} repositories x {args.commits} commits ready in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
        inventory_setup(paths)
        slots = [int(s) for s in args.slots.split(",") if s]
        configs = [(1, s) for s in slots]
        if args.hosts > 1:
            configs += [(args.hosts, s) for s in slots if s >= args.hosts]
        rows = []
        for hosts, n in configs:
            row = configuration(env, tmp, hosts=hosts, slots=n, timeout=args.timeout)
            rows.append(row)
            print(f"hosts={hosts} slots={n}: {row['wall']:.1f} s ({row['status']})", file=sys.stderr)
        base = rows[0]["wall"]
        print(f"\n{args.repos} repositories x {args.commits} commits, one unit per repository, "
              f"BOTAUDIT_GIT_WORKERS={args.scan_processes}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}\n")
        print("| worker hosts | git slots | audit wall (s) | speed-up | sum of unit durations (s) | units per host "
              "| failed units | commits scanned | peak RSS per git worker (MB) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['hosts']} | {r['slots']} | {r['wall']:.1f} | {base / r['wall']:.2f}x "
                  f"| {r['unit_seconds']:.1f} | {' + '.join(map(str, r['per_host']))} | {r['failed']} "
                  f"| {r['commits']} | {r['peak_mb']:.0f} |")
    finally:
        redis.kill()
        redis.wait(timeout=10)


if __name__ == "__main__":
    main()
