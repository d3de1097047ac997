"""Leaks pages: one row per leaked secret, and one secret's locations and findings. Thin views:
reads live in dashboard.leaks; triage happens on the finding page (it applies to the whole leak)."""

from django.http import Http404
from django.shortcuts import render
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from dashboard.filters_leaks import LeakFilter
from dashboard.leaks import json_list, leak_bots, leak_detail, leak_findings_visible, leak_rows
from dashboard.tables_leaks import LeakTable
from dashboard.views.fleet import PerPageMixin, UserFilterMixin
from dashboard.views.parts import CachedPartsMixin


class LeakListView(CachedPartsMixin, UserFilterMixin, PerPageMixin, SingleTableMixin, FilterView):
    table_class = LeakTable
    filterset_class = LeakFilter
    template_name = "dashboard/leak_list.html"
    head_template = "dashboard/_leak_list_head.html"

    def get_queryset(self):
        return leak_findings_visible(user=self.request.user)

    def get_table_data(self):
        return leak_rows(self.object_list)

    def get_table_kwargs(self):
        findings = self.object_list
        return {"bots_lookup": lambda fingerprints: leak_bots(findings=findings, fingerprints=fingerprints)}


def leak_detail_page(request, fingerprint):
    data = leak_detail(user=request.user, fingerprint=fingerprint)
    if data is None:
        raise Http404("No such leak.")
    ev = data["evidence"]
    return render(request, "dashboard/leak_detail.html", {
        **data, "rules": json_list(ev.get("rule_ids")), "repositories": json_list(ev.get("repositories")),
        "reasons": json_list(ev.get("reasons")),
    })
