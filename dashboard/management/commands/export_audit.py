from django.core.management.base import BaseCommand, CommandError

from dashboard.exports_log import export_record
from dashboard.spreadsheet import AUDIT_COLUMNS, audit_rows, csv_lines, xlsx_write
from inventory.models import Bot
from inventory.selectors import TeamNotFound, team_get


class Command(BaseCommand):
    help = "Write the audit spreadsheet (one row per bot credential) as CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--team", metavar="NAME", help="Only this team's bots.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write here (default: standard output; "
                            "XLSX needs a file).")

    def handle(self, *args, format="csv", team=None, output=None, **options):
        bots = Bot.objects.all()
        if team:
            try:
                bots = bots.filter(team=team_get(name_or_slug=team))
            except TeamNotFound as exc:
                raise CommandError(f"--team {team!r}: {exc}") from None
        if format == "xlsx" and not output:
            raise CommandError("--format xlsx writes a binary file: give -o FILE")
        try:
            self._write(format, output, audit_rows(bots=bots))
        except OSError as exc:  # a missing directory, a directory, no permission, a full disk
            raise CommandError(f"-o {output}: cannot write: {exc.strerror or exc}; nothing exported") from None
        # logged once the file is complete: a failed export is not recorded as done
        export_record(user=None, kind=f"audit.{format}", filters={"team": team, "command": "export_audit"})

    def _write(self, format, output, rows):
        if format == "xlsx":
            xlsx_write(header=AUDIT_COLUMNS, rows=rows, target=output)
            return
        if not output:
            for chunk in csv_lines(header=AUDIT_COLUMNS, rows=rows):
                self.stdout.write(chunk, ending="")
            return
        with open(output, "w", newline="", encoding="utf-8") as out:
            for chunk in csv_lines(header=AUDIT_COLUMNS, rows=rows):
                out.write(chunk)
