"""The audit spreadsheet: one row per bot credential (one row with empty credential columns for a
bot without credentials), streamed in chunks of bots so memory stays flat whatever the row count.

over_broad_access and leaked are per bot: "yes" when the bot has an open finding of that category.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from django.db import connection
from django.db.models import Count, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from dashboard.export_sql import iso_or_blank, neutralised
from dashboard.exports import neutralise
from dashboard.fleet import latest_score_of
from inventory.credentials import days_since, rotation_overdue
from inventory.models import Bot, Credential, Identity
from scanners.models import Category, Finding

AUDIT_COLUMNS = [
    "team", "bot", "owner", "environment", "credential", "store", "ref", "service", "identities", "created",
    "last_rotated", "age_days", "rotation_days", "rotation_overdue", "last_used", "over_broad_access", "leaked",
    "open_critical", "open_high", "open_medium", "open_low", "risk_score", "last_audited",
]
CHUNK = 1000
NO_FINDINGS = (0, 0, 0, 0, 0, 0)
BOT_TEXT = ("team__name", "name", "owner_email", "environment")
CRED_TEXT = ("name", "store", "ref", "service")


def _ids(ids: list[int]):
    """The chunk's bot ids as one array parameter on PostgreSQL (a 1,000-item IN list cost more
    Python time than the rows), a plain list elsewhere. The array goes as its text literal: psycopg
    adapting a list of ints checks every item."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", ["{" + ",".join(map(str, ids)) + "}"])
    return ids


def _chunk_context(ids: list[int]) -> tuple[dict, dict, dict, dict]:
    """Four queries. The database hands over finished cell text (neutralised text, ISO dates, '' for
    unknown dates): a Python object per cell was most of the export's time."""
    ids = _ids(ids)
    bot_text, cred_text = _neutralised(BOT_TEXT), _neutralised(CRED_TEXT)
    bots = {}
    for pk, *text, score, audited in Bot.objects.filter(pk__in=ids).annotate(
            **bot_text, risk_score=_latest("score"), last_audited=iso_or_blank(_latest("audit_run__finished")),
    ).values_list("pk", *bot_text, "risk_score", "last_audited"):
        bots[pk] = (text, "" if score is None else score, audited)
    creds = defaultdict(list)
    for cred in Credential.objects.filter(bot_id__in=ids).order_by("bot_id", "name").annotate(
            **cred_text, created=iso_or_blank("created_at"), rotated=iso_or_blank("last_rotated_at"),
            used=iso_or_blank("last_used_at"),
    ).values_list("bot_id", *cred_text, "created", "rotated", "rotation_days", "used"):
        creds[cred[0]].append(cred)
    identities = defaultdict(list)
    for bot_id, kind, ref in Identity.objects.filter(bot_id__in=ids).order_by("kind", "ref").values_list(
            "bot_id", "kind", "ref"):
        identities[bot_id].append(f"{kind}:{ref}")
    per_bot = {
        **{sev: Count("pk", filter=Q(severity=sev)) for sev in ("critical", "high", "medium", "low")},
        "over_broad": Count("pk", filter=Q(category=Category.OVER_BROAD_ACCESS)),
        "leak": Count("pk", filter=Q(category=Category.LEAK)),
    }
    counts = {row[0]: row[1:] for row in (
        Finding.objects.filter(bot_id__in=ids, status=Finding.Status.OPEN).order_by().values("bot_id")
        .annotate(**per_bot).values_list("bot_id", *per_bot))}
    return bots, creds, identities, counts


def _neutralised(fields) -> dict:
    return {f"text{i}": neutralised(field) for i, field in enumerate(fields)}


def _latest(field):
    return Subquery(latest_score_of().values(field)[:1])


_parse = datetime.fromisoformat  # the ISO text above is aware (+00:00)


def _bot_rows(bot, creds, identities: str, counts, now) -> Iterator[list]:
    """age_days and rotation_overdue come from inventory.credentials' rules on plain values (no
    per-row objects: building them was a tenth of the export)."""
    text, risk_score, last_audited = bot
    critical, high, medium, low, over_broad, leak = counts
    tail = ["yes" if over_broad else "no", "yes" if leak else "no", critical, high, medium, low, risk_score,
            last_audited]
    if not creds:
        yield [*text, "", "", "", "", identities, "", "", "", "", "", "", *tail]
        return
    for _, name, store, ref, service, created, rotated, rotation_days, used in creds:
        created_at = _parse(created) if created else None
        rotated_at = _parse(rotated) if rotated else None
        age = days_since(created_at, now=now)
        overdue = rotation_overdue(rotation_days=rotation_days, last_rotated_at=rotated_at, created_at=created_at,
                                   now=now)
        yield [
            *text, name, store, ref, service, identities, created, rotated, "" if age is None else age,
            "" if rotation_days is None else rotation_days, "yes" if overdue else "no", used, *tail,
        ]


def audit_rows(*, bots: QuerySet[Bot], now=None, chunk_size: int = CHUNK) -> Iterator[list]:
    """Rows (lists in AUDIT_COLUMNS order, formulas neutralised) for the given bots, ordered by
    team and bot name. One query for the ids, then four per chunk of bots."""
    now = now or timezone.now()
    ids = list(bots.order_by("team__name", "name").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start:start + chunk_size]
        by_id, creds, identities, counts = _chunk_context(chunk)
        for pk in chunk:
            yield from _bot_rows(by_id[pk], creds.get(pk, ()), neutralise("; ".join(identities.get(pk, ()))),
                                 counts.get(pk, NO_FINDINGS), now)


def csv_lines(*, header: list[str], rows: Iterable[list], batch: int = 1000) -> Iterator[str]:
    """CSV text in batches of rows: what a StreamingHttpResponse or a file consumes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows = iter(rows)
    while True:
        block = list(islice(rows, batch))
        writer.writerows(block)
        yield buffer.getvalue()
        if len(block) < batch:
            return
        buffer.seek(0)
        buffer.truncate()


def xlsx_write(*, header: list[str], rows: Iterable[list], target) -> None:
    """Write an .xlsx workbook (openpyxl write-only mode streams rows to disk) to a path or file."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(target)
