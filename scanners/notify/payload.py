"""What a webhook says about one finished audit: findings new in it at or above the target's minimum
severity, leaks still at a tip, probes that failed. Titles, ids, fingerprints, links: never evidence,
never a secret value. Generic JSON, or Slack-compatible ({"text", "blocks"})."""

from __future__ import annotations

from django.db.models import Q

from ..digest.links import link_finding, link_runs
from ..models import ACTIVE_STATUSES, SEVERITY_ORDER, AuditRun, Category, Finding, ProbeRun
from .targets import Target, severity_at_least

MAX_ITEMS = 20  # per list in a Slack message; the JSON payload carries them all (bounded by MAX_JSON_ITEMS)
MAX_JSON_ITEMS = 500


def _findings(target: Target) -> Q:
    return Q(bot__team=target.team) if target.team is not None else Q()


def _row(f: Finding) -> dict:
    return {"id": f.pk, "check_id": f.check_id, "severity": f.severity, "title": f.title,
            "bot": f.bot.slug if f.bot else None, "team": f.bot.team.slug if f.bot else None,
            "url": link_finding(f.pk)}


def audit_news(*, run: AuditRun, target: Target) -> dict:
    """The facts one webhook reports; `new` is what makes it worth sending."""
    scoped = Finding.objects.filter(_findings(target)).select_related("bot", "bot__team")
    severities = [s for s in SEVERITY_ORDER if severity_at_least(s, target.min_severity)]
    new = scoped.filter(first_seen__gte=run.started, status=Finding.Status.OPEN, severity__in=severities)
    if run.finished:
        new = new.filter(first_seen__lte=run.finished)
    leaks = scoped.filter(category=Category.LEAK, status__in=ACTIVE_STATUSES, evidence__still_at_head=True)
    failed = run.probe_runs.filter(status=ProbeRun.Status.FAILED).select_related("connector")
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    new_rows = sorted((_row(f) for f in new[:MAX_JSON_ITEMS]), key=lambda r: (order[r["severity"]], r["id"]))
    return {
        "audit_run": run.pk, "status": run.status, "target": target.name,
        "team": target.team.slug if target.team else None, "min_severity": target.min_severity,
        "url": link_runs(),
        "counts": {"new_findings": new.count(), "leaks_at_tip": leaks.count(), "failed_probes": failed.count()},
        "new_findings": new_rows,
        "leaks_at_tip": [_row(f) for f in leaks.order_by("-first_seen")[:MAX_JSON_ITEMS]],
        "failed_probes": [{"connector": p.connector.name if p.connector else None, "kind": p.kind}
                          for p in failed],
    }


def news_worth_sending(news: dict) -> bool:
    """Nothing is sent for an audit that found nothing new: no new finding and no failed probe."""
    return bool(news["counts"]["new_findings"] or news["counts"]["failed_probes"])


def _lines(rows, fmt) -> list[str]:
    shown = [fmt(r) for r in rows[:MAX_ITEMS]]
    if len(rows) > MAX_ITEMS:
        shown.append(f"… and {len(rows) - MAX_ITEMS} more")
    return shown


def slack_escape(text) -> str:
    """Slack mrkdwn control characters as entities: a title cannot open a link or a mention."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finding_line(r: dict) -> str:
    title = slack_escape(r["title"]).replace("|", "¦")
    return f"• [{r['severity']}] <{r['url']}|{title}> ({slack_escape(r['bot'] or 'no bot')})"


def slack_payload(news: dict) -> dict:
    c = news["counts"]
    who = f"team {news['team']}" if news["team"] else "security"
    text = (f"BotAudit audit #{news['audit_run']} ({news['status']}) for {slack_escape(who)}: "
            f"{c['new_findings']} new finding(s) "
            f"at {news['min_severity']} or above, {c['leaks_at_tip']} leak(s) still at a tip, "
            f"{c['failed_probes']} failed probe(s).")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    sections = [
        ("New findings", _lines(news["new_findings"], _finding_line)),
        ("Leaks still at a tip", _lines(news["leaks_at_tip"], _finding_line)),
        ("Failed probes", _lines(news["failed_probes"],
                                 lambda p: f"• {slack_escape(p['connector'] or p['kind'])} ({p['kind']})")),
    ]
    for title, lines in sections:
        if lines:
            body = f"*{title}*\n" + "\n".join(lines)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{news['url']}|Audit runs>"}]})
    return {"text": text, "blocks": blocks}


def webhook_payload(*, news: dict, fmt: str) -> dict:
    return slack_payload(news) if fmt == "slack" else {"source": "botaudit", "event": "audit.finished", **news}
