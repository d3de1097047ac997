"""Auditors preview any team's digest (or the security summary) in the browser."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from inventory.models import Team
from inventory.selectors import user_is_auditor
from scanners.digest.services import SECURITY_GROUP, digest_prepare, team_group
from scanners.digest.weeks import week_parse, week_previous
from scanners.models import Digest


def digest_preview(request, team: str | None = None):
    if not user_is_auditor(request.user):
        raise PermissionDenied("Only auditors can preview digests.")
    try:
        week = week_parse(request.GET["week"]) if request.GET.get("week") else week_previous()
    except ValueError as exc:
        return HttpResponseBadRequest(f"?week: {exc}", content_type="text/plain")
    group = team_group(get_object_or_404(Team, slug=team)) if team else SECURITY_GROUP
    plan = digest_prepare(group=group, week=week)
    return render(request, "dashboard/digest_preview.html", {
        "plan": plan,
        "record": Digest.objects.filter(group=group, week=week.label).first(),
        "teams": Team.objects.order_by("name"),
        "current_team": team,
    })
