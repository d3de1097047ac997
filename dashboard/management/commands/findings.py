import json

from django.core.management.base import BaseCommand, CommandError

from dashboard.exports import FINDING_COLUMNS, finding_row, neutralise
from dashboard.interchange import defectdojo_document, sarif_document
from dashboard.spreadsheet import csv_lines
from inventory.selectors import TeamNotFound, team_get
from inventory.text import text_printable
from scanners.models import Finding
from scanners.selectors.findings import findings_list


class Command(BaseCommand):
    help = ("List findings as a table, JSON or CSV (the same columns as /export/findings.csv), as DefectDojo "
            "Generic Findings Import JSON, or the leak findings as SARIF 2.1.0.")

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json", "csv", "defectdojo", "sarif"], default="table")
        parser.add_argument("--status", choices=[s.value for s in Finding.Status])
        parser.add_argument("--severity", choices=[s for s, _ in Finding._meta.get_field("severity").choices])
        parser.add_argument("--bot", metavar="NAME")
        parser.add_argument("--team", metavar="NAME", help="Only this team's bots (name or slug).")
        parser.add_argument("--check", dest="check_id", metavar="ID")

    def handle(self, *args, format="table", status=None, severity=None, bot=None, team=None, check_id=None,
               **options):
        try:
            team_obj = team_get(name_or_slug=team) if team else None
        except TeamNotFound as exc:
            raise CommandError(f"--team {team!r}: {exc}") from None
        findings = findings_list(status=status, bot=bot, team=team_obj, severity=severity, check_id=check_id)
        if format in ("defectdojo", "sarif"):
            document = defectdojo_document if format == "defectdojo" else sarif_document
            self.stdout.write(json.dumps(document(findings.iterator(chunk_size=2000)), indent=2))
            return
        rows = (finding_row(f) for f in findings.iterator(chunk_size=2000))
        if format == "json":
            self.stdout.write(json.dumps({"findings": [dict(zip(FINDING_COLUMNS, r, strict=True)) for r in rows]},
                                         indent=2))
        elif format == "csv":
            for text in csv_lines(header=FINDING_COLUMNS, rows=([neutralise(v) for v in r] for r in rows)):
                self.stdout.write(text, ending="")
        else:
            self._table(dict(zip(FINDING_COLUMNS, r, strict=True)) for r in rows)

    def _table(self, rows):
        fmt = "{:<10} {:<14} {:<22} {:<46} {}"
        self.stdout.write(fmt.format("SEVERITY", "STATUS", "BOT", "CHECK", "SUBJECT"))
        n = 0
        for row in rows:
            n += 1
            self.stdout.write(fmt.format(row["severity"], row["status"], text_printable(row["bot"] or "(unowned)"),
                                         row["check_id"], text_printable(row["subject"])))  # file names are data
        self.stdout.write(f"{n} finding(s)")
