"""`/api/v1/`: read-only resources scoped exactly like the pages (the same selectors), plus triage
and starting an audit for auditors. Thin: reads are the selectors', writes `dashboard.actions`'."""

from __future__ import annotations

import django_filters as filters
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, pagination, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.actions import audit_request, findings_triage_visible
from dashboard.filters_findings import FindingFilter
from dashboard.fleet import fleet_rows
from dashboard.interchange import defectdojo_document, sarif_document
from dashboard.leaks import (
    confidence_name,
    json_list,
    leak_bots,
    leak_detail,
    leak_findings_visible,
    leak_rows,
    severity_name,
)
from inventory.selectors import teams_visible_to, user_is_auditor
from scanners import registry
from scanners.models import BotScore, ProbeRun
from scanners.selectors.findings import findings_visible_to
from scanners.selectors.runs import audit_runs_list
from scanners.services.acceptance import AcceptanceError

from . import serializers as s
from .auth import AuditorOnly, TokenScopes
from .filters import UtcIsoDateTimeFilter, UtcIsoDateTimeFromToRangeFilter


class Cursor(pagination.CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"


class ByName(Cursor):
    ordering = "name"


class DefectDojoRenderer(renderers.JSONRenderer):
    format = "defectdojo"
    media_type = "application/vnd.defectdojo.generic+json"


class SarifRenderer(renderers.JSONRenderer):
    format = "sarif"
    media_type = "application/sarif+json"


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TeamSerializer
    pagination_class = ByName
    lookup_field = "slug"

    def get_queryset(self):
        return teams_visible_to(self.request.user)


class BotFilter(filters.FilterSet):
    team = filters.CharFilter(field_name="team__slug")
    environment = filters.CharFilter()
    status = filters.CharFilter()


class BotViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = ByName
    lookup_field = "slug"
    filterset_class = BotFilter

    def get_queryset(self):
        qs = fleet_rows(user=self.request.user).select_related("team")
        if self.action == "retrieve":
            qs = qs.prefetch_related("identities", "credentials", "repositories")
        return qs

    def get_serializer_class(self):
        return s.BotDetailSerializer if self.action == "retrieve" else s.BotSerializer

    @extend_schema(responses=s.ScoreSerializer(many=True))
    @action(detail=True, methods=["get"])
    def scores(self, request, slug=None, format=None):  # format: the router's .json suffix
        """The bot's score history, newest first, each with the breakdown that explains it."""
        bot = self.get_object()
        paginator = Cursor()
        page = paginator.paginate_queryset(BotScore.objects.filter(bot=bot), request, view=self)
        return paginator.get_paginated_response(s.ScoreSerializer(page, many=True).data)


class FindingApiFilter(FindingFilter):
    last_seen = UtcIsoDateTimeFromToRangeFilter()
    first_seen_after = UtcIsoDateTimeFilter(field_name="first_seen", lookup_expr="gte")
    first_seen_before = UtcIsoDateTimeFilter(field_name="first_seen", lookup_expr="lt")

    class Meta(FindingFilter.Meta):
        fields = [*FindingFilter.Meta.fields, "last_seen"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, user=getattr(request, "user", None), **kwargs)


class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.FindingSerializer
    pagination_class = Cursor
    filterset_class = FindingApiFilter
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, DefectDojoRenderer, SarifRenderer]

    def get_queryset(self):
        return findings_visible_to(self.request.user).select_related("bot", "bot__team", "accepted_by")

    def get_renderers(self):
        """DefectDojo and SARIF are formats of the list only."""
        renderers_ = super().get_renderers()
        return renderers_ if self.action == "list" else [r for r in renderers_ if r.format in ("json", "api")]

    @extend_schema(responses={
        (200, "application/json"): s.FindingSerializer(many=True),
        (200, "application/vnd.defectdojo.generic+json"): s.DefectDojoDocumentSerializer,
        (200, "application/sarif+json"): OpenApiTypes.OBJECT,
    }, description="Findings the caller may see, newest first (cursor pagination). With "
                               "`?format=defectdojo`: DefectDojo Generic Findings Import JSON of every matching "
                               "finding; `?format=sarif`: SARIF 2.1.0 of the matching leak findings (both "
                               "unpaginated, same filters).")
    def list(self, request, *args, **kwargs):
        fmt = request.accepted_renderer.format
        if fmt in ("defectdojo", "sarif"):
            qs = self.filter_queryset(self.get_queryset()).order_by("-id")
            build = defectdojo_document if fmt == "defectdojo" else sarif_document
            return Response(build(qs.iterator(chunk_size=2000)))
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.TriageSerializer, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"], permission_classes=[TokenScopes, AuditorOnly])
    def triage(self, request, pk=None, format=None):  # format: the router's .json suffix
        """Acknowledge, mark false positive, reopen, or accept the risk until a date (`until`, with an
        `approver` who is an auditor, default the caller), with a required reason (written to the audit log)."""
        finding = self.get_object()
        body = s.TriageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            findings_triage_visible(user=request.user, finding_ids=[finding.pk], action=data["action"],
                                    reason=data["reason"], until=data.get("until"), approver=data.get("approver"))
        except AcceptanceError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        finding.refresh_from_db()
        return Response(s.FindingSerializer(finding).data)


class LeakViewSet(viewsets.GenericViewSet):
    """Leaked secrets, one entry per secret fingerprint: the Leaks pages' selectors, as JSON."""

    serializer_class = s.LeakSerializer
    lookup_field = "fingerprint"
    lookup_value_regex = "[0-9a-f]{64}"

    def get_queryset(self):
        return leak_findings_visible(user=self.request.user)

    def list(self, request, format=None):  # format: the router's .json suffix
        findings = self.get_queryset()
        rows = list(leak_rows(findings))
        bots = leak_bots(findings=findings, fingerprints=[r["sfp"] for r in rows])
        data = [{
            "secret_fingerprint": r["sfp"], "redacted": r["redacted"] or "", "rule_ids": json_list(r["rules"]),
            "severity": severity_name(r["severity_rank"]), "confidence": confidence_name(r["confidence_rank"]),
            "still_active": bool(r["active"]), "location_count": r["locations"] or 0,
            "repositories": json_list(r["repositories"]), "bots": [slug for _name, slug in bots.get(r["sfp"], [])],
            "findings": r["findings"], "open": r["open"], "first_seen": r["first_seen"],
        } for r in rows]
        return Response(s.LeakSerializer(data, many=True).data)

    @extend_schema(responses=s.LeakDetailSerializer)
    def retrieve(self, request, fingerprint=None, format=None):
        detail = leak_detail(user=request.user, fingerprint=fingerprint)
        if detail is None:
            raise NotFound()
        return Response(s.LeakDetailSerializer({
            "secret_fingerprint": fingerprint, "severity": detail["severity"],
            "location_count": detail["location_count"], "locations": detail["locations"],
            "findings": [{"id": f.pk, "bot": f.bot.slug if f.bot else None, "status": f.status,
                          "severity": f.severity} for f in detail["findings"]],
        }).data)


class AuditRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AuditRunSerializer
    pagination_class = Cursor

    def get_queryset(self):
        return audit_runs_list()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "show_errors": user_is_auditor(self.request.user)}

    def get_permissions(self):
        return [*super().get_permissions(), AuditorOnly()] if self.action == "create" else super().get_permissions()

    @extend_schema(request=None, responses={201: s.AuditRunSerializer, 202: None})
    def create(self, request, *args, **kwargs):
        """Start an audit (auditors): run in-process without Redis (201 with the run), else queued (202)."""
        from scanners.tasks import BrokerUnavailable

        try:
            message, run = audit_request(user=request.user)
        except BrokerUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        if run is None:
            return Response({"detail": message}, status=status.HTTP_202_ACCEPTED)
        run = get_object_or_404(self.get_queryset(), pk=run.pk)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)


class ProbeRunFilter(filters.FilterSet):
    audit_run = filters.NumberFilter()
    kind = filters.CharFilter()
    status = filters.CharFilter()
    unit = filters.CharFilter()
    account = filters.CharFilter()


class ProbeRunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ProbeRunSerializer
    pagination_class = Cursor
    filterset_class = ProbeRunFilter

    def get_queryset(self):
        return ProbeRun.objects.select_related("connector").defer("facts")  # not serialised; can be large

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "show_errors": user_is_auditor(self.request.user)}


class CheckList(APIView):
    """The check catalogue: every registered check with its metadata."""

    @extend_schema(responses=s.CheckSerializer(many=True))
    def get(self, request):
        rows = [{"id": c.id, "kind": kind, "severity": c.severity, "category": c.category, "owasp": c.owasp,
                 "title": c.title, "remediation": c.remediation}
                for kind, probe in sorted(registry.kinds().items()) for c in probe.checks]
        return Response(s.CheckSerializer(rows, many=True).data)





@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other /api/v1/ path: a JSON 404 like every API error (not the HTML page)."""
    from django.http import JsonResponse

    return JsonResponse({"detail": "Not found."}, status=404)
