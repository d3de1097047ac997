"""Every export is recorded in the audit log: who, what, when, with which filters."""

from inventory.models import AuditLogEntry


def export_record(*, user, kind: str, filters=None) -> AuditLogEntry:
    params = {k: v for k, v in (filters or {}).items() if v}
    return AuditLogEntry.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=f"export.{kind}", target=kind, detail={"filters": params},
    )


def filter_errors(filterset) -> str:
    """'' when the export's filters are valid, else one line naming each bad parameter."""
    if not filterset.is_bound or filterset.is_valid():
        return ""
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
