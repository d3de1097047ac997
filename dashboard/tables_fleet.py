"""Fleet table (django-tables2): a declaration, NetBox style."""

import django_tables2 as tables
from django.utils.html import format_html, format_html_join

from dashboard import tables_speedup  # noqa: F401 - remembers render signatures
from dashboard.columns import DateColumn
from dashboard.fleet import SEVERITIES
from scanners.scoring import risk_band


def severity_badges(record) -> str:
    shown = [(s, getattr(record, f"open_{s}", 0)) for s in SEVERITIES]
    shown = [(s, n) for s, n in shown if n]
    if not shown:
        return format_html('<span class="muted">{}</span>', "none")
    return format_html_join(" ", '<span class="badge sev-{}" title="open {} findings">{} {}</span>',
                            ((s, s, n, s) for s, n in shown))


def risk_cell(value) -> str:
    band = risk_band(value)
    return format_html('<span class="badge risk-{}">{}</span>', band, "—" if value is None else value)


class BotTable(tables.Table):
    name = tables.Column(linkify=("bot_detail", {"slug": tables.A("slug")}))
    team = tables.Column(accessor="team__name", order_by=("team__name", "name"), verbose_name="Team")
    owner_email = tables.Column(verbose_name="Owner")
    environment = tables.Column()
    credential_count = tables.Column(verbose_name="Credentials")
    findings = tables.Column(empty_values=(), verbose_name="Open findings",
                             order_by=("-open_critical", "-open_high", "-open_medium", "-open_low"))
    risk_score = tables.Column(verbose_name="Risk score")
    last_audited = DateColumn()

    class Meta:
        template_name = "dashboard/table_lean.html"
        attrs = {"class": "table"}
        order_by = ("name",)

    def render_findings(self, record):
        return severity_badges(record)

    def render_risk_score(self, value):
        return risk_cell(value)
