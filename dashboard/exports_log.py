"""The setup every export shares: the page's filters bound to the request and applied to what the
user may see, a 400 naming each bad parameter (nothing exported, nothing recorded), and the
audit-log record of who exported what, when, with which filters."""

from django.http import HttpResponseBadRequest, StreamingHttpResponse

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


def export_filtered(request, *, filterset_class, queryset, kind: str):
    """(rows, None) with the filters applied and the export recorded, or (None, a 400 response)."""
    filterset = filterset_class(request.GET or None, queryset=queryset, user=request.user)
    error = filter_errors(filterset)
    if error:
        return None, HttpResponseBadRequest(f"Nothing exported: bad filter {error}\n", content_type="text/plain")
    export_record(user=request.user, kind=kind, filters=request.GET)
    return (filterset.qs if filterset.is_bound else filterset.queryset), None


def csv_response(lines, *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
