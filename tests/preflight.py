"""Before the test suite: are PostgreSQL and Redis reachable? One clear message if not."""

import os
import socket
import sys
from urllib.parse import urlparse

HINT = "Start them with `docker-compose up -d postgres redis` (or your system's service manager)."


def reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return f"{parsed.scheme} at {host}:{port} ({exc.strerror or exc})"
    return None


def main() -> int:
    missing = [
        m for m in (
            reachable(os.environ["DATABASE_URL"], 5432) if os.environ["DATABASE_URL"].startswith("postgres") else None,
            reachable(os.environ["REDIS_URL"], 6379),
        ) if m
    ]
    if missing:
        print("make test needs PostgreSQL and Redis; not reachable: " + "; ".join(missing) + ". " + HINT,
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
