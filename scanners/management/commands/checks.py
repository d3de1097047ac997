import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scanners.catalogue import COLUMNS, catalogue_markdown, catalogue_rows, readme_regenerate
from scanners.registry import ProbeError


class Command(BaseCommand):
    help = "Print the check catalogue (id, kind, severity, category, OWASP NHI item, title, remediation)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json", "md"], default="table")
        parser.add_argument("--kind", help="Only the checks of this probe kind (inventory, aws, vault, git, ...).")
        parser.add_argument("--write-readme", metavar="PATH",
                            help="Refill the <!-- checks:KIND --> blocks of this Markdown file in place.")

    def handle(self, *args, format="table", kind=None, write_readme=None, **options):  # noqa: A002
        try:
            if write_readme:
                return self._write_readme(Path(write_readme))
            rows = catalogue_rows(kind=kind)
            if format == "json":
                self.stdout.write(json.dumps(rows, indent=2))
            elif format == "md":
                self.stdout.write(catalogue_markdown(kind=kind), ending="")
            else:
                self._table(rows)
        except ProbeError as exc:
            raise CommandError(str(exc)) from exc

    def _write_readme(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        old = path.read_text(encoding="utf-8")
        new = readme_regenerate(old)
        path.write_text(new, encoding="utf-8")
        self.stdout.write(f"{path}: {'updated' if new != old else 'already up to date'}")

    def _table(self, rows):
        widths = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in COLUMNS[:-1]}
        fmt = "  ".join(f"{{{c}:<{widths[c]}}}" for c in COLUMNS[:-1])
        self.stdout.write(fmt.format(**{c: c.upper() for c in COLUMNS[:-1]}))
        for row in rows:
            self.stdout.write(fmt.format(**row))
            self.stdout.write(f"    remediation: {row['remediation']}")
