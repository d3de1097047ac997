"""Dashboard benchmark: median page time and SQL query count on a seeded fleet, and the speed and
memory of the audit spreadsheet CSV export.

    createdb -h 127.0.0.1 -U postgres botaudit_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/botaudit_bench DJANGO_SETTINGS_MODULE=botaudit.settings_test
    python manage.py migrate && python manage.py seed_bench --reset
    python benchmarks/web_bench.py [--requests 20]

Pages are requested through Django's test client (full middleware stack, templates, PostgreSQL);
the CSV export runs `manage.py export_audit` in a child process whose peak RSS is read from getrusage.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from inventory.accounts import user_grant  # noqa: E402
from inventory.models import Bot, Credential, Team  # noqa: E402
from scanners.models import Finding  # noqa: E402


def page_times(client, url, n):
    client.get(url)  # warm up
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return statistics.median(times), max(times), len(ctx.captured_queries)


def export_run(args):
    cmd = [sys.executable, "manage.py", "export_audit", "-o", os.devnull, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    took = time.perf_counter() - start
    return took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    opts = parser.parse_args()
    print(f"fleet: {Bot.objects.count():,} bots, {Credential.objects.count():,} credentials, "
          f"{Finding.objects.count():,} findings")
    auditor, _ = user_grant(email="bench-auditor@example.com", role="auditor")
    team = Team.objects.order_by("name").first()
    viewer, _ = user_grant(email="bench-viewer@example.com", role="viewer", team_name=team.name)
    bot = Bot.objects.order_by("name").first()
    pages = [
        ("Overview", "/"), ("Fleet", "/bots/"), ("Fleet, 250 per page", "/bots/?per_page=250"),
        ("Fleet, sorted by risk", "/bots/?sort=-risk_score"),
        ("Fleet, has leaks + high", "/bots/?leaks=yes&severity=high"), ("Bot", f"/bots/{bot.slug}/"),
        ("Findings", "/findings/"), ("Findings, 250 per page", "/findings/?per_page=250"),
        ("Findings, open critical", "/findings/?status=open&severity=critical"), ("Runs", "/runs/"),
    ]
    print("\n| page | role | median ms | max ms | SQL queries |\n|---|---|---|---|---|")
    for role, user in (("auditor", auditor), ("viewer", viewer)):
        client = Client()
        client.force_login(user)
        for name, url in pages:
            median, worst, queries = page_times(client, url, opts.requests)
            print(f"| {name} `{url}` | {role} | {median:.1f} | {worst:.1f} | {queries} |")
    rows = Credential.objects.count() + Bot.objects.filter(credentials=None).count()
    took, rss_all, _ = export_run([])
    team_rows = Credential.objects.filter(bot__team=team).count()
    took_team, _, _ = export_run(["--team", team.name])
    print(f"\nCSV export, all bots: {rows:,} rows in {took:.2f} s = {rows / took:,.0f} rows/s "
          f"(process start included); peak RSS {rss_all / 1024:.0f} MiB")
    print(f"CSV export, one team: {team_rows:,} rows in {took_team:.2f} s")
    client = Client()
    client.force_login(auditor)
    start = time.perf_counter()
    response = client.get("/export/audit.csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    took_http = time.perf_counter() - start
    print(f"CSV over HTTP (test client, streamed): {rows:,} rows, {size / 1e6:.1f} MB in {took_http:.2f} s = "
          f"{rows / took_http:,.0f} rows/s")


if __name__ == "__main__":
    main()
