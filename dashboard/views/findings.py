"""Findings (list, triage, CSV export) and Runs (list, start an audit) pages. Thin views."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin, SingleTableView

from dashboard.actions import audit_request, findings_triage_visible
from dashboard.cache import SCOPE_ALL, scope_key
from dashboard.exports import FINDING_COLUMNS, finding_row, neutralise
from dashboard.exports_log import csv_response, export_filtered
from dashboard.filters_findings import FindingFilter, TriageForm
from dashboard.finding_history import finding_history
from dashboard.spreadsheet import csv_lines
from dashboard.tables_findings import AuditRunTable, FindingTable
from dashboard.views.fleet import PerPageMixin, UserFilterMixin
from dashboard.views.parts import CachedPartsMixin
from inventory.selectors import user_is_auditor
from scanners.selectors.findings import findings_visible_to
from scanners.selectors.runs import audit_runs_list
from scanners.services.acceptance import AcceptanceError


def _findings(user):
    return findings_visible_to(user).select_related("bot", "bot__team").order_by("-id")


class FindingListView(CachedPartsMixin, UserFilterMixin, PerPageMixin, SingleTableMixin, FilterView):
    table_class = FindingTable
    filterset_class = FindingFilter
    template_name = "dashboard/finding_list.html"
    head_template = "dashboard/_finding_list_head.html"

    def get_queryset(self):
        return _findings(self.request.user)

    def get_table_kwargs(self):
        return {} if user_is_auditor(self.request.user) else {"exclude": ("pk",)}

    def shell_context(self):
        # the scope is the role check this request already made (triage itself checks the role again)
        can_triage = scope_key(self.request.user) == SCOPE_ALL
        return {"can_triage": can_triage, "triage_form": TriageForm(user=self.request.user) if can_triage else None}


def finding_detail(request, pk):
    finding = get_object_or_404(_findings(request.user), pk=pk)
    return render(request, "dashboard/finding_detail.html", {
        "f": finding, "can_triage": user_is_auditor(request.user), "triage_form": TriageForm(user=request.user),
        "history": finding_history(finding=finding),
    })


@require_POST
def finding_triage(request):
    if not user_is_auditor(request.user):
        raise PermissionDenied("Only auditors triage findings.")
    form = TriageForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        messages.error(request, f"Nothing changed. {errors}")
        return redirect(back or "finding_list")
    data = form.cleaned_data
    try:
        count = findings_triage_visible(user=request.user, finding_ids=data["pk"], action=data["action"],
                                        reason=data["reason"], until=data.get("until"),
                                        approver=data.get("approver"))
    except AcceptanceError as exc:
        messages.error(request, f"Nothing changed. {exc}")
        return redirect(back or "finding_list")
    if data["action"] == "accept":
        messages.success(request, f"{count} finding(s): risk accepted until {data['until']:%Y-%m-%d} "
                                  f"(approved by {data['approver'].get_username()}).")
    else:
        messages.success(request, f"{count} finding(s): {data['action'].replace('_', ' ')}.")
    return redirect(back or "finding_list")


def export_findings_csv(request):
    qs, bad = export_filtered(request, filterset_class=FindingFilter, queryset=_findings(request.user),
                              kind="findings.csv")
    if bad:
        return bad
    rows = ([neutralise(v) for v in finding_row(f)] for f in qs.order_by("-id").iterator(chunk_size=2000))
    return csv_response(csv_lines(header=FINDING_COLUMNS, rows=rows), filename="botaudit-findings.csv")


class RunListView(PerPageMixin, SingleTableView):
    table_class = AuditRunTable
    template_name = "dashboard/run_list.html"

    def get_queryset(self):
        return audit_runs_list()

    def get_table_pagination(self, table):
        return {"per_page": 25}

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_start=user_is_auditor(self.request.user),
                                        show_errors=user_is_auditor(self.request.user), **kwargs)


@require_POST
def audit_start(request):
    from scanners.tasks import BrokerUnavailable

    try:
        message, _run = audit_request(user=request.user)
    except BrokerUnavailable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, message)
    return redirect("run_list")
