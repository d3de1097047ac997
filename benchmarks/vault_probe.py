"""Benchmark the Vault probe against a real OpenBao dev server.

    python benchmarks/vault_probe.py [--kv 20000] [--policies 500] [--tokens 2000] [--workers 1 8 16]

Seeds a fresh dev server on a free loopback port (KV v2 secrets in a 3-level tree, ACL policies
with glob and `+` rules, tokens carrying `bot` meta, a few AppRoles), then times the probe's
collect() once per worker count (1 = one request at a time, the peer to compare with) and the
12 checks on the collected observations against an in-memory fleet of 200 bots. Prints a
Markdown table for docs/benchmarks.md. Needs no database.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

import hvac  # noqa: E402
import requests  # noqa: E402
from django.utils import timezone  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

from devtools.openbao import dev_server_start, dev_server_stop, free_port  # noqa: E402
from inventory.models import Bot, Connector, Credential, Identity, Team  # noqa: E402
from scanners.context import Fleet, ProbeContext  # noqa: E402
from scanners.vault.collect import collect  # noqa: E402
from scanners.vault.probe import CHECKS  # noqa: E402

BOTS = 200


def kv_paths(n):
    per_bot = max(1, n // 500)
    paths = [f"teams/team{t}/bot{b}/secret{s}" for t in range(50) for b in range(10) for s in range(per_bot)]
    return paths[:n]


def seed(client, *, kv, policies, tokens, seed_workers=16):
    started = time.perf_counter()
    paths = kv_paths(kv)

    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=seed_workers))
    client = hvac.Client(url=client.url, token=client.token, session=session)

    def write(i_path):
        i, path = i_path
        client.secrets.kv.v2.create_or_update_secret(path=path, secret={"v": secrets.token_hex(8)},
                                                     mount_point="secret")
        if i % 10 == 0:
            client.secrets.kv.v2.update_metadata(path=path, custom_metadata={"bot": f"bot-{i % BOTS}"},
                                                 mount_point="secret")

    def policy(i):
        text = (f'path "secret/data/teams/team{i % 50}/bot{i % 10}/*" {{ capabilities = ["read"] }}\n'
                f'path "secret/metadata/teams/team{i % 50}/+/secret{i % 7}" {{ capabilities = ["list"] }}\n'
                f'path "secret/data/teams/team{i % 50}/bot{(i + 1) % 10}/secret0" {{ capabilities = ["deny"] }}')
        if i % 100 == 0:
            text += '\npath "secret/*" { capabilities = ["read"] }'
        client.sys.create_or_update_acl_policy(name=f"pol-{i}", policy=text)

    def token(i):
        client.auth.token.create(policies=[f"pol-{i % policies}"], meta={"bot": f"bot-{i % BOTS}"},
                                 ttl="1h" if i % 3 else "900h")

    with ThreadPoolExecutor(seed_workers) as pool:
        list(pool.map(write, enumerate(paths)))
        list(pool.map(policy, range(policies)))
        list(pool.map(token, range(tokens)))
    client.sys.enable_auth_method("approle")
    for i in range(20):
        client.auth.approle.create_or_update_approle(f"role-{i}", token_policies=[f"pol-{i}"],
                                                     secret_id_ttl="0" if i % 2 else "1h")
        client.auth.approle.generate_secret_id(f"role-{i}")
    return time.perf_counter() - started, paths


def per_secret_token(client) -> str:
    """Everything the probe reads, except OpenBao's detailed-metadata listing: the HashiCorp Vault
    path (LIST metadata, then one metadata read per secret)."""
    client.sys.create_or_update_acl_policy(name="bench-probe", policy=(
        'path "*" { capabilities = ["read", "list", "update", "sudo"] }\n'
        'path "secret/detailed-metadata/*" { capabilities = ["deny"] }'))
    return client.auth.token.create(policies=["bench-probe"], ttl="2h")["auth"]["client_token"]


def fleet(paths):
    team = Team(pk=1, name="bench", slug="bench")
    bots = {i: Bot(pk=i, name=f"bot-{i}", slug=f"bot-{i}", team=team, status="active") for i in range(BOTS)}
    creds = [Credential(pk=i + 1, bot_id=i % BOTS, name=f"c{i}", store="vault_kv", ref=f"secret/{p}",
                        rotation_days=90) for i, p in enumerate(paths[::7])]
    idents = [Identity(pk=i + 1, bot_id=i, kind="vault_approle", ref=f"role-{i}") for i in range(20)]
    return Fleet(bots=bots, credentials=creds, identities=idents)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kv", type=int, default=20000)
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--modes", nargs="+", default=["detailed", "per-secret"], choices=["detailed", "per-secret"])
    args = parser.parse_args()

    port, root = free_port(), "bench-" + secrets.token_hex(8)
    log = Path(tempfile.mkdtemp(prefix="bao-bench-")) / "bao.log"
    proc = dev_server_start(port=port, root_token=root, log_path=log)
    try:
        url = f"http://127.0.0.1:{port}"
        seed_seconds, paths = seed(hvac.Client(url=url, token=root), kv=args.kv, policies=args.policies,
                                   tokens=args.tokens)
        print(f"seeded {args.kv} KV secrets, {args.policies} policies, {args.tokens} tokens "
              f"in {seed_seconds:.1f}s", file=sys.stderr)
        tokens = {"detailed": root, "per-secret": per_secret_token(hvac.Client(url=url, token=root))}
        ctx = ProbeContext(fleet=fleet(paths), now=timezone.now())
        rows, obs = [], None
        for mode in args.modes:
            os.environ["VAULT_TOKEN_BENCH"] = tokens[mode]
            for workers in args.workers:
                conn = Connector(name="bench", kind="vault", options={"url": url, "workers": workers})
                started = time.perf_counter()
                collected = collect(conn, ctx)
                seconds = time.perf_counter() - started
                assert not collected.errors, collected.errors
                assert collected.counts["kv_secrets"] == args.kv, collected.counts
                rows.append((mode, workers, seconds, collected.api_calls, collected.counts))
                obs = collected.observations
                print(f"{mode} workers={workers}: {seconds:.1f}s, {collected.api_calls} requests", file=sys.stderr)
        started = time.perf_counter()
        hits = {c.id: sum(1 for _ in c(obs, ctx)) for c in CHECKS}
        check_seconds = time.perf_counter() - started
    finally:
        dev_server_stop(proc)
    base = {}
    print("\n| KV listing | workers | collect wall time | HTTP requests | requests/s | vs. workers=1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, workers, seconds, calls, _counts in rows:
        base.setdefault(mode, seconds)
        print(f"| {mode} | {workers} | {seconds:.1f} s | {calls} | {calls / seconds:.0f} | "
              f"{base[mode] / seconds:.2f}x |")
    counts = rows[-1][4]
    hit_text = ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in hits.items() if v)
    print(f"\nCollected: {counts['kv_secrets']} KV secrets, {counts['policies']} policies, {counts['tokens']} tokens, "
          f"{counts['approles']} AppRoles. Checks on {BOTS} bots: {check_seconds:.1f} s, "
          f"{sum(hits.values())} hits ({hit_text}). "
          f"Seeding: {seed_seconds:.0f} s. Peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB.")


if __name__ == "__main__":
    main()
