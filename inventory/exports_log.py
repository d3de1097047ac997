"""Every export is recorded in the audit log: who, what, when, with which filters."""

from .models import AuditLogEntry


def export_record(*, user, kind: str, filters=None) -> AuditLogEntry:
    params = {k: v for k, v in (filters or {}).items() if v}
    return AuditLogEntry.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=f"export.{kind}", target=kind, detail={"filters": params},
    )
