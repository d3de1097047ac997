"""Reads of the inventory, scoped to what a user may see.

Roles: **admin** = Django staff/superuser; **auditor** = member of the `auditor` group (or admin):
sees every team; **viewer** = anyone else: sees the bots of the teams they are a member of.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Bot, Team

AUDITOR_GROUP = "auditor"


class TeamNotFound(LookupError):
    """No team has this name or slug; the message lists the known team names."""


def team_get(*, name_or_slug: str) -> Team:
    """The team with this name, else with this slug (commands' --team accepts either)."""
    team = Team.objects.filter(name=name_or_slug).first() or Team.objects.filter(slug=name_or_slug).first()
    if team is None:
        known = ", ".join(Team.objects.order_by("name").values_list("name", flat=True)) or "none yet"
        raise TeamNotFound(f"no such team (known: {known})")
    return team


def user_is_admin(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff))


def user_is_auditor(user) -> bool:
    if not user.is_authenticated:
        return False
    if user_is_admin(user):
        return True
    return user.groups.filter(name=AUDITOR_GROUP).exists()


def auditors_list():
    """Active users who may triage and approve a risk acceptance: auditors and admins."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name=AUDITOR_GROUP))
            .distinct().order_by("username"))


def teams_visible_to(user) -> QuerySet[Team]:
    if user_is_auditor(user):
        return Team.objects.all()
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(members=user)


def bots_visible_to(user) -> QuerySet[Bot]:
    if user_is_auditor(user):
        return Bot.objects.all()
    if not user.is_authenticated:
        return Bot.objects.none()
    return Bot.objects.filter(team__members=user)
