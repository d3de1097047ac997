"""Leaks table (django-tables2): one row per secret, from `dashboard.leaks.leak_rows` dicts."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from dashboard.columns import DateColumn
from dashboard.leaks import confidence_name, json_list, severity_name


class LeakTable(tables.Table):
    redacted = tables.Column(verbose_name="Secret", linkify=lambda record: reverse(
        "leak_detail", kwargs={"fingerprint": record["sfp"]}), order_by=("sfp",))
    rules = tables.Column(verbose_name="Rule", orderable=False)
    confidence_rank = tables.Column(verbose_name="Confidence")
    severity_rank = tables.Column(verbose_name="Severity")
    locations = tables.Column(verbose_name="Locations")
    repositories = tables.Column(orderable=False)
    bots = tables.Column(verbose_name="Bots", orderable=False)
    first_seen = DateColumn(fmt="%Y-%m-%d")
    active = tables.Column(verbose_name="Still at a tip")
    open = tables.Column(verbose_name="Open findings")

    class Meta:
        template_name = "dashboard/table_lean.html"
        attrs = {"class": "table"}
        orderable = True

    def __init__(self, *args, bots_lookup=None, **kwargs):
        self.bots_lookup = bots_lookup  # fingerprints -> {fingerprint: [(bot name, slug)]}, one query
        self._bot_names = None
        super().__init__(*args, **kwargs)

    def bot_names(self) -> dict:
        """The page's bots, looked up once on the first row rendered (never when the page's table
        comes from the page cache)."""
        if self._bot_names is None:
            fingerprints = [row.record["sfp"] for row in self.page.object_list] if self.bots_lookup else []
            self._bot_names = self.bots_lookup(fingerprints) if fingerprints else {}
        return self._bot_names

    def render_redacted(self, value, record):
        return format_html("<code>{}</code> <span class=\"muted\">{}</span>", value, record["sfp"][:12])

    def render_rules(self, value):
        return ", ".join(json_list(value))

    def render_confidence_rank(self, value):
        return confidence_name(value)

    def render_severity_rank(self, value):
        severity = severity_name(value)
        return format_html('<span class="badge sev-{}">{}</span>', severity, severity)

    def render_repositories(self, value):
        return ", ".join(json_list(value))

    def render_bots(self, value, record):
        names = self.bot_names().get(record["sfp"], [])
        if not names:
            return value or "unowned"
        return format_html_join(", ", '<a href="{}">{}</a>',
                                ((reverse("bot_detail", kwargs={"slug": slug}), name) for name, slug in names))

    def render_active(self, value):
        return "yes" if value else "no"
