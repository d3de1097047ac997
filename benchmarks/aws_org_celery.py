"""The organization benchmark through Celery: audit wall time with N `probe.aws` worker slots.

    .venv/bin/python benchmarks/aws_org_celery.py [--accounts 20] [--regions 3] [--latency-ms 50]
                                                  [--slots 1,4,8]

Same moto organization and 50 ms-per-call wrapper as benchmarks/aws_org_bench.py, but each
configuration is a real audit: `audit_enqueue` -> the `audit` worker plans the connector's units
-> one `run_probe` task per unit on `celery worker -Q probe.aws -c N` (prefork) -> scoring. Needs
the units pipeline (ProbeRun.unit, queues; branch `units`), PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/botaudit_awsorg_bench; created and migrated, its connectors
replaced) and `redis-server` on PATH (its own, on a free loopback port). One untimed warm-up
audit first (credential reports generated). Prints wall time, the sum of unit durations and the
API calls of the units, which must not change with N.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
CELERY = str(Path(sys.executable).parent / "celery")

from celery_harness import database_ensure, redis_start  # noqa: E402


def _env(database_url: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="botaudit.settings", DJANGO_DEBUG="1", DATABASE_URL=database_url,
               REDIS_URL=redis_url, BOTAUDIT_PROBE_MAX_RETRIES="0", DJANGO_SECRET_KEY="aws-org-bench-only",
               BOTAUDIT_FINGERPRINT_KEY="aws-org-bench-only", AWS_ACCESS_KEY_ID="bench",
               AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    return env


def worker_start(env, log: Path, *, queues: str, concurrency: int, hostname: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [CELERY, "-A", "botaudit", "worker", "--queues", queues, "--concurrency", str(concurrency), "--pool",
         "prefork", "--hostname", hostname, "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "INFO"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + 90
    while " ready." not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"worker did not start: see {log}")
        time.sleep(0.2)
    return proc


def worker_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def audit_once(timeout: float) -> dict:
    from scanners.models import AuditRun
    from scanners.tasks import audit_enqueue

    start = time.perf_counter()
    run = audit_enqueue(trigger="bench", connector_names=["org-bench"])
    deadline = time.monotonic() + timeout
    while not AuditRun.objects.get(pk=run.pk).finished:
        if time.monotonic() > deadline:
            raise SystemExit(f"audit #{run.pk} did not finish in {timeout} s")
        time.sleep(0.2)
    wall = time.perf_counter() - start
    run.refresh_from_db()
    units = list(run.probe_runs.filter(kind="aws"))
    return {"wall": wall, "status": run.status, "units": len(units),
            "failed": sum(u.status == "failed" for u in units),
            "unit_seconds": sum((u.finished - u.started).total_seconds() for u in units if u.started and u.finished),
            "api_calls": sum(u.api_calls for u in units)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--slots", default="1,4,8")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--dir", default="/tmp/aws-org-bench")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/botaudit_awsorg_bench"))
    args = parser.parse_args()
    tmp = Path(args.dir)
    tmp.mkdir(parents=True, exist_ok=True)
    database_ensure(args.database_url)
    redis, port = redis_start(tmp)
    env = _env(args.database_url, f"redis://127.0.0.1:{port}/0")
    os.environ.update(env)
    import aws_org_bench as bench

    from devtools.ports import free_port

    moto_port = free_port()
    moto = bench.start_server(moto_port)
    url = f"http://127.0.0.1:{moto_port}"
    try:
        import django

        django.setup()
        from scanners.models import ProbeRun

        if not hasattr(ProbeRun, "unit"):
            raise SystemExit("needs the units pipeline (ProbeRun.unit, probe.aws queue): merge branch `units`")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        from inventory.models import Connector

        Connector.objects.all().delete()
        Connector.objects.create(name="org-bench", kind="aws", options={
            "regions": bench.ALL_REGIONS[:args.regions], "endpoint_url": url, "organization": {}})
        bench.seed(url, args.accounts, bench.ALL_REGIONS[:args.regions])
        bench.latency_set(url, args.latency_ms)
        audit = worker_start(env, tmp / "audit.log", queues="audit,digest,botaudit", concurrency=1,
                             hostname="audit@bench")
        try:
            rows = []
            for n in [0] + [int(s) for s in args.slots.split(",")]:
                aws = worker_start(env, tmp / f"aws{n}.log", queues="probe.aws", concurrency=max(n, 1),
                                   hostname=f"aws{n}@bench")
                try:
                    row = audit_once(args.timeout)
                finally:
                    worker_stop(aws)
                if n:  # n == 0: the warm-up audit on one slot
                    rows.append({**row, "slots": n})
                print(f"slots={n or '1 (warm-up)'}: {row['wall']:.1f} s ({row['status']})", file=sys.stderr)
        finally:
            worker_stop(audit)
        base = rows[0]["wall"]
        print(f"\n{args.accounts} accounts x {args.regions} regions, {args.latency_ms} ms a call, {os.cpu_count()} "
              f"cores, load average {os.getloadavg()[0]:.1f}\n")
        print("| probe.aws slots | audit wall (s) | speed-up | units | failed | sum of unit durations (s) "
              "| API calls |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['slots']} | {r['wall']:.1f} | {base / r['wall']:.2f}x | {r['units']} | {r['failed']} "
                  f"| {r['unit_seconds']:.1f} | {r['api_calls']} |")
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        redis.kill()
        redis.wait(timeout=10)


if __name__ == "__main__":
    main()
