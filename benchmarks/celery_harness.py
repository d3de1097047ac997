"""What the Celery benchmarks (units_bench.py, aws_org_celery.py) share: their PostgreSQL database,
created when missing, and a redis-server of their own on a free loopback port (never the machine's)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def database_ensure(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def redis_start(tmp: Path) -> tuple[subprocess.Popen, int]:
    from devtools.ports import free_port

    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        if ping.stdout.strip() == "PONG":
            return proc, port
        time.sleep(0.1)
    raise SystemExit("redis-server did not start")
