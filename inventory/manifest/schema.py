"""Validate a loaded manifest into plain dataclasses, collecting every problem with its line.

Nothing here touches the database: names are resolved against the manifest itself (a bot's
team and repositories must be declared in the same file).
"""

import math
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.text import slugify

from inventory.locations import location_check, userinfo_problem
from inventory.models import Bot, Connector, Credential, Identity, Repository, Team
from inventory.text import control_problem

from .errors import ManifestError, ManifestIssue
from .loader import MAX_MANIFEST_BYTES, LineDict, LineList, yaml_load
from .reader import Reader
from .specs import (
    BotSpec,
    ConnectorSpec,
    CredentialSpec,
    IdentitySpec,
    Manifest,
    OwnerSpec,
    RepositorySpec,
    TeamSpec,
)

SECTIONS = ("teams", "repositories", "connectors", "bots", "owners")
NOTIFY_FIELDS = ("webhook_url_env", "min_severity", "format")
NOTIFY_FORMATS = ("json", "slack")
NOTIFY_SEVERITIES = ("critical", "high", "medium", "low", "info")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
OWNER_STANDINGS = ("active", "departed")
# Connector options are free-form JSON; these known ones are type-checked when present.
CONNECTOR_OPTION_TYPES = {
    "aws": {"regions": "str_list", "assume_role": "str_or_null", "endpoint_url": "str_or_null",
            "profile": "str_or_null"},
    "vault": {"url": "str", "kv_mounts": "str_list", "auth": "str", "namespace": "str_or_null"},
    "git": {"repositories": "str_list"},
}
CONNECTOR_RESERVED = ("name", "kind", "enabled")


def _max(model, name):
    return model._meta.get_field(name).max_length


def manifest_parse(*, text, source):
    """YAML text -> Manifest, or ManifestError listing every problem found."""
    data = yaml_load(text=text, source=source)
    return _Validator(source).manifest(data)


def manifest_load(*, path):
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)  # never more than the limit into memory
        if len(data) > MAX_MANIFEST_BYTES:
            raise ManifestError([ManifestIssue(source, None, "", f"larger than {MAX_MANIFEST_BYTES} bytes")])
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([ManifestIssue(source, None, "", f"cannot read: {exc}")]) from exc
    return manifest_parse(text=text, source=source)


class _Validator:
    def __init__(self, source):
        self.source = source
        self.issues = []

    def error(self, line, field_path, message):
        self.issues.append(ManifestIssue(self.source, line, field_path, message))

    def manifest(self, data):
        if data is None:
            data = LineDict(1)
        if not isinstance(data, dict):
            self.error(getattr(data, "line", 1), "", f"expected a mapping with {', '.join(SECTIONS)}, "
                       f"got {Reader.kind_of(data)}")
            raise ManifestError(self.issues)
        top = Reader(self, data, "")
        top.only(*SECTIONS)
        sections = {name: self._items(top, name) for name in SECTIONS}
        teams, self.known_teams = self._named(sections["teams"], self.team, "team", Team)
        repositories, self.known_repositories = self._named(
            sections["repositories"], self.repository, "repository", Repository)
        connectors, _ = self._named(sections["connectors"], self.connector, "connector", Connector)
        bots, _ = self._named(sections["bots"], self.bot, "bot", Bot)
        owners = self.owners(top)
        if self.issues:
            raise ManifestError(self.issues)
        return Manifest(self.source, teams, repositories, connectors, bots, owners)

    def _items(self, reader, key):
        if key == "owners":
            return []  # a mapping, read by owners()
        return self._list_items(reader, key)

    def owners(self, top):
        """`owners: {email: departed | active}` (or `{email: {active: false}}`); None when absent."""
        data = top.data.get("owners")
        if data is None:
            return None
        if not isinstance(data, dict):
            top.fail("owners", f"expected a mapping of email to departed or active, got {Reader.kind_of(data)}")
            return None
        specs, seen = [], set()
        for email, standing in data.items():
            path, line = f"owners.{email}", data.line_of(email) if hasattr(data, "line_of") else None
            if not isinstance(email, str) or (problem := self._email(email)):
                self.error(line, path, problem if isinstance(email, str) else "owner keys must be email addresses")
                continue
            if email.lower() in seen:
                self.error(line, path, f"duplicate owner '{email}'")
                continue
            seen.add(email.lower())
            if isinstance(standing, dict):
                r = Reader(self, standing, path)
                r.only("active")
                active = r.boolean("active", default=True)
                if not r.ok or active is None:
                    continue
                departed = not active
            elif standing in OWNER_STANDINGS:
                departed = standing == "departed"
            else:
                self.error(line, path, f"expected departed, active or {{active: false}}, got {standing!r}"[:200])
                continue
            specs.append(OwnerSpec(email.lower(), departed, path, line or 0))
        return tuple(specs)

    def notify(self, r):
        """A team's `notify: {webhook_url_env: NAME, min_severity: high, format: json|slack}`; {} when absent."""
        data = r.data.get("notify")
        if data is None:
            return {}
        if not isinstance(data, dict):
            r.fail("notify", f"expected a mapping with {', '.join(NOTIFY_FIELDS)}, got {Reader.kind_of(data)}")
            return None
        n = Reader(self, data, r.path("notify"))
        n.only(*NOTIFY_FIELDS)
        env = n.string("webhook_url_env", required=True, max_length=100,
                       check=lambda v: None if ENV_NAME.match(v) else
                       "must name an environment variable (letters, digits, _), never hold the URL")
        severity = n.choice("min_severity", NOTIFY_SEVERITIES, default="high", label="severity")
        fmt = n.choice("format", NOTIFY_FORMATS, default="json", label="format")
        if not n.ok:
            r.ok = False
            return None
        return {"webhook_url_env": env, "min_severity": severity, "format": fmt}

    def _list_items(self, reader, key):
        """Each mapping in the list under `key`, as a Reader (non-mappings are reported)."""
        items = reader.list(key, default=LineList(reader.line))
        readers = []
        for index, item in enumerate(items or ()):
            path = f"{reader.path(key)}[{index}]"
            if isinstance(item, dict):
                readers.append(Reader(self, item, path))
            else:
                self.error(items.line_of(index), path, f"expected a mapping, got {Reader.kind_of(item)}")
        return readers

    def _named(self, readers, build, label, model):
        """Build specs, reporting duplicate names and clashing slugs within the file.

        Returns (valid specs, every name given with its line): references are checked against
        all names, so one bad team does not also make each of its bots an error.
        """
        names, slugs, specs = {}, {}, []
        has_slug = any(f.name == "slug" for f in model._meta.get_fields())
        for reader in readers:
            spec = build(reader)
            name, line, where = reader.data.get("name"), reader.line_of("name"), reader.path("name")
            if not isinstance(name, str) or not name.strip():
                continue  # reported by build()
            if name in names:
                self.error(line, where, f"duplicate {label} name '{name}' (first on line {names[name]})")
                continue
            names[name] = line
            slug = slugify(name) if has_slug else None
            if has_slug and not slug:
                self.error(line, where, f"'{name}' has no usable slug")
                continue
            if slug in slugs:
                other_name, other_line = slugs[slug]
                self.error(line, where, f"slug '{slug}' clashes with {label} '{other_name}' (line {other_line})")
                continue
            if has_slug:
                slugs[slug] = (name, line)
            if spec is not None:
                specs.append(spec)
        return tuple(specs), names

    def team(self, r):
        r.only("name", "email", "members", "notify")
        name = r.string("name", required=True, max_length=_max(Team, "name"))
        email = r.string("email", default="", max_length=_max(Team, "email"), check=self._email)
        members = r.string_list("members", default=None, check=self._member, unique="member",
                                casefold=True)
        notify = self.notify(r)
        if r.ok:
            return TeamSpec(name, email, None if members is None else tuple(members), r.prefix, r.line,
                            notify=notify)
        return None

    def repository(self, r):
        r.only("name", "url", "branches")
        name = r.string("name", required=True, max_length=_max(Repository, "name"))
        url = r.string("url", required=True, max_length=_max(Repository, "url"), check=location_check)
        branches = r.string_list("branches", default=[])
        if r.ok:
            return RepositorySpec(name, url, tuple(branches), r.prefix, r.line)
        return None

    def connector(self, r):
        # Every key but name, kind and enabled is an option: no unknown fields here.
        name = r.string("name", required=True, max_length=_max(Connector, "name"))
        kind = r.choice("kind", Connector.Kind.values, required=True, label="connector kind")
        enabled = r.boolean("enabled", default=True)
        options = {key: value for key, value in r.data.items() if key not in CONNECTOR_RESERVED}
        for key, value in options.items():
            if not isinstance(key, str):
                r.fail(key, f"option names must be strings, got {Reader.kind_of(key)}")
                continue
            expected = CONNECTOR_OPTION_TYPES.get(kind, {}).get(key)
            if expected:
                r.typed(key, expected)
            elif (problem := _json_problem(value)) is not None:
                r.fail(key, problem)
            if problem := next(filter(None, map(userinfo_problem, _strings(value))), None):
                r.fail(key, problem)
        if r.ok:
            return ConnectorSpec(name, kind, enabled, _plain(options), r.prefix, r.line)
        return None

    def bot(self, r):
        r.only("name", "team", "owner", "environment", "description", "status", "identities",
               "credentials", "repositories")
        name = r.string("name", required=True, max_length=_max(Bot, "name"))
        team = r.string("team", required=True)
        if team is not None and team not in self.known_teams:
            r.fail("team", f"unknown team '{team}'{_expected(self.known_teams)}")
        owner = r.string("owner", default="", max_length=_max(Bot, "owner_email"), check=self._email)
        environment = r.string("environment", default="", max_length=_max(Bot, "environment"))
        description = r.string("description", default="", multiline=True)
        status = r.choice("status", Bot.Status.values, default=Bot.Status.ACTIVE, label="status")
        repositories = r.string_list("repositories", default=[], unique="repository")
        for index, repo in enumerate(repositories or ()):
            if repo not in self.known_repositories:
                r.fail_item("repositories", index,
                            f"unknown repository '{repo}'{_expected(self.known_repositories)}")
        identities = self._bot_children(r, "identities")
        credentials = self._bot_children(r, "credentials")
        if r.ok:
            return BotSpec(name, team, owner, environment, description, status, identities, credentials,
                           tuple(repositories), r.prefix, r.line)
        return None

    def _bot_children(self, r, key):
        """Identities or credentials of one bot; duplicates are reported, any problem fails the bot."""
        build, label, field_name = {
            "identities": (self.identity, "identity", "ref"),
            "credentials": (self.credential, "credential name", "name"),
        }[key]
        seen, specs = {}, []
        for child in self._items(r, key):
            spec = build(child)
            if key == "identities":
                ident = (child.data.get("kind"), child.data.get("ref"))
                ident = ident if all(isinstance(part, str) for part in ident) else None
            else:
                ident = child.data.get("name") if isinstance(child.data.get("name"), str) else None
            if ident is not None and ident in seen:
                self.error(child.line_of(field_name), child.path(field_name),
                           f"duplicate {label} {_show(ident)} (first on line {seen[ident]})")
                spec = None
            elif ident is not None:
                seen[ident] = child.line_of(field_name)
            if spec is None:
                r.ok = False
            else:
                specs.append(spec)
        return tuple(specs)

    def identity(self, r):
        r.only("kind", "ref")
        kind = r.choice("kind", Identity.Kind.values, required=True, label="identity kind")
        ref = r.string("ref", required=True, max_length=_max(Identity, "ref"))
        return IdentitySpec(kind, ref, r.prefix, r.line) if r.ok else None

    def credential(self, r):
        r.only("name", "store", "ref", "service", "rotation_days")
        name = r.string("name", required=True, max_length=_max(Credential, "name"))
        store = r.choice("store", Credential.Store.values, required=True, label="store")
        ref = r.string("ref", default="", max_length=_max(Credential, "ref"))
        service = r.string("service", default="", max_length=_max(Credential, "service"))
        rotation_days = r.integer("rotation_days", default=None, minimum=1, maximum=2**31 - 1)
        if r.ok:
            return CredentialSpec(name, store, ref, service, rotation_days, r.prefix, r.line)
        return None

    @classmethod
    def _member(cls, value):
        limit = get_user_model()._meta.get_field("username").max_length
        return f"longer than {limit} characters" if len(value) > limit else cls._email(value)

    @staticmethod
    def _email(value):
        try:
            validate_email(value)
        except ValidationError:
            return f"'{value}' is not a valid email address"
        return None


def _expected(known):
    if not known:
        return " (none declared)"
    names = sorted(known)
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return f" (expected one of {shown})"


def _show(key):
    return f"'{key[0]}:{key[1]}'" if isinstance(key, tuple) else f"'{key}'"


def _plain(value):
    """LineDict/LineList -> dict/list, recursively, for storing as JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _strings(value):
    """Every string inside an option value (lists and mappings walked)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _json_problem(value):
    """Why `value` cannot be stored as JSON, or None."""
    if isinstance(value, str):
        return control_problem(value, multiline=True)
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number"
    if isinstance(value, list):
        return next((p for p in map(_json_problem, value) if p), None)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return "mapping keys must be strings"
        if problem := next(filter(None, map(control_problem, value)), None):
            return f"mapping key: {problem}"
        return next((p for p in map(_json_problem, value.values()) if p), None)
    return f"{Reader.kind_of(value)} values are not allowed (quote it to make a string)"
