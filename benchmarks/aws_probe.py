"""Benchmark the aws probe against moto's server: 2,000 IAM principals and 5,000 secrets.

    .venv/bin/python benchmarks/aws_probe.py [--principals 2000] [--secrets 5000] [--small]

Starts `python -m moto.server` on a free loopback port (its own process, so moto does not share
our interpreter), seeds the account, then runs the probe's collect() and every aws check with an
in-memory fleet (no database). Prints wall times and API calls by operation, then runs a naive
per-principal enumeration (what most scripts do) over the same account for comparison.
Fake credentials only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")

import boto3  # noqa: E402
import django  # noqa: E402

django.setup()

from devtools.ports import free_port  # noqa: E402
from inventory.models import Bot, Credential, Identity  # noqa: E402
from scanners.aws.collect import collect  # noqa: E402
from scanners.aws.probe import CHECKS  # noqa: E402
from scanners.context import Fleet, ProbeContext  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
BOT_SHARE = 10  # every 10th role and secret belongs to a bot (manifest); others are unowned


def start_moto(port: int):
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def doc(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


TRUST = doc([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])


def seed(url: str, principals: int, secrets: int) -> None:
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
    sm = boto3.client("secretsmanager", endpoint_url=url, region_name=REGION)
    users = principals // 4
    roles = principals - users

    def role(i):
        iam.create_role(RoleName=f"role-{i}", AssumeRolePolicyDocument=TRUST)
        statements = ([{"Effect": "Allow", "Action": "*", "Resource": "*"}] if i % 50 == 0 else
                      [{"Effect": "Allow", "Action": ["s3:Get*", "secretsmanager:GetSecretValue"],
                        "Resource": [f"arn:aws:s3:::bucket-{i}/*",
                                     f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/{i}-*"]}])
        iam.put_role_policy(RoleName=f"role-{i}", PolicyName="p", PolicyDocument=doc(statements))

    def user(i):
        iam.create_user(UserName=f"user-{i}")
        if i % 2 == 0:
            iam.create_access_key(UserName=f"user-{i}")

    def secret(i):
        tags = [{"Key": "bot", "Value": f"bot-{i % (roles // BOT_SHARE)}"}] if i % BOT_SHARE == 0 else []
        sm.create_secret(Name=f"app/{i}", SecretString="bench-not-a-secret", Tags=tags)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(role, range(roles)))
        list(pool.map(user, range(users)))
        list(pool.map(secret, range(secrets)))


def fleet(roles: int) -> Fleet:
    """In-memory bots: every BOT_SHARE-th role belongs to bot-<n>."""
    bots, identities, creds = {}, [], []
    for n in range(roles // BOT_SHARE):
        bots[n + 1] = Bot(pk=n + 1, name=f"bot-{n}", slug=f"bot-{n}", status="active")
        identities.append(Identity(bot_id=n + 1, kind="aws_iam_role",
                                   ref=f"arn:aws:iam::{ACCOUNT}:role/role-{n * BOT_SHARE}"))
        creds.append(Credential(pk=n + 1, bot_id=n + 1, name="s", store="aws_secretsmanager", rotation_days=90,
                                ref=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/{n * BOT_SHARE}"))
    return Fleet(bots=bots, credentials=creds, identities=identities)


class Conn:
    def __init__(self, url):
        self.name, self.options = "bench", {"regions": [REGION], "endpoint_url": url}


def run_probe(url: str, roles: int) -> dict:
    from django.utils import timezone

    ctx = ProbeContext(fleet=fleet(roles), now=timezone.now())
    t0 = time.perf_counter()
    collected = collect(Conn(url), ctx)
    t1 = time.perf_counter()
    findings = sum(1 for chk in CHECKS for _ in chk(collected.observations, ctx))
    t2 = time.perf_counter()
    return {"collect_s": round(t1 - t0, 2), "checks_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
            "api_calls": collected.api_calls, "by_operation": collected.counts["api_calls_by_operation"],
            "findings": findings, "errors": collected.errors}


def run_naive(url: str) -> dict:
    """The usual per-principal script: list principals, then 2-4 calls per principal."""
    calls = 0

    def count(**_):
        nonlocal calls
        calls += 1

    iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
    iam.meta.events.register("before-call", count)
    t0 = time.perf_counter()
    for page in iam.get_paginator("list_users").paginate():
        for u in page["Users"]:
            name = u["UserName"]
            for pol in iam.list_user_policies(UserName=name)["PolicyNames"]:
                iam.get_user_policy(UserName=name, PolicyName=pol)
            iam.list_attached_user_policies(UserName=name)
            iam.list_groups_for_user(UserName=name)
            iam.list_access_keys(UserName=name)
    for page in iam.get_paginator("list_roles").paginate():
        for r in page["Roles"]:
            name = r["RoleName"]
            for pol in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.get_role_policy(RoleName=name, PolicyName=pol)
            iam.list_attached_role_policies(RoleName=name)
    return {"total_s": round(time.perf_counter() - t0, 2), "api_calls": calls}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--principals", type=int, default=2000)
    parser.add_argument("--secrets", type=int, default=5000)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_moto(port)
    try:
        t0 = time.perf_counter()
        seed(url, args.principals, args.secrets)
        seeded = round(time.perf_counter() - t0, 1)
        roles = args.principals - args.principals // 4
        run_probe(url, roles)  # warm-up: the credential report gets generated, IAM data loaded
        probe = run_probe(url, roles)
        naive = run_naive(url)
    finally:
        proc.terminate()
        proc.wait()
    print(json.dumps({"principals": args.principals, "secrets": args.secrets, "seed_s": seeded,
                      "probe": probe, "naive_iam_enumeration": naive}, indent=2))


if __name__ == "__main__":
    main()
