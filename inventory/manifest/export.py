"""Write the inventory as a fleet manifest that `fleet import` reads back with no changes.

Only the listed fields are written: no probe facts, no ids, and never a secret value.
"""

import yaml

from inventory.locations import text_redact
from inventory.models import Bot, Connector, Owner, Repository, Team

from .plan import member_key
from .schema import CONNECTOR_RESERVED

HEADER = "# BotAudit fleet manifest (manage.py fleet export). Credentials are references, never values.\n"


class _Dumper(yaml.SafeDumper):
    """Block style, list items indented under their key, multi-line strings as literal blocks."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data):
        return True


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def fleet_export():
    """The whole inventory as manifest YAML, sorted by name so the output is deterministic."""
    document = {
        "teams": [_team(team) for team in _by_name(Team.objects.prefetch_related("members"))],
        "repositories": [_repository(repo) for repo in _by_name(Repository.objects.all())],
        "connectors": [_connector(connector) for connector in _by_name(Connector.objects.all())],
        "bots": [_bot(bot) for bot in _by_name(Bot.objects.select_related("team").prefetch_related(
            "repositories", "credentials", "identities"))],
    }
    owners = {owner.email: "departed" if owner.departed else "active" for owner in Owner.objects.order_by("email")}
    if owners:
        document["owners"] = owners
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=110)
    return HEADER + body


def _by_name(queryset):
    return sorted(queryset, key=lambda obj: obj.name)


def _compact(row, *optional):
    """Drop optional fields left empty, to keep the file readable."""
    return {key: value for key, value in row.items() if key not in optional or value not in ("", None, [])}


def _team(team):
    row = {"name": team.name, "email": team.email,
           "members": sorted({member_key(user) for user in team.members.all()})}
    if team.notify:
        row["notify"] = {key: team.notify[key] for key in ("webhook_url_env", "min_severity", "format")
                         if key in team.notify}
    return _compact(row, "email")


def _repository(repo):
    return {"name": repo.name, "url": text_redact(repo.url), "branches": list(repo.branches)}


def _connector(connector):
    row = {"name": connector.name, "kind": connector.kind}
    if not connector.enabled:
        row["enabled"] = False
    options = connector.options
    row.update((key, _redacted(options[key])) for key in sorted(options) if key not in CONNECTOR_RESERVED)
    return row


def _redacted(value):
    """An option value with userinfo redacted in every string (rows stored before it was refused)."""
    if isinstance(value, str):
        return text_redact(value)
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    return value


def _bot(bot):
    row = {
        "name": bot.name, "team": bot.team.name, "owner": bot.owner_email, "environment": bot.environment,
        "description": bot.description, "status": bot.status,
        "identities": [{"kind": i.kind, "ref": i.ref} for i in sorted(bot.identities.all(),
                                                                       key=lambda i: (i.kind, i.ref))],
        "credentials": [_credential(c) for c in sorted(bot.credentials.all(), key=lambda c: c.name)],
        "repositories": sorted(repo.name for repo in bot.repositories.all()),
    }
    return _compact(row, "owner", "environment", "description", "identities", "credentials", "repositories")


def _credential(cred):
    row = {"name": cred.name, "store": cred.store, "ref": cred.ref, "service": cred.service,
           "rotation_days": cred.rotation_days}
    return _compact(row, "ref", "service", "rotation_days")
