"""Findings filters (django-filter)."""

import django_filters as filters
from django import forms
from django.db.models import Q

from inventory.models import Team
from inventory.selectors import teams_visible_to
from scanners.models import Category, Finding, Severity


class FindingFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Finding.Status.choices)
    severity = filters.ChoiceFilter(choices=Severity.choices)
    category = filters.ChoiceFilter(choices=Category.choices)
    check_id = filters.CharFilter(label="Check id", lookup_expr="startswith")
    team = filters.ModelChoiceFilter(queryset=Team.objects.none(), field_name="bot__team", to_field_name="slug",
                                     label="Team")
    bot = filters.CharFilter(method="filter_bot", label="Bot (name or slug)")
    first_seen = filters.DateFromToRangeFilter(
        label="First seen (from / to)",
        widget=filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Finding
        fields = ["status", "severity", "category", "check_id", "team", "bot", "first_seen"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["team"].queryset = teams_visible_to(user) if user is not None else Team.objects.all()

    def filter_bot(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(bot__name=value) | Q(bot__slug=value)) if value else qs


class TriageForm(forms.Form):
    ACTIONS = [("acknowledge", "Acknowledge"), ("false_positive", "False positive"), ("reopen", "Reopen")]

    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required: why this status is right.")
    pk = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True,
                                        error_messages={"required": "Select at least one finding."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pk"].choices = [(v, v) for v in self.data.getlist("pk")] if self.data else []
