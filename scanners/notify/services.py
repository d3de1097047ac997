"""Sending one audit's webhook to one target exactly once.

The WebhookDelivery row (unique per audit run and target) is the claim: created, then locked with
SELECT ... FOR UPDATE SKIP LOCKED for the whole HTTP request. A second worker racing on it skips it
("busy"); a retried or redelivered task finds it `sent` (or `skipped`: nothing new) and sends
nothing. The one window left is a crash after the receiver answered and before the commit, as for
the digest's SMTP: HTTP offers no way to make that atomic.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.locations import text_redact

from ..models import AuditRun, WebhookDelivery
from .http import WebhookFailed, webhook_post
from .payload import audit_news, news_worth_sending, webhook_payload
from .targets import WebhookRefused, target_get, webhook_resolve

MAX_ERROR_CHARS = 4000
DONE = (WebhookDelivery.Status.SENT, WebhookDelivery.Status.SKIPPED)


def _claim(*, run: AuditRun, target) -> WebhookDelivery | None:
    WebhookDelivery.objects.get_or_create(audit_run=run, target=target.name, defaults={
        "team": target.team, "url_env": target.url_env, "format": target.format})
    return WebhookDelivery.objects.select_for_update(skip_locked=True).filter(
        audit_run=run, target=target.name).first()


def _failure(delivery: WebhookDelivery, exc: Exception) -> None:
    delivery.attempts += 1
    delivery.status = WebhookDelivery.Status.FAILED
    line = " ".join(text_redact(f"{type(exc).__name__}: {exc}").split())
    stamp = f"attempt {delivery.attempts} at {timezone.now():%Y-%m-%d %H:%M:%S%z}: {line}"
    delivery.error = f"{delivery.error}{stamp}\n"[-MAX_ERROR_CHARS:]
    delivery.save(update_fields=["attempts", "status", "error", "counts"])


def webhook_deliver(*, audit_run_id: int, target_name: str) -> str:
    """Send the webhook of one finished audit to one target unless that was done. Returns 'sent',
    'already sent', 'skipped: ...', 'busy' or 'refused: ...' (recorded, not retried); raises
    WebhookFailed (recorded) for the caller to retry with backoff."""
    run = AuditRun.objects.get(pk=audit_run_id)
    target = target_get(target_name)
    if target is None:
        return "skipped: not configured"
    if not run.finished:
        return "skipped: audit not finished"
    if WebhookDelivery.objects.filter(audit_run=run, target=target.name, status__in=DONE).exists():
        return "already sent"
    news = audit_news(run=run, target=target)
    failure = None
    with transaction.atomic():
        delivery = _claim(run=run, target=target)
        if delivery is None:
            return "busy"
        if delivery.status in DONE:
            return "already sent"
        delivery.counts = news["counts"]
        if not news_worth_sending(news):
            delivery.status = WebhookDelivery.Status.SKIPPED
            delivery.save(update_fields=["status", "counts"])
            return "skipped: nothing new"
        try:
            resolved = webhook_resolve(url_env=target.url_env)
            webhook_post(resolved=resolved, body=webhook_payload(news=news, fmt=target.format))
        except WebhookRefused as exc:
            _failure(delivery, exc)
            return f"refused: {exc}"
        except WebhookFailed as exc:
            failure = exc
            _failure(delivery, exc)
        else:
            delivery.attempts += 1
            delivery.status, delivery.sent_at = WebhookDelivery.Status.SENT, timezone.now()
            delivery.save(update_fields=["attempts", "status", "counts", "sent_at"])
    if failure is not None:
        raise failure
    return "sent"
