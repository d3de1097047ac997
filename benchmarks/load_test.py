"""Load test of the dashboard behind gunicorn, on loopback only: N logged-in users request the
Overview, Fleet and Findings pages for S seconds; prints requests/s, p50/p95/p99 and errors per page.

    createdb -h 127.0.0.1 -U postgres botaudit_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/botaudit_bench REDIS_URL=redis://127.0.0.1:6379/9
    DJANGO_SETTINGS_MODULE=botaudit.settings_test python manage.py migrate
    DJANGO_SETTINGS_MODULE=botaudit.settings_test python manage.py seed_bench --reset
    python benchmarks/load_test.py [--users 50] [--seconds 60] [--workers 3] [--think 0]

gunicorn runs the production settings (DEBUG off) with `--workers 3`, as in docker-compose.yml.
Users are real sessions (a fifth auditors, the rest viewers spread over the teams); each user
loops over the pages with no think time by default (a closed loop: the hardest case), or waits
`--think` seconds (exponentially distributed) between requests. Bounded: at most 200 users and
600 seconds, and nothing but 127.0.0.1.
"""

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings_test")

PAGES = {
    "Overview": ["/"],
    "Fleet": ["/bots/", "/bots/?sort=-risk_score", "/bots/?page=2", "/bots/?severity=critical"],
    "Findings": ["/findings/", "/findings/?status=open", "/findings/?severity=high", "/findings/?page=2"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sessions_create(users: int) -> list[tuple[str, str]]:
    """(role, session cookie) per user: real Django sessions of real users."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from inventory.accounts import user_grant
    from inventory.models import Team

    teams = list(Team.objects.order_by("name").values_list("name", flat=True))
    out = []
    for i in range(users):
        role = "auditor" if i % 5 == 0 else "viewer"
        user, _ = user_grant(email=f"load-{i:03d}@example.com", role=role,
                             team_name=None if role == "auditor" else teams[i % len(teams)])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append((role, session.session_key))
    return out


def server_start(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "botaudit.settings", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "load-test-only-" + "x" * 40),
           "BOTAUDIT_FINGERPRINT_KEY": os.environ.get("BOTAUDIT_FINGERPRINT_KEY", "test-only-fingerprint-key"),
           "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "botaudit.wsgi:application", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--log-level", "warning"], cwd=ROOT, env=env)
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


def user_loop(port, cookie, stop_at, think, results, errors, lock):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(cookie)
    while time.monotonic() < stop_at:
        for page, urls in PAGES.items():
            url = rng.choice(urls)
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
            if time.monotonic() >= stop_at:
                break


def pct(values, q):
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--think", type=float, default=0.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    opts = parser.parse_args()
    users, seconds = min(opts.users, 200), min(opts.seconds, 600)
    cookies = sessions_create(users)
    port = free_port()
    server = server_start(port, opts.workers)
    try:
        lock = threading.Lock()
        for _phase, length in (("warm-up", opts.warmup), ("measure", seconds)):
            results, errors = {}, {}
            load_before = os.getloadavg()[0]
            stop_at = time.monotonic() + length
            threads = [threading.Thread(target=user_loop, args=(port, c, stop_at, opts.think, results, errors, lock))
                       for _role, c in cookies]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
        print(f"{users} users ({sum(r == 'auditor' for r, _ in cookies)} auditors), {seconds:.0f} s, gunicorn "
              f"--workers {opts.workers}, think {opts.think} s, {os.cpu_count()} cores, load average "
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
        print(f"\nall pages: {total} requests, {total / wall:.1f} req/s, "
              f"{sum(len(v) for v in errors.values())} errors")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
