"""What the session OpenBao dev server holds: problems that trigger every Vault check, plus
clean bots that trigger none. `fleet_create` declares the matching inventory."""

from __future__ import annotations

import secrets

from inventory.models import Bot, Connector, Credential, Identity, Team

CANARY = "CANARY-" + secrets.token_hex(12)  # a secret value that must never leave Vault

POLICIES = {
    # pay-bot: its own team's folder, which also holds ledger-bot's secret
    "payments-reader": 'path "secret/data/payments/*" { capabilities = ["read"] }',
    # ops-bot: a whole mount plus sudo
    "ops-admin": '''
path "secret/*" { capabilities = ["read", "list"] }
path "sys/mounts" { capabilities = ["read", "sudo"] }
''',
    # clean-bot: exactly its own secret (KV v2 data/ and metadata/ paths)
    "clean-bot": '''
path "secret/data/clean/clean-bot" { capabilities = ["read"] }
path "secret/metadata/clean/clean-bot" { capabilities = ["read", "list"] }
''',
    # clean-token-bot: a folder nobody else uses; an explicit deny on a neighbour
    "clean-token": '''
path "secret/data/clean2/*" { capabilities = ["read"] }
path "secret/data/payments/*" { capabilities = ["deny"] }
''',
    # what the probe itself needs when it is not root: read-only, no sudo on the accessors, and no
    # secret/detailed-metadata/ (so the probe falls back to a metadata read per secret)
    "probe-limited": '''
path "sys/policies/acl" { capabilities = ["list"] }
path "sys/policies/acl/*" { capabilities = ["read"] }
path "sys/mounts" { capabilities = ["read"] }
path "sys/auth" { capabilities = ["read"] }
path "auth/approle/role" { capabilities = ["list"] }
path "auth/approle/role/*" { capabilities = ["read", "list", "update"] }
path "auth/token/roles" { capabilities = ["list"] }
path "auth/token/roles/*" { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
''',
}

KV = {
    "payments/stripe": ({"api_key": CANARY}, {}),
    "payments/ledger": ({"password": "ledger-" + secrets.token_hex(6)}, {"bot": "ledger-bot"}),
    "clean/clean-bot": ({"token": "clean-" + secrets.token_hex(6)}, {}),
    "clean2/clean-token-bot": ({"token": "clean2-" + secrets.token_hex(6)}, {"owner": "clean-token-bot"}),
    "misc/orphaned": ({"x": "y"}, {"note": "nobody knows"}),
    "deep/a/b/c/leaf": ({"x": "deep"}, {}),
}


def vault_seed(client) -> dict:
    """Write the scenario (as root). Returns accessors of interest."""
    for name, text in POLICIES.items():
        client.sys.create_or_update_acl_policy(name=name, policy=text)
    for path, (data, custom) in KV.items():
        client.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point="secret")
        if custom:
            client.secrets.kv.v2.update_metadata(path=path, custom_metadata=custom, mount_point="secret")
    client.sys.enable_auth_method("approle")
    approle = client.auth.approle
    approle.create_or_update_approle("pay-bot-role", token_policies=["payments-reader"], secret_id_ttl="0",
                                     token_ttl="1h", mount_point="approle")
    approle.create_or_update_approle("clean-role", token_policies=["clean-bot"], secret_id_ttl="1h",
                                     token_bound_cidrs=["127.0.0.1/32"], token_ttl="1h", mount_point="approle")
    # the probe's own AppRole login (read-only policy, bound to loopback, short-lived secret ids)
    approle.create_or_update_approle("botaudit-probe", token_policies=["probe-limited"], secret_id_ttl="1h",
                                     token_bound_cidrs=["127.0.0.1/32"], token_ttl="1h", mount_point="approle")
    probe_role_id = approle.read_role_id("botaudit-probe", mount_point="approle")["data"]["role_id"]
    probe_secret_id = approle.generate_secret_id("botaudit-probe", mount_point="approle")["data"]["secret_id"]
    for role in ("pay-bot-role", "clean-role"):
        approle.generate_secret_id(role, mount_point="approle")
    client.auth.token.create_or_update_role("ci-role", allowed_policies=["clean-token"])
    token = client.auth.token
    accessors = {
        "ops": token.create(policies=["ops-admin"], meta={"bot": "ops-bot"})["auth"]["accessor"],  # 768h
        "rooty": token.create(policies=["root"], meta={"bot": "rooty-bot"}, ttl="1h")["auth"]["accessor"],
        "clean": token.create(policies=["clean-token"], role_name="ci-role", ttl="1h")["auth"]["accessor"],
    }
    probe = token.create(policies=["probe-limited"], ttl="2h", meta={"purpose": "botaudit-probe"})["auth"]
    return {"accessors": accessors, "limited_token": probe["client_token"],
            "probe_role_id": probe_role_id, "probe_secret_id": probe_secret_id}


BOTS = ["pay-bot", "ledger-bot", "ops-bot", "rooty-bot", "clean-bot", "clean-token-bot", "ghost-bot"]
CLEAN_BOTS = ["ledger-bot", "clean-bot", "clean-token-bot"]


def fleet_create(*, url: str, connector_name: str = "test-vault", **options) -> dict[str, Bot]:
    team = Team.objects.create(name="vaulters", slug="vaulters")
    bots = {n: Bot.objects.create(name=n, slug=n, team=team, owner_email="o@example.com", environment="production")
            for n in BOTS}
    cred = Credential.objects.create
    cred(bot=bots["pay-bot"], name="stripe", store="vault_kv", ref="secret/payments/stripe", rotation_days=90)
    cred(bot=bots["pay-bot"], name="gone", store="vault_kv", ref="secret/payments/missing-one", rotation_days=90)
    cred(bot=bots["clean-bot"], name="main", store="vault_kv", ref="secret/data/clean/clean-bot", rotation_days=30)
    ident = Identity.objects.create
    ident(bot=bots["pay-bot"], kind=Identity.Kind.VAULT_APPROLE, ref="pay-bot-role")
    ident(bot=bots["clean-bot"], kind=Identity.Kind.VAULT_APPROLE, ref="approle/clean-role")
    ident(bot=bots["clean-token-bot"], kind=Identity.Kind.VAULT_TOKEN_ROLE, ref="ci-role")
    ident(bot=bots["ghost-bot"], kind=Identity.Kind.VAULT_APPROLE, ref="ghost-role")
    Connector.objects.create(name=connector_name, kind="vault",
                             options={"url": url, "kv_mounts": ["secret"], "workers": 4, **options})
    return bots
