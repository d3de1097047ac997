"""Users and roles: viewer (member of teams), auditor (group "auditor"), admin (staff + superuser)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .models import AuditLogEntry
from .selectors import AUDITOR_GROUP, TeamNotFound, team_get

ROLES = ("viewer", "auditor", "admin")


class GrantError(ValueError):
    pass


@transaction.atomic
def user_grant(*, email: str, role: str, team_name: str | None = None, password: str | None = None,
               actor=None):
    """Create the user when missing (password unusable unless given), set the role, add team membership.

    Returns (user, created)."""
    email = email.strip()
    if "@" not in email:
        raise GrantError(f"EMAIL {email!r} is not an email address")
    if role not in ROLES:
        raise GrantError(f"--role {role!r}: choose one of {', '.join(ROLES)}")
    team = None
    if team_name:
        try:
            team = team_get(name_or_slug=team_name)
        except TeamNotFound as exc:
            raise GrantError(f"--team {team_name!r}: {exc}") from None
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first() or User.objects.filter(username=email).first()
    created = user is None
    if created:
        user = User(username=email, email=email)
        user.set_unusable_password()
    if password is not None:
        user.set_password(password)
    user.is_staff = user.is_superuser = role == "admin"
    user.save()
    auditors, _ = Group.objects.get_or_create(name=AUDITOR_GROUP)
    if role == "auditor":
        user.groups.add(auditors)
    else:
        user.groups.remove(auditors)
    if team:
        team.members.add(user)
    AuditLogEntry.objects.create(user=actor, action="user.grant", target=email,
                                 detail={"role": role, "team": team.name if team else None, "created": created})
    return user, created
