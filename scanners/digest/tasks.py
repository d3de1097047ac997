"""Celery tasks for the weekly digest: thin, arguments are strings, idempotent via the Digest row."""

from celery import shared_task
from django.conf import settings

from .services import digest_groups_list, digest_send
from .weeks import week_previous


@shared_task(name="botaudit.digest.send_weekly_digests", acks_late=True)
def send_weekly_digests(week: str | None = None) -> dict:
    """Beat's Monday tick: fix the week once, then one subtask per recipient group."""
    label = week or week_previous().label
    groups = digest_groups_list()
    for group in groups:
        send_digest_group.delay(group=group, week=label)
    return {"week": label, "groups": groups}


# max_retries=None: BOTAUDIT_DIGEST_MAX_RETRIES decides
@shared_task(name="botaudit.digest.send_digest_group", bind=True, acks_late=True, max_retries=None)
def send_digest_group(self, group: str, week: str) -> str:
    try:
        return digest_send(group=group, week=week)
    except Exception as exc:  # any failure of this group is already recorded on its Digest row
        if self.request.retries >= settings.BOTAUDIT_DIGEST_MAX_RETRIES:
            return "failed"
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries)) from exc
