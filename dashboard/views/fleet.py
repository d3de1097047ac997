"""Overview, Fleet and Bot pages, and the audit spreadsheet exports. Thin: reads live in selectors."""

import tempfile
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from dashboard.bot_page import bot_page_bot, bot_page_data
from dashboard.cache import cached
from dashboard.charts import score_chart_svg, weekly_chart_svg
from dashboard.exports_log import csv_response, export_filtered
from dashboard.filters_fleet import BotFilter
from dashboard.fleet import fleet_rows
from dashboard.overview import overview_data
from dashboard.spreadsheet import AUDIT_COLUMNS, audit_rows, csv_lines, xlsx_write
from dashboard.tables_fleet import BotTable, risk_cell
from dashboard.views.parts import CachedPartsMixin

PER_PAGE_CHOICES = (25, 50, 100, 250)


class CachedCountPaginator(Paginator):
    """The row count (a COUNT over the filtered rows, the costliest query of a list page) computed
    once per data generation, viewer scope and filter."""

    def __init__(self, *args, count_cache: tuple, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_cache = count_cache

    @cached_property
    def count(self):
        name, user, params = self.count_cache
        return cached(name=name, user=user, params=params, compute=lambda: Paginator.count.func(self))


def _filter_params(request) -> str:
    """The query string without what does not change which rows there are (page, sort, page size)."""
    return urlencode(sorted((k, v) for k, values in request.GET.lists() for v in values
                            if k not in ("page", "sort", "per_page")))


class PerPageMixin:
    """Page size choices, and the row count cached per data generation, viewer scope and filter (the
    rendered page parts are cached by CachedPartsMixin, keyed by the whole query string)."""

    def get_table_pagination(self, table):
        try:
            per_page = int(self.request.GET.get("per_page", 50))
        except ValueError:
            per_page = 50
        return {"per_page": per_page if per_page in PER_PAGE_CHOICES else 50,
                "paginator_class": CachedCountPaginator,
                "count_cache": (f"{type(self).__name__}.count", self.request.user, _filter_params(self.request))}

    def get_context_data(self, **kwargs):
        return super().get_context_data(per_page_choices=PER_PAGE_CHOICES, **kwargs)


class UserFilterMixin:
    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "user": self.request.user}


def _overview_html(request) -> str:
    data = overview_data(user=request.user)
    return str(render_to_string("dashboard/_overview.html", {**data, "weekly_svg": weekly_chart_svg(data["weekly"])},
                                request))


def overview(request):
    """The page's content is rendered once per data generation and viewer scope (it holds nothing
    per user: no CSRF token); each request renders only the page shell around it."""
    html = cached(name="overview.html", user=request.user, compute=lambda: _overview_html(request))
    return render(request, "dashboard/overview.html", {"content": mark_safe(html)})  # noqa: S308 - our render


class BotListView(CachedPartsMixin, UserFilterMixin, PerPageMixin, SingleTableMixin, FilterView):
    table_class = BotTable
    filterset_class = BotFilter
    template_name = "dashboard/bot_list.html"
    head_template = "dashboard/_bot_list_head.html"

    def get_queryset(self):
        return fleet_rows(user=self.request.user)


def bot_detail(request, slug):
    bot = get_object_or_404(bot_page_bot(user=request.user), slug=slug)
    data = bot_page_data(bot=bot, now=timezone.now())
    return render(request, "dashboard/bot_detail.html", {
        "bot": bot, **data, "risk": risk_cell(data["current"].score if data["current"] else None),
        "score_svg": score_chart_svg(data["history"]),
    })


def _export_bots(request, kind):
    """The Fleet page's filters applied to what the user may see: (bots, None) or (None, a 400)."""
    return export_filtered(request, filterset_class=BotFilter, queryset=fleet_rows(user=request.user), kind=kind)


def export_audit_csv(request):
    bots, bad = _export_bots(request, "audit.csv")
    if bad:
        return bad
    return csv_response(csv_lines(header=AUDIT_COLUMNS, rows=audit_rows(bots=bots)), filename="botaudit-audit.csv")


def export_audit_xlsx(request):
    bots, bad = _export_bots(request, "audit.xlsx")
    if bad:
        return bad
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    xlsx_write(header=AUDIT_COLUMNS, rows=audit_rows(bots=bots), target=target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename="botaudit-audit.xlsx",
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
