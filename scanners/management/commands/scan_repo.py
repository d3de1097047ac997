"""Scan one repository for leaked secrets and print JSON, SARIF or a table. Writes nothing."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scanners.git.detector import Detector
from scanners.git.mirror import RepositoryError, repository_open
from scanners.git.report import report_json, report_sarif, report_table
from scanners.git.rules import RuleError, rules_load
from scanners.git.scan import baseline_load, repo_scan


class Command(BaseCommand):
    help = "Scan a git repository (path or clone URL) for secrets; exit 1 when anything is found."
    requires_system_checks = []  # uses no database, URL or template: the checks only cost start-up (~0.09 s)

    def add_arguments(self, parser):
        parser.add_argument("location", metavar="PATH_OR_URL")
        parser.add_argument("--format", choices=["json", "sarif", "table"], default="table")
        parser.add_argument("--since", metavar="REV", help="only commits after REV")
        parser.add_argument("--rules", metavar="FILE", help="gitleaks-format TOML rules")
        parser.add_argument("--baseline", metavar="FILE", help="fingerprints to ignore (or a JSON report)")
        parser.add_argument("--branches", nargs="*", default=["*"], help="ref globs (default: all refs)")
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
            result = repo_scan(repo=repo, detector=Detector(ruleset), branches=opts["branches"],
                               since=opts["since"], no_history=opts["no_history"], baseline=baseline,
                               workers=opts["workers"])
        except (RuleError, RepositoryError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if opts["format"] == "json":
            out = report_json(result)
        elif opts["format"] == "sarif":
            out = report_sarif(result, ruleset)
        else:
            out = report_table(result)
        self.stdout.write(out)
        if result.leaks:
            raise SystemExit(1)
