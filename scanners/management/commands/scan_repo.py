"""Scan one repository for leaked secrets and print JSON, SARIF or a table. Writes nothing and
needs no database (also run without one by the `botaudit-scan` console script, see botaudit/scan_cli.py)."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scanners.git.detector import Detector
from scanners.git.mirror import RepositoryError, repository_open
from scanners.git.report import report_exit
from scanners.git.rules import RuleError, rules_load
from scanners.git.scan import ScanResult, baseline_load, engine_exec, repo_scan
from scanners.git.staged import staged_scan
from scanners.git.walker import Stats

NO_COMMIT = "0" * 40


def push_range() -> tuple[str | None, str] | None:
    """(the remote's old commit or None, the commit pushed) when run by pre-commit's pre-push stage
    (PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF in the environment), else None."""
    to_ref = os.environ.get("PRE_COMMIT_TO_REF", "")
    if not to_ref:
        return None
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF", "")
    return (None if not from_ref or from_ref == NO_COMMIT else from_ref), to_ref


class Command(BaseCommand):
    help = "Scan a git repository (path or clone URL) for secrets; exit 1 when anything is found."
    requires_system_checks = []  # uses no database, URL or template: the checks only cost start-up (~0.09 s)

    def add_arguments(self, parser):
        parser.add_argument("location", metavar="PATH_OR_URL", nargs="?", default=".")
        parser.add_argument("--format", choices=["json", "sarif", "table"], default="table")
        parser.add_argument("--since", metavar="REV",
                            help="only the commits of HEAD (or of --branches) that REV lacks")
        parser.add_argument("--staged", action="store_true",
                            help="only what is staged (index vs HEAD); under pre-commit's pre-push stage, "
                                 "the commits being pushed")
        parser.add_argument("--rules", metavar="FILE", help="gitleaks-format TOML rules")
        parser.add_argument("--baseline", metavar="FILE", help="fingerprints to ignore (or a JSON report)")
        parser.add_argument("--branches", nargs="*", default=None,
                            help="ref globs (default: all refs; with --since, HEAD)")
        parser.add_argument("--no-history", action="store_true", help="scan only the default branch's tip")
        parser.add_argument("--workers", type=int, default=None)

    def handle(self, *args, **opts):
        try:
            ruleset = rules_load(path=opts["rules"])
            baseline = baseline_load(opts["baseline"]) if opts["baseline"] else set()
            repo = repository_open(
                location=opts["location"], base_dir=Path.cwd(),
                cache_dir=Path(settings.BOTAUDIT_GIT_CACHE_DIR), roots=settings.BOTAUDIT_GIT_ROOTS,
            )
            result = self._scan(repo=repo, detector=Detector(ruleset), baseline=baseline, opts=opts)
        except (RuleError, RepositoryError, OSError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from None  # 1 means "found something"
        text, code = report_exit(result, opts["format"], ruleset)
        self.stdout.write(text)
        if code:
            raise SystemExit(code)

    def run_from_argv(self, argv):
        self.own_process = True  # a command line (not call_command): a history scan may replace it
        super().run_from_argv(argv)

    def _history_scan(self, *, repo, opts, **kw):
        """repo_scan; run from a command line with a time limit, this process is replaced by the
        scanning supervisor, which prints the report (scan.engine_exec)."""
        limit = settings.BOTAUDIT_GIT_SCAN_TIME_LIMIT
        if getattr(self, "own_process", False) and limit:
            engine_exec("scanners.git.report:cli_report", repo=repo, kwargs={"output": opts["format"], **kw},
                        seconds=limit, what=f"scan of {repo.path}")
        return repo_scan(repo=repo, **kw)

    def _scan(self, *, repo, detector, baseline, opts):
        if opts["staged"] and (opts["since"] or opts["no_history"] or opts["branches"] is not None):
            raise ValueError("--staged takes no --since, --branches or --no-history")
        pushed = push_range() if opts["staged"] else None
        if pushed is not None:  # pre-push: the commits pushed that the remote lacks
            since, to_ref = pushed
            if to_ref == NO_COMMIT:  # a branch deletion pushes no commit
                return ScanResult(leaks=[], stats=Stats())
            return self._history_scan(repo=repo, opts=opts, detector=detector, since=since, revs=[to_ref],
                                      baseline=baseline, workers=opts["workers"])
        if opts["staged"]:
            return staged_scan(repo=repo, detector=detector, baseline=baseline)
        return self._history_scan(repo=repo, opts=opts, detector=detector, branches=opts["branches"],
                                  since=opts["since"], no_history=opts["no_history"], baseline=baseline,
                                  workers=opts["workers"])
