import csv
import json

from django.core.management.base import BaseCommand

from inventory.exports import neutralise
from scanners.models import Finding
from scanners.selectors import findings_list

COLUMNS = ["check_id", "severity", "category", "status", "team", "bot", "subject", "title",
           "first_seen", "last_seen", "fingerprint"]


def _row(f: Finding) -> dict:
    return {
        "check_id": f.check_id, "severity": f.severity, "category": f.category, "status": f.status,
        "team": f.bot.team.name if f.bot else "", "bot": f.bot.name if f.bot else "",
        "subject": f.subject, "title": f.title, "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(), "fingerprint": f.fingerprint,
    }


class Command(BaseCommand):
    help = "List findings as a table, JSON or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
        parser.add_argument("--status", choices=[s.value for s in Finding.Status])
        parser.add_argument("--severity", choices=[s for s, _ in Finding._meta.get_field("severity").choices])
        parser.add_argument("--bot", metavar="NAME")
        parser.add_argument("--team", metavar="NAME")
        parser.add_argument("--check", dest="check_id", metavar="ID")

    def handle(self, *args, format="table", status=None, severity=None, bot=None, team=None, check_id=None,
               **options):
        rows = (_row(f) for f in findings_list(status=status, bot=bot, team=team, severity=severity,
                                               check_id=check_id).iterator(chunk_size=2000))
        if format == "json":
            self.stdout.write(json.dumps({"findings": list(rows)}, indent=2))
        elif format == "csv":
            writer = csv.DictWriter(self.stdout, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: neutralise(v) for k, v in row.items()})
        else:
            fmt = "{:<10} {:<14} {:<22} {:<46} {}"
            self.stdout.write(fmt.format("SEVERITY", "STATUS", "BOT", "CHECK", "SUBJECT"))
            n = 0
            for row in rows:
                n += 1
                self.stdout.write(fmt.format(row["severity"], row["status"], row["bot"] or "(unowned)",
                                             row["check_id"], row["subject"]))
            self.stdout.write(f"{n} finding(s)")
