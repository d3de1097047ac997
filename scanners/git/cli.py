"""`botaudit-scan`: the console script behind the pre-commit hook (.pre-commit-hooks.yaml) and CI.
Runs `scan_repo` (same options, output and exit codes: 0 clean, 1 on a finding, 2 on an error) with
the database-free settings of scanners/git/config.py, never the project's settings: no database, no
broker, no DJANGO_SECRET_KEY, and none of the project's apps imported.

`manage.py scan_repo` comes here too (`project_main`): the project's settings, but none of its apps
either. The command reads no model, URL or template, and loading every app (Celery's app, the probe
registry, django-tables2, psycopg) cost 0.35 s of a scan's start-up."""

from __future__ import annotations

import contextlib
import sys


def main(argv: list[str] | None = None) -> int:
    import environ
    from django.conf import settings

    from .config import scan_settings

    if not settings.configured:
        settings.configure(**scan_settings(environ.Env()))
    return _run("botaudit-scan", sys.argv[1:] if argv is None else argv)


def project_main(prog: str, argv: list[str]) -> int:
    """`manage.py scan_repo ARGV`: the settings module that `--settings` or DJANGO_SETTINGS_MODULE
    names, read as `manage.py` reads it (`--pythonpath` too), and an empty app registry."""
    from django.core.management.base import CommandError, CommandParser, handle_default_options

    parser = CommandParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--settings")
    parser.add_argument("--pythonpath")
    with contextlib.suppress(CommandError):  # (e.g. `--settings` with no value) the command's parser reports it
        handle_default_options(parser.parse_known_args(argv)[0])
    return _run(prog, argv)


def _run(prog: str, argv: list[str]) -> int:
    """`scan_repo ARGV` with the settings in place: logging as django.setup() sets it up, and no app."""
    from django.apps import apps
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    apps.populate([])
    from scanners.management.commands.scan_repo import Command

    try:
        Command().run_from_argv([prog, "scan_repo", *argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
