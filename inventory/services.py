"""Writes to the inventory that are not the manifest's: facts probes learned."""

from django.db import transaction

from .models import Credential

OBSERVED_FIELDS = ("created_at", "last_rotated_at", "last_used_at")


@transaction.atomic
def credentials_observe(*, facts: dict, now) -> int:
    """Record dates a probe learned about the secrets behind credentials. Returns rows updated."""
    if not facts:
        return 0
    creds = Credential.objects.in_bulk(list(facts))
    for pk, values in facts.items():
        cred = creds.get(pk)
        if cred is None:
            continue
        for name in OBSERVED_FIELDS:
            if name in values:
                setattr(cred, name, values[name])
        cred.observed_at = now
    Credential.objects.bulk_update(creds.values(), [*OBSERVED_FIELDS, "observed_at"])
    return len(creds)
