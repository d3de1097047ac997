"""Celery tasks for the webhooks after each audit: on the `digest` queue (with the emails), thin,
arguments are ids, idempotent via the WebhookDelivery row."""

from celery import shared_task
from django.conf import settings

from .http import WebhookFailed
from .services import webhook_deliver
from .targets import targets_list


def audit_webhooks_enqueue(*, audit_run_id: int) -> list[str]:
    """One task per configured target (none configured: nothing queued). The targets queued."""
    names = [t.name for t in targets_list()]
    for name in names:
        send_audit_webhook.apply_async(kwargs={"audit_run_id": audit_run_id, "target": name}, queue="digest")
    return names


# max_retries=None: BOTAUDIT_WEBHOOK_MAX_RETRIES decides
@shared_task(name="botaudit.notify.send_audit_webhook", bind=True, acks_late=True, max_retries=None)
def send_audit_webhook(self, audit_run_id: int, target: str) -> str:
    try:
        return webhook_deliver(audit_run_id=audit_run_id, target_name=target)
    except WebhookFailed as exc:  # already recorded on the WebhookDelivery row
        if self.request.retries >= settings.BOTAUDIT_WEBHOOK_MAX_RETRIES:
            return "failed"
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries)) from exc
