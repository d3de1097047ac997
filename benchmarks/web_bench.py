"""Dashboard benchmark: median page time and SQL query count on a seeded fleet, and the speed and
memory of the audit spreadsheet CSV export.

    createdb -h 127.0.0.1 -U postgres botaudit_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/botaudit_bench DJANGO_SETTINGS_MODULE=botaudit.settings_test
    python manage.py migrate && python manage.py seed_bench --reset
    python benchmarks/web_bench.py [--requests 20] [--export-only] [--without-speedup]

Pages are requested through Django's test client (full middleware stack, templates, PostgreSQL);
the CSV export runs `export_audit` in a fresh child process (its own peak RSS from getrusage);
the Django admin's change lists of the same tables are measured as a peer.
"""

import argparse
import os
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


CHILD = """
import resource, sys, time
import django
django.setup()
from django.core.management import call_command
from inventory.models import Bot
Bot.objects.exists()  # connect before the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
call_command("export_audit", "-o", "/dev/null", *sys.argv[1:])
print(time.perf_counter() - start, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def export_run(args):
    """Run the export in a fresh child process: (seconds of the export itself, RSS after start-up in MiB,
    peak RSS in MiB)."""
    out = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2]) / 1024


def export_report(team):
    rows = Credential.objects.count() + Bot.objects.filter(credentials=None).count()
    team_rows = Credential.objects.filter(bot__team=team).count() + Bot.objects.filter(
        team=team, credentials=None).count()
    print("\n| CSV export (`export_audit` in a child process) | rows | seconds | rows/s | RSS after start-up | "
          "peak RSS |\n|---|---|---|---|---|---|")
    for label, args, n in ((f"one team ({team.name})", ["--team", team.name], team_rows), ("every bot", [], rows)):
        took, base, peak = export_run(args)
        print(f"| {label} | {n:,} | {took:.2f} | {n / took:,.0f} | {base:.0f} MiB | {peak:.0f} MiB |")
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--without-speedup", action="store_true",
                        help="Measure without dashboard.tables_speedup (django-tables2 as shipped).")
    opts = parser.parse_args()
    if opts.without_speedup:
        from dashboard import tables_speedup

        tables_speedup.uninstall()
    print(f"tables_speedup installed: {not opts.without_speedup}")
    print(f"fleet: {Bot.objects.count():,} bots, {Credential.objects.count():,} credentials, "
          f"{Finding.objects.count():,} findings; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    auditor, _ = user_grant(email="bench-auditor@example.com", role="auditor")
    admin, _ = user_grant(email="bench-admin@example.com", role="admin")
    team = Team.objects.order_by("name").first()
    viewer, _ = user_grant(email="bench-viewer@example.com", role="viewer", team_name=team.name)
    if opts.export_only:
        export_report(team)
        return
    bot = Bot.objects.order_by("name").first()
    pages = [
        ("Overview", "/"), ("Fleet", "/bots/"), ("Fleet, 250 per page", "/bots/?per_page=250"),
        ("Fleet, sorted by risk", "/bots/?sort=-risk_score"),
        ("Fleet, has leaks + high", "/bots/?leaks=yes&severity=high"), ("Bot", f"/bots/{bot.slug}/"),
        ("Findings", "/findings/"), ("Findings, 250 per page", "/findings/?per_page=250"),
        ("Findings, open critical", "/findings/?status=open&severity=critical"), ("Runs", "/runs/"),
    ]
    peers = [("peer: Django admin bot list (100 rows)", "/admin/inventory/bot/"),
             ("peer: Django admin finding list (100 rows)", "/admin/scanners/finding/")]
    print("\n| page | role | median ms | max ms | SQL queries |\n|---|---|---|---|---|")
    for role, user, urls in (("auditor", auditor, pages), ("viewer", viewer, pages), ("admin", admin, peers)):
        client = Client()
        client.force_login(user)
        for name, url in urls:
            median, worst, queries = page_times(client, url, opts.requests)
            print(f"| {name} `{url}` | {role} | {median:.1f} | {worst:.1f} | {queries} |")
    rows = export_report(team)
    client = Client()
    client.force_login(auditor)
    start = time.perf_counter()
    response = client.get("/export/audit.csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    took_http = time.perf_counter() - start
    print(f"\nCSV over HTTP (`/export/audit.csv`, test client, streamed): {rows:,} rows, {size / 1e6:.1f} MB in "
          f"{took_http:.2f} s = {rows / took_http:,.0f} rows/s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
