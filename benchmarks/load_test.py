"""Load test of the dashboard behind gunicorn, on loopback only: N logged-in users request the
Overview, Fleet and Findings pages for S seconds; prints requests/s, p50/p95/p99 and errors per page.

    createdb -h 127.0.0.1 -U postgres botaudit_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/botaudit_bench REDIS_URL=redis://127.0.0.1:6379/9
    DJANGO_SETTINGS_MODULE=botaudit.settings_test python manage.py migrate
    DJANGO_SETTINGS_MODULE=botaudit.settings_test python manage.py seed_bench --reset
    python benchmarks/load_test.py [--users 50] [--seconds 60] [--workers 3] [--think 0]

gunicorn runs the production settings (DEBUG off) with `--workers 3`, as in docker-compose.yml.
It prints PASS or FAIL per target of issue 11 (p95 under 300 ms on Overview and under 500 ms on
Fleet and Findings, 0 errors; the contract is 50 users for 60 s) and exits 1 when one fails, and
where the CPU went during the measured phase: this load generator, gunicorn (master and workers)
and the rest of the machine (PostgreSQL, Redis, other jobs).
Users are real sessions (a fifth auditors, the rest viewers spread over the teams). First every
user requests each URL once (the cold start after a data change: every page part is computed once
per viewer scope; reported, its errors counted), then `--warmup` seconds of load, then each user
loops over the pages with no think time by default (a closed loop: the hardest case), or waits
`--think` seconds (exponentially distributed) between requests. Bounded: at most 200 users and
600 seconds, and nothing but 127.0.0.1.
"""

import argparse
import http.client
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings_test")

from devtools.ports import free_port  # noqa: E402

PAGES = {
    "Overview": ["/"],
    "Fleet": ["/bots/", "/bots/?sort=-risk_score", "/bots/?page=2", "/bots/?severity=critical"],
    "Findings": ["/findings/", "/findings/?status=open", "/findings/?severity=high", "/findings/?page=2"],
}


def sessions_create(users: int) -> list[tuple[str, str]]:
    """(role, session cookie) per user: real Django sessions of real users."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from inventory.accounts import user_grant
    from inventory.models import Team

    teams = list(Team.objects.order_by("name").values_list("name", flat=True))
    out = []
    for i in range(users):
        role = "auditor" if i % 5 == 0 else "viewer"
        user, _ = user_grant(email=f"load-{i:03d}@example.com", role=role,
                             team_name=None if role == "auditor" else teams[i % len(teams)])
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append((role, session.session_key))
    return out


TARGETS_MS = {"Overview": 300, "Fleet": 500, "Findings": 500}  # p95, issue 11 (50 users, 60 s, 0 errors)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU of these processes so far (/proc/PID/stat), 0 for one that is gone."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core; /proc/stat, idle and iowait excluded)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


def server_start(port: int, workers: int, threads: int = 1) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "botaudit.settings", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "load-test-only-" + "x" * 40),
           "BOTAUDIT_FINGERPRINT_KEY": os.environ.get("BOTAUDIT_FINGERPRINT_KEY", "test-only-fingerprint-key"),
           "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "botaudit.wsgi:application", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
                            cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def user_loop(port, cookie, stop_at, think, results, errors, lock, prime=False):
    """Loop over the pages (a random variant of each) until stop_at; with `prime`, request every
    variant of every page once and stop."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(cookie)
    while prime or time.monotonic() < stop_at:
        for page, url in ([(p, u) for p, urls in PAGES.items() for u in urls] if prime
                          else [(p, rng.choice(urls)) for p, urls in PAGES.items()]):
            start = time.perf_counter()
            try:
                conn.request("GET", url, headers={"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            took = time.perf_counter() - start
            with lock:
                (results.setdefault(page, []) if ok else errors.setdefault(page, [])).append(took)
            if think:
                time.sleep(rng.expovariate(1 / think))
            if not prime and time.monotonic() >= stop_at:
                break
        if prime:
            return


def pct(values, q):
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def verdicts_print(results, error_count, *, users, seconds) -> bool:
    contract = users == 50 and seconds >= 60
    note = "" if contract else ": NOT the contract run (fewer users or seconds)"
    print(f"\ntargets of issue 11 (50 users, 60 s){note}")
    ok = True
    for page, limit in TARGETS_MS.items():
        values = results.get(page, [])
        p95 = pct(values, 95) if values else float("inf")
        passed = p95 < limit
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {page} p95 {p95:.0f} ms (target under {limit} ms)")
    print(f"{'PASS' if error_count == 0 else 'FAIL'}  errors {error_count} (target 0)")
    return ok and error_count == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (>1: gthread)")
    parser.add_argument("--think", type=float, default=0.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    opts = parser.parse_args()
    users, seconds = min(opts.users, 200), min(opts.seconds, 600)
    cookies = sessions_create(users)
    port = free_port()
    server = server_start(port, opts.workers, opts.threads)
    try:
        lock = threading.Lock()
        for phase, length in (("prime", 0), ("warm-up", opts.warmup), ("measure", seconds)):
            results, errors = {}, {}
            load_before = os.getloadavg()[0]
            server_pids = [server.pid, *children_of(server.pid)]
            cpu_before = (resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server_pids), machine_busy_seconds())
            stop_at = time.monotonic() + length
            threads = [threading.Thread(target=user_loop, args=(port, c, stop_at, opts.think, results, errors, lock,
                                                                phase == "prime")) for _role, c in cookies]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            own = resource.getrusage(resource.RUSAGE_SELF)
            cpu = ((own.ru_utime + own.ru_stime) - (cpu_before[0].ru_utime + cpu_before[0].ru_stime),
                   cpu_seconds(server_pids) - cpu_before[1], machine_busy_seconds() - cpu_before[2])
            if phase == "prime":
                primed = [v for values in results.values() for v in values]
                prime_errors = sum(len(v) for v in errors.values())
                prime_report = (f"cold start: each user requested every URL once ({len(primed)} requests, "
                                f"{len(PAGES)} pages, {sum(map(len, PAGES.values()))} URLs) in {wall:.1f} s, "
                                f"slowest {max(primed, default=0) * 1000:.0f} ms, {prime_errors} errors; then "
                                f"{opts.warmup:.0f} s of warm-up load before measuring")
        print(f"{users} users ({sum(r == 'auditor' for r, _ in cookies)} auditors), {seconds:.0f} s, gunicorn "
              f"--workers {opts.workers} --threads {opts.threads}, think {opts.think} s, {os.cpu_count()} cores, "
              f"load average "
              f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")
        print("| page | requests | req/s | p50 ms | p95 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|")
        for page in PAGES:
            values = results.get(page, [])
            if not values:
                print(f"| {page} | 0 | 0 | - | - | - | {len(errors.get(page, []))} |")
                continue
            print(f"| {page} | {len(values)} | {len(values) / wall:.1f} | {pct(values, 50):.0f} | "
                  f"{pct(values, 95):.0f} | {pct(values, 99):.0f} | {len(errors.get(page, []))} |")
        total = sum(len(v) for v in results.values())
        error_count = sum(len(v) for v in errors.values())
        print(f"\n{prime_report}")
        print(f"\nall pages: {total} requests, {total / wall:.1f} req/s, {error_count} errors")
        client, served, busy = cpu
        rest = busy - client - served
        cores = (os.cpu_count() or 1) * wall
        print(f"CPU while measuring ({cores:.0f} core-seconds available): load generator {client:.1f} s "
              f"({100 * client / cores:.0f} %), gunicorn {served:.1f} s ({100 * served / cores:.0f} %), "
              f"everything else {rest:.1f} s ({100 * rest / cores:.0f} %); gunicorn "
              f"{1000 * served / max(total + error_count, 1):.1f} ms CPU per request")
        sys.exit(0 if verdicts_print(results, error_count + prime_errors, users=users, seconds=seconds) else 1)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
