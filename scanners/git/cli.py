"""`botaudit-scan`: the console script behind the pre-commit hook (.pre-commit-hooks.yaml) and CI.
Runs `scan_repo` (same options, output and exit codes: 0 clean, 1 on a finding, 2 on an error) with
the database-free settings of scanners/git/config.py, never the project's settings: no database, no
broker, no DJANGO_SECRET_KEY, and none of the project's apps imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import django
    import environ
    from django.conf import settings

    from .config import scan_settings

    if not settings.configured:
        settings.configure(**scan_settings(environ.Env()))
    django.setup()
    from scanners.management.commands.scan_repo import Command

    try:
        Command().run_from_argv(["botaudit-scan", "scan_repo", *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
