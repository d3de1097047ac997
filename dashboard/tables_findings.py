"""Findings and runs tables (django-tables2)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from dashboard.columns import DateColumn
from scanners.models import AuditRun, Finding


def _bot_url(record):
    return reverse("bot_detail", kwargs={"slug": record.bot.slug}) if record.bot_id else None


class FindingTable(tables.Table):
    pk = tables.CheckBoxColumn(accessor="pk", attrs={
        "th__input": {"aria-label": "select all on this page", "data-select-all": "pk"},
        "td__input": {"aria-label": "select finding"},
    })
    severity = tables.Column()
    check_id = tables.Column(verbose_name="Check")
    title = tables.Column()
    bot = tables.Column(accessor="bot__name", linkify=_bot_url, verbose_name="Bot",
                        order_by=("bot__name",))
    team = tables.Column(accessor="bot__team__name", verbose_name="Team", orderable=False)
    subject = tables.Column()
    status = tables.Column()
    due = tables.Column(accessor="first_seen", verbose_name="Due (SLA)", orderable=False)
    first_seen = DateColumn(fmt="%Y-%m-%d")
    last_seen = DateColumn(fmt="%Y-%m-%d")

    class Meta:
        model = Finding
        fields = ("pk", "severity", "check_id", "title", "bot", "team", "subject", "status", "due", "first_seen",
                  "last_seen")
        template_name = "dashboard/table_lean.html"
        attrs = {"class": "table"}

    def render_severity(self, value, record):
        return format_html('<span class="badge sev-{}">{}</span>', record.severity, record.severity)

    def render_status(self, value, record):
        if record.status == Finding.Status.ACCEPTED and record.accepted_until:
            return format_html('<span class="status st-{}">{}</span> <span class="muted">until {}</span>',
                               record.status, value, record.accepted_until.isoformat())
        return format_html('<span class="status st-{}">{}</span>', record.status, value)

    def render_due(self, value, record):
        due = record.due_at
        if due is None:
            return "—"
        shown = record.sla_shown
        return format_html('{}<br><span class="{}">{}</span>', due.date().isoformat(),
                           "overdue" if record.is_overdue else "muted", shown)


class AuditRunTable(tables.Table):
    pk = tables.Column(verbose_name="Audit")
    started = DateColumn(fmt="%Y-%m-%d %H:%M:%S")
    status = tables.Column()
    trigger = tables.Column()
    duration = tables.Column(empty_values=(), orderable=False)
    probes = tables.TemplateColumn(template_name="dashboard/probe_runs_cell.html", orderable=False)

    class Meta:
        model = AuditRun
        fields = ("pk", "started", "status", "trigger", "duration", "probes")
        template_name = "dashboard/table_lean.html"
        attrs = {"class": "table"}
        order_by = ("-started",)

    def render_status(self, value, record):
        return format_html('<span class="status st-{}">{}</span>', record.status, value)

    def render_duration(self, record):
        if not record.finished:
            return "running"
        return f"{(record.finished - record.started).total_seconds():.1f} s"
