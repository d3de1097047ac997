"""Fleet filters (django-filter). Choices that depend on the user are scoped in __init__."""

import django_filters as filters
from django.db.models import Q

from dashboard.fleet import LEAK, SEVERITIES, STALE, bots_with_open
from inventory.models import Bot, Team
from inventory.selectors import teams_visible_to
from scanners.scoring import RISK_BAND_NAMES, UNKNOWN_BAND, risk_band_range

YES_NO = [("yes", "yes"), ("no", "no")]


class TeamScopedFilterSet(filters.FilterSet):
    """A filter set whose `team` filter offers only the teams the user may see (all without a user)."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["team"].queryset = teams_visible_to(user) if user is not None else Team.objects.all()


class BotFilter(TeamScopedFilterSet):
    q = filters.CharFilter(method="filter_search", label="Search")
    team = filters.ModelChoiceFilter(queryset=Team.objects.none(), field_name="team", to_field_name="slug")
    environment = filters.ChoiceFilter(choices=[], label="Environment")
    severity = filters.ChoiceFilter(choices=[(s, s) for s in SEVERITIES], method="filter_severity",
                                    label="Open findings of severity")
    risk = filters.ChoiceFilter(choices=[(b, b) for b in RISK_BAND_NAMES],
                                method="filter_risk", label="Risk band")
    leaks = filters.ChoiceFilter(choices=YES_NO, method="filter_leaks", label="Has leaks")
    stale = filters.ChoiceFilter(choices=YES_NO, method="filter_stale", label="Has stale keys")

    class Meta:
        model = Bot
        fields = ["q", "team", "environment", "severity", "risk", "leaks", "stale"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.filters["environment"].extra["choices"] = self._environments()

    def _environments(self):
        """The environments of the rows' bots (the queryset is already scoped to what the user sees):
        never another team's."""
        return [(e, e) for e in self.queryset.exclude(environment="").order_by("environment")
                .values_list("environment", flat=True).distinct()]

    def filter_search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(owner_email__icontains=value)
                         | Q(description__icontains=value))

    def filter_severity(self, qs, name, value):
        return bots_with_open(qs, severity=value)

    def filter_risk(self, qs, name, value):
        if value == UNKNOWN_BAND:
            return qs.filter(risk_score__isnull=True)
        low, high = risk_band_range(value)
        return qs.filter(risk_score__gte=low, risk_score__lte=high)

    def _has(self, qs, value, category):
        return bots_with_open(qs, category=category, present=value == "yes")

    def filter_leaks(self, qs, name, value):
        return self._has(qs, value, LEAK)

    def filter_stale(self, qs, name, value):
        return self._has(qs, value, STALE)
