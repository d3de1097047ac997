"""Who owns what in Vault: manifest refs first (vault_kv credentials by path, vault_approle
identities by role name, vault_token_role identities), then KV custom_metadata / token meta
`bot` (or `owner`) naming a bot, else nobody."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

from inventory.models import Bot, Credential, Identity

from .observations import AppRole, Entity, KvSecret, TokenInfo, VaultObservations
from .policy import Acl, is_templated, rule_render

OWNER_KEYS = ("bot", "owner")


def kv_ref_split(ref: str, mounts) -> tuple[str, str] | None:
    """`secret/payments/stripe` (or `secret/data/payments/stripe`) -> ("secret", "payments/stripe")
    when `secret` is one of `mounts` (longest mount wins)."""
    ref = (ref or "").strip().strip("/")
    for mount in sorted(mounts, key=len, reverse=True):
        if ref.startswith(f"{mount}/"):
            path = ref[len(mount) + 1:]
            for prefix in ("data/", "metadata/"):
                path = path.removeprefix(prefix)
            return (mount, path) if path else None
    return None


def approle_ref_split(ref: str) -> tuple[str | None, str]:
    """`name`, `approle/name` or `auth/approle/role/name` -> (mount or None, name)."""
    ref = (ref or "").strip().strip("/").removeprefix("auth/")
    if "/role/" in ref:
        mount, _, name = ref.rpartition("/role/")
        return mount, name
    if "/" in ref:
        mount, _, name = ref.rpartition("/")
        return mount, name
    return None, ref


def kv_credentials(obs: VaultObservations, fleet, mounts) -> list[tuple[Credential, KvSecret]]:
    by_ref = {(s.mount, s.path): s for s in obs.kv}
    pairs = []
    for cred in fleet.credentials_in(Credential.Store.VAULT_KV):
        key = kv_ref_split(cred.ref, mounts)
        if key and key in by_ref:
            pairs.append((cred, by_ref[key]))
    return pairs


class Attribution:
    def __init__(self, obs: VaultObservations, fleet):
        self.obs, self.fleet = obs, fleet
        mounts = {s.mount for s in [*obs.kv, *obs.kv_elsewhere]} | set(obs.kv_mounts_complete)
        self.kv_credentials = defaultdict(list)  # (mount, path) -> [Credential] (manifest; may be shared)
        for cred in sorted(fleet.credentials_in(Credential.Store.VAULT_KV), key=lambda c: c.pk):
            key = kv_ref_split(cred.ref, mounts)
            if key:
                self.kv_credentials[key].append(cred)
        self.approle_identity = {}  # (mount|None, name) -> bot id
        self.token_role_identity = {}
        for ident in fleet.identities:
            if ident.kind == Identity.Kind.VAULT_APPROLE:
                self.approle_identity[approle_ref_split(ident.ref)] = ident.bot_id
            elif ident.kind == Identity.Kind.VAULT_TOKEN_ROLE:
                self.token_role_identity[ident.ref.strip("/").rpartition("/")[2]] = ident.bot_id

    def _named_bot(self, mapping: dict) -> int | None:
        for key in OWNER_KEYS:
            bot = self.fleet.bot_by_name(str(mapping.get(key) or "").strip())
            if bot:
                return bot.pk
        return None

    def kv_owners(self, secret: KvSecret) -> list[int]:
        """Every bot that declares the secret (a shared secret has several), else the bot named in
        its custom_metadata, else none."""
        creds = self.kv_credentials.get((secret.mount, secret.path))
        if creds:
            return list(dict.fromkeys(c.bot_id for c in creds))
        named = self._named_bot(secret.custom_metadata)
        return [named] if named else []

    def kv_owner(self, secret: KvSecret) -> int | None:
        owners = self.kv_owners(secret)
        return owners[0] if owners else None

    def kv_rotation_days(self, secret: KvSecret) -> int | None:
        days = [c.rotation_days for c in self.kv_credentials.get((secret.mount, secret.path), []) if c.rotation_days]
        return min(days) if days else None

    def approle_owner(self, role: AppRole) -> int | None:
        mount = role.mount
        return (self.approle_identity.get((mount, role.name)) or self.approle_identity.get((None, role.name))
                or self._named_bot(role.settings.get("token_metadata") or {}))

    def token_owner(self, token: TokenInfo) -> int | None:
        if token.role and token.role in self.token_role_identity:
            return self.token_role_identity[token.role]
        role_name = token.meta.get("role_name")
        if role_name and token.path.startswith("auth/"):
            mount = token.path.removeprefix("auth/").split("/login")[0]
            owner = self.approle_identity.get((mount, role_name)) or self.approle_identity.get((None, role_name))
            if owner:
                return owner
        return self._named_bot(token.meta)

    @cached_property
    def bot_entities(self) -> dict[int, list[Entity]]:
        """The identity entities behind each bot's logins: AppRole aliases (mount + role_name) and the
        entity of each of its tokens."""
        result: dict[int, dict[str, Entity]] = defaultdict(dict)
        entities = {e.id: e for e in self.obs.entities or []}
        roles = {(r.mount, r.name): r for r in self.obs.approles or []}
        for e in entities.values():
            for alias in e.aliases:
                role = roles.get((alias.mount_path.removeprefix("auth/").strip("/"), alias.role_name))
                owner = self.approle_owner(role) if role and alias.role_name else None
                if owner is not None:
                    result[owner][e.id] = e
        for token in self.obs.tokens or []:
            owner = self.token_owner(token)
            if owner is not None and token.entity_id in entities:
                result[owner][token.entity_id] = entities[token.entity_id]
        return {bot: [es[k] for k in sorted(es)] for bot, es in result.items()}

    @cached_property
    def bot_policies(self) -> dict[int, dict[str, list[str]]]:
        """{bot id: {policy name: [where it is attached, ...]}} for active bots: the policies its
        AppRoles, token roles and tokens name, `default` unless they turn it off
        (token_no_default_policy), and its entities' and their groups' policies."""
        result: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for role in self.obs.approles or []:
            owner = self.approle_owner(role)
            names = (role.settings.get("token_policies") or []) + (role.settings.get("policies") or [])
            if not role.settings.get("token_no_default_policy"):
                names.append("default")
            for name in names:
                result[owner][name].append(f"approle {role.mount}/{role.name}")
        for token in self.obs.tokens or []:
            owner = self.token_owner(token)
            for name in token.policies:
                result[owner][name].append(f"token {token.accessor}")
        for trole in self.obs.token_roles or []:
            owner = self.token_role_identity.get(trole.name)
            for name in trole.allowed_policies + ([] if trole.no_default_policy else ["default"]):
                result[owner][name].append(f"token role {trole.name}")
        for owner, entities in self.bot_entities.items():
            for e in entities:
                if e.disabled:
                    continue
                for name in e.policies:
                    result[owner][name].append(f"entity {e.name}")
                for group in self.entity_groups(e):
                    for name in group.policies:
                        result[owner][name].append(f"group {group.name}")
        active = {pk for pk, b in self.fleet.bots.items() if b.status == Bot.Status.ACTIVE}
        return {bot: {p: sorted(set(w)) for p, w in pols.items()} for bot, pols in result.items() if bot in active}

    def entity_groups(self, entity: Entity) -> list:
        return [self.obs.groups[g] for g in entity.group_ids if g in self.obs.groups]

    def templates_resolved(self, bot_id: int) -> list[str]:
        """The bot's policies with templated paths (rendered per entity in `acl`)."""
        return sorted(n for n in self.bot_policies.get(bot_id, {})
                      if any(is_templated(r) for r in self.obs.policies.get(n, [])))

    def _rules(self, bot_id: int):
        identities = [(e, self.entity_groups(e)) for e in self.bot_entities.get(bot_id, []) if not e.disabled]
        for name in self.bot_policies.get(bot_id, {}):
            for rule in self.obs.policies.get(name, []):
                if not is_templated(rule):
                    yield rule
                    continue
                for identity in identities or [(None, [])]:
                    if (rendered := rule_render(rule, identity)) is not None:
                        yield rendered

    def acl(self, bot_id: int) -> Acl:
        cache = self.__dict__.setdefault("_acls", {})
        if bot_id not in cache:
            cache[bot_id] = Acl(list(self._rules(bot_id)))
        return cache[bot_id]


def attribution_for(obs: VaultObservations, fleet) -> Attribution:
    """One Attribution per (observations, fleet) pair, shared by all the checks of a run."""
    cached = getattr(obs, "_attribution", None)
    if cached is None or cached.fleet is not fleet:
        cached = Attribution(obs, fleet)
        obs._attribution = cached
    return cached
