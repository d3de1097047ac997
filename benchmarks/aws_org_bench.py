"""Benchmark AWS units over an organization: 20 accounts x 3 regions in moto, 50 ms per API call.

    .venv/bin/python benchmarks/aws_org_bench.py [--accounts 20] [--regions 3] [--latency-ms 50]
                                                 [--slots 1,4,8]

Starts moto in its own process behind a tiny WSGI wrapper that sleeps `--latency-ms` before every
request (the injected network latency; off while seeding), creates the organization (management
account + accounts-1 members, OrganizationAccountAccessRole made by moto's create_account), seeds
each account (2 users with a key, 2 roles, 3 secrets per region), plans the connector's units
(`<account>/iam`, `<account>/<region>`) and runs every unit's collect() + aws checks on N forked
worker processes (`--mode processes`, like `celery worker -Q probe.aws -c N`'s prefork pool) or N
threads, for each N in --slots (in-memory fleet, no database).
An untimed warm-up pass runs first. Prints wall time per N and the API calls (total and by
operation), which must not change with N.
Fake credentials only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LATENCY_PATH = "/botaudit-bench/latency"
ALL_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"]


def serve(port: int) -> None:
    """The moto process: moto's WSGI app, each request delayed by the current latency."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    moto = DomainDispatcherApplication(create_backend_app)
    latency = {"s": 0.0}

    def app(environ, start_response):
        if environ.get("PATH_INFO") == LATENCY_PATH:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            latency["s"] = json.loads(environ["wsgi.input"].read(length))["ms"] / 1000
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        if latency["s"]:
            time.sleep(latency["s"])
        return moto(environ, start_response)

    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def start_server(port: int):
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def latency_set(url: str, ms: int) -> None:
    import requests

    requests.post(url + LATENCY_PATH, data=json.dumps({"ms": ms}), timeout=10).raise_for_status()


def seed(url: str, accounts: int, regions: list[str]) -> list[str]:
    import boto3

    orgs = boto3.client("organizations", endpoint_url=url, region_name="us-east-1")
    orgs.create_organization(FeatureSet="ALL")
    members = [orgs.create_account(AccountName=f"m{n}", Email=f"m{n}@example.com")["CreateAccountStatus"]["AccountId"]
               for n in range(accounts - 1)]
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    admin = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

    def one(account):
        session = boto3.session.Session()
        if account != "123456789012":
            c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                RoleSessionName="seed")["Credentials"]
            session = boto3.session.Session(aws_access_key_id=c["AccessKeyId"],
                                            aws_secret_access_key=c["SecretAccessKey"],
                                            aws_session_token=c["SessionToken"])
        iam = session.client("iam", endpoint_url=url, region_name="us-east-1")
        for i in range(2):
            iam.create_user(UserName=f"bot-user-{i}")
            iam.create_access_key(UserName=f"bot-user-{i}")
            iam.create_role(RoleName=f"bot-role-{i}", AssumeRolePolicyDocument=trust)
            iam.put_role_policy(RoleName=f"bot-role-{i}", PolicyName="p", PolicyDocument=admin)
        for region in regions:
            sm = session.client("secretsmanager", endpoint_url=url, region_name=region)
            for i in range(3):
                sm.create_secret(Name=f"app/{region}/{i}", SecretString="bench-not-a-secret")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, ["123456789012", *members]))
    return members


class Conn:
    def __init__(self, name, options):
        self.name, self.options = name, options


def unit_run(conn, unit) -> tuple[dict, str, int]:
    """One unit's collect + every aws check: (calls by operation, failure or "", hits)."""
    from scanners.aws.collect import collect
    from scanners.aws.probe import CHECKS
    from scanners.context import Fleet, ProbeContext
    from scanners.registry import ProbeError

    ctx = ProbeContext(fleet=Fleet(bots={}, credentials=[], identities=[]), now=_now())
    ctx.unit = unit
    try:
        collected = collect(conn, ctx)
    except ProbeError as exc:
        return {}, f"{unit.name}: {exc}", 0
    hits = sum(1 for chk in CHECKS for _ in chk(collected.observations, ctx))
    return collected.counts["api_calls_by_operation"], "", hits


_CONN = None


def _unit_in_process(unit):
    return unit_run(_CONN, unit)


def units_execute(conn, units, slots: int, mode: str):
    """Every unit on `slots` worker processes (forked, like Celery's prefork pool) or threads;
    returns (wall s, calls by operation, failures, hits)."""
    global _CONN
    _CONN = conn
    start = time.perf_counter()
    if mode == "processes":
        with multiprocessing.get_context("fork").Pool(slots) as pool:
            results = pool.map(_unit_in_process, units, chunksize=1)
    else:
        with ThreadPoolExecutor(slots) as pool:
            results = list(pool.map(lambda u: unit_run(conn, u), units))
    wall = time.perf_counter() - start
    calls: Counter = Counter()
    for by_op, _, _ in results:
        calls.update(by_op)
    return wall, calls, [f for _, f, _ in results if f], sum(h for _, _, h in results)


def _cpu_self_and_children() -> float:
    """CPU seconds of this process and its reaped children (the worker pool), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _cpu_of(pid: int) -> float:
    """CPU seconds of a running process (the moto server), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _now():
    from django.utils import timezone

    return timezone.now()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--slots", default="1,4,8")
    parser.add_argument("--mode", choices=["processes", "threads"], default="processes")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    import logging

    import django

    django.setup()
    logging.getLogger("botocore").setLevel(logging.WARNING)
    from devtools.ports import free_port
    from scanners.aws.org import plan
    from scanners.context import Fleet, ProbeContext

    regions = ALL_REGIONS[:args.regions]
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        t0 = time.perf_counter()
        seed(url, args.accounts, regions)
        print(f"seeded {args.accounts} accounts x {len(regions)} regions in {time.perf_counter() - t0:.1f} s")
        latency_set(url, args.latency_ms)
        conn = Conn("org-bench", {"regions": regions, "endpoint_url": url, "organization": {}})
        ctx = ProbeContext(fleet=Fleet(bots={}, credentials=[], identities=[]), now=_now())
        t0 = time.perf_counter()
        units = plan(conn, ctx)
        print(f"plan: {len(units)} units in {time.perf_counter() - t0:.2f} s "
              f"(GetCallerIdentity + ListAccounts, {args.latency_ms} ms each)")
        # Warm-up pass in this process (not timed): loads botocore's models, policy_sentry and the
        # catalogue (forked workers inherit them, as a Celery prefork child is warm after its first
        # task), and leaves every account's credential report generated (AWS keeps one for 4 hours),
        # so each timed pass sees the same state.
        units_execute(conn, units, 4, "threads")
        results = {}
        for slots in [int(s) for s in args.slots.split(",")]:
            cpu0, moto0 = _cpu_self_and_children(), _cpu_of(proc.pid)
            wall, calls, failures, hits = units_execute(conn, units, slots, args.mode)
            cpu, moto = _cpu_self_and_children() - cpu0, _cpu_of(proc.pid) - moto0
            results[slots] = wall
            print(f"{args.mode}={slots}: {wall:.2f} s wall, {sum(calls.values())} API calls, {hits} hits, "
                  f"{len(failures)} failed units; speed-up x{results[min(results)] / wall:.2f}")
            print(f"  CPU: probe {cpu:.1f} s (workers), moto server {moto:.1f} s; "
                  f"latency alone {sum(calls.values()) * args.latency_ms / 1000 / slots:.1f} s at {slots} slot(s)")
            print("  calls by operation:", json.dumps(dict(sorted(calls.items()))))
            for failure in failures[:3]:
                print("  failed:", failure)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
