"""The audit spreadsheet: one row per bot credential (one row with empty credential columns for a
bot without credentials), streamed in chunks of bots so memory stays flat whatever the row count.

over_broad_access and leaked are per bot: "yes" when the bot has an open finding of that category.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice

from django.db import connection
from django.db.models import Count, Q, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from scanners.models import Category, Finding

from .credentials import credential_age_days, credential_rotation_overdue
from .exports import neutralise
from .fleet import latest_score_of
from .models import Bot, Credential, Identity

AUDIT_COLUMNS = [
    "team", "bot", "owner", "environment", "credential", "store", "ref", "service", "identities", "created",
    "last_rotated", "age_days", "rotation_days", "rotation_overdue", "last_used", "over_broad_access", "leaked",
    "open_critical", "open_high", "open_medium", "open_low", "risk_score", "last_audited",
]
CHUNK = 1000
NO_FINDINGS = (0, 0, 0, 0, 0, 0)


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _blank(value):
    return "" if value is None else value


def _ids(ids: list[int]):
    """The chunk's bot ids as one array parameter on PostgreSQL (a 1,000-item IN list cost more
    Python time than the rows), a plain list elsewhere."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def _chunk_context(ids: list[int]) -> tuple[dict, dict, dict, dict]:
    ids = _ids(ids)
    bots = {b.pk: b for b in Bot.objects.filter(pk__in=ids).annotate(
        risk_score=_latest("score"), last_audited=_text(_latest("audit_run__finished")),
    ).values_list("pk", "team__name", "name", "owner_email", "environment", "risk_score", "last_audited",
                  named=True)}
    creds = defaultdict(list)
    for cred in Credential.objects.filter(bot_id__in=ids).order_by("bot_id", "name").annotate(
            created=_text("created_at"), rotated=_text("last_rotated_at"), used=_text("last_used_at"),
    ).values_list("bot_id", "name", "store", "ref", "service", "created", "rotated", "rotation_days", "used"):
        creds[cred[0]].append(_Cred(*cred[1:5], _dt(cred[5]), _dt(cred[6]), cred[7], _dt(cred[8])))
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


def _latest(field):
    return Subquery(latest_score_of().values(field)[:1])


def _text(expression):
    """Datetimes come back as text and are parsed by the C datetime.fromisoformat: the ORM's per-value
    converters were most of the export's CPU time."""
    return Cast(expression, TextField())


def _dt(text):
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_Cred = namedtuple("_Cred", "name store ref service created_at last_rotated_at rotation_days last_used_at")


def _bot_rows(bot, creds, identities, counts, now) -> Iterator[list]:
    critical, high, medium, low, over_broad, leak = counts.get(bot.pk, NO_FINDINGS)
    head = [neutralise(v) for v in (bot.team__name, bot.name, bot.owner_email, bot.environment)]
    tail = [_yes_no(over_broad), _yes_no(leak), critical, high, medium, low, _blank(bot.risk_score),
            _iso(_dt(bot.last_audited))]
    ids = neutralise("; ".join(identities.get(bot.pk, [])))
    if not creds:
        yield head + ["", "", "", "", ids, "", "", "", "", "", ""] + tail
        return
    for cred in creds:
        yield head + [
            neutralise(cred.name), neutralise(cred.store), neutralise(cred.ref), neutralise(cred.service), ids,
            _iso(cred.created_at), _iso(cred.last_rotated_at), _blank(credential_age_days(cred, now=now)),
            _blank(cred.rotation_days), _yes_no(credential_rotation_overdue(cred, now=now)),
            _iso(cred.last_used_at),
        ] + tail


def audit_rows(*, bots: QuerySet[Bot], now=None, chunk_size: int = CHUNK) -> Iterator[list]:
    """Rows (lists in AUDIT_COLUMNS order, formulas neutralised) for the given bots, ordered by
    team and bot name. Five queries per chunk of bots."""
    now = now or timezone.now()
    ids = list(bots.order_by("team__name", "name").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start:start + chunk_size]
        by_id, creds, identities, counts = _chunk_context(chunk)
        for pk in chunk:
            yield from _bot_rows(by_id[pk], creds.get(pk, []), identities, counts, now)


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
