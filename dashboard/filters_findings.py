"""Findings filters (django-filter)."""

import django_filters as filters
from django import forms
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from dashboard.filters_fleet import TeamScopedFilterSet
from inventory.models import Team
from inventory.selectors import auditors_list
from scanners.models import Category, Finding, Severity
from scanners.sla import overdue_q


def _date_range(name: str):
    """Two date inputs, each with its own accessible name (the <label> names only the pair)."""
    widget = filters.widgets.DateRangeWidget(attrs={"type": "date"})
    widget.widgets[0].attrs["aria-label"] = f"{name} from"
    widget.widgets[1].attrs["aria-label"] = f"{name} to"
    return widget


class FindingFilter(TeamScopedFilterSet):
    status = filters.ChoiceFilter(choices=Finding.Status.choices)
    severity = filters.ChoiceFilter(choices=Severity.choices)
    category = filters.ChoiceFilter(choices=Category.choices)
    check_id = filters.CharFilter(label="Check id", lookup_expr="startswith")
    team = filters.ModelChoiceFilter(queryset=Team.objects.none(), field_name="bot__team", to_field_name="slug",
                                     label="Team")
    bot = filters.CharFilter(method="filter_bot", label="Bot (name or slug)")
    first_seen = filters.DateFromToRangeFilter(label="First seen (from / to)", widget=_date_range("First seen"))
    overdue = filters.BooleanFilter(method="filter_overdue", label="Overdue (past its SLA)",
                                    widget=forms.Select(choices=[("", "Any"), ("true", "Overdue"),
                                                                 ("false", "Not overdue")]))

    class Meta:
        model = Finding
        fields = ["status", "severity", "category", "check_id", "team", "bot", "first_seen", "overdue"]

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(overdue_q()) if value else qs.exclude(overdue_q())

    def filter_bot(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(bot__name=value) | Q(bot__slug=value)) if value else qs


class TriageForm(forms.Form):
    ACTIONS = [("acknowledge", "Acknowledge"), ("false_positive", "False positive"), ("reopen", "Reopen"),
               ("accept", "Accept risk until…")]

    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required: why this status is right.")
    until = forms.DateField(required=False, label="Accept risk until",
                            widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Accept risk: the last day the risk is accepted; it reopens the day after.")
    approver = forms.ModelChoiceField(queryset=auditors_list(), required=False, to_field_name="username",
                                      label="Approver (auditor)", help_text="Accept risk: who approves it.")
    pk = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True,
                                        error_messages={"required": "Select at least one finding."})

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pk"].choices = [(v, v) for v in self.data.getlist("pk")] if self.data else []
        self.fields["approver"].queryset = auditors_list()
        if user is not None and not self.is_bound:
            self.fields["approver"].initial = user.get_username()

    def clean(self):
        data = super().clean()
        if data.get("action") == "accept":
            if not data.get("until"):
                self.add_error("until", "Accept risk needs the date it is accepted until.")
            elif data["until"] < timezone.localdate():
                self.add_error("until", "That date has passed.")
            if not data.get("approver"):
                self.add_error("approver", "Accept risk needs an approver (an auditor).")
        return data

    def clean_pk(self):
        """Ids the database can hold: an oversized one is a form error, not an OverflowError (SQLite)
        or a DataError (PostgreSQL) from the query."""
        low, high = connection.ops.integer_field_range(Finding._meta.pk.get_internal_type())
        ids = self.cleaned_data["pk"]
        if bad := [i for i in ids if not low <= i <= high]:
            raise forms.ValidationError(f"not a finding id: {', '.join(str(i)[:20] for i in bad[:3])}")
        return ids
