"""Helpers shared by every spreadsheet export, and the findings export's columns."""

from scanners.models import Finding

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ tab or CR gets a leading '.
    Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


FINDING_COLUMNS = ["check_id", "severity", "category", "status", "team", "bot", "subject", "title",
                   "first_seen", "last_seen", "resolved_at", "status_reason", "fingerprint", "overdue"]


def finding_row(f: Finding) -> list:
    bot = f.bot
    return [f.check_id, f.severity, f.category, f.status, bot.team.name if bot else "", bot.name if bot else "",
            f.subject, f.title, f.first_seen.isoformat(), f.last_seen.isoformat(),
            f.resolved_at.isoformat() if f.resolved_at else "", f.status_reason, f.fingerprint,
            "yes" if f.is_overdue else "no"]
