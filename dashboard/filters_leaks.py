"""Leaks filters (django-filter) over the git leak findings a user may see; choices scoped in
__init__ (teams and repositories of the viewer's bots only)."""

import django_filters as filters
from django.db.models import Q
from django.db.models.fields.json import KT

from dashboard.leaks import leak_repositories_visible
from inventory.models import Repository, Team
from inventory.selectors import teams_visible_to
from scanners.git.leaks import CONFIDENCE_ORDER
from scanners.models import Finding

YES_NO = [("yes", "yes"), ("no", "no")]


class LeakFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_search", label="Search (rule, repository, bot, fingerprint)")
    confidence = filters.ChoiceFilter(choices=[(c, c) for c in CONFIDENCE_ORDER], method="filter_confidence",
                                      label="Confidence")
    active = filters.ChoiceFilter(choices=YES_NO, method="filter_active", label="Still at a tip")
    team = filters.ModelChoiceFilter(queryset=Team.objects.none(), field_name="bot__team", to_field_name="slug",
                                     label="Team")
    repository = filters.ModelChoiceFilter(queryset=Repository.objects.none(), method="filter_repository",
                                           to_field_name="name", label="Repository")

    class Meta:
        model = Finding
        fields = ["q", "confidence", "active", "team", "repository"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["team"].queryset = teams_visible_to(user) if user is not None else Team.objects.all()
        self.filters["repository"].queryset = (leak_repositories_visible(user=user) if user is not None
                                               else Repository.objects.all())

    def filter_search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.annotate(_rules=KT("evidence__rule_ids"), _repos=KT("evidence__repositories")).filter(
            Q(sfp__startswith=value.lower()) | Q(_rules__icontains=value) | Q(_repos__icontains=value)
            | Q(bot__name__icontains=value))

    def filter_confidence(self, qs, name, value):
        return qs.filter(evidence__confidence=value)

    def filter_active(self, qs, name, value):
        return qs.filter(evidence__still_at_head=(value == "yes"))

    def filter_repository(self, qs, name, value):
        """Leaks with a location in the repository: its id in the evidence's repository_ids (the full
        set, never capped), matched on the JSON text so it works on PostgreSQL and SQLite alike."""
        return qs.annotate(_repo_ids=KT("evidence__repository_ids")).filter(
            _repo_ids__regex=rf"[\[, ]{int(value.pk)}[,\]]")
