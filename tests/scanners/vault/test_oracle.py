"""OpenBao as the oracle: for a seeded cluster, the probe's "bot X can read bot Y's secret" pairs
must equal what `sys/capabilities` answers for each bot's real AppRole login.

The cluster exercises every way a token gets a policy or a path: the role's token_policies, the
`default` policy (and a role that turns it off), entity policies, direct and inherited group
policies, templated paths (entity name and metadata, group names), the legacy `policy = "..."`
syntax, JSON policies, `+` globs, deny precedence, v1-style paths on a v2 mount and a KV version 1
mount."""

import secrets

import hvac
import pytest
from django.core import serializers

from devtools.openbao import dev_server_start, dev_server_stop, free_port
from inventory.models import Bot, Connector, Credential, Identity, Team
from scanners.models import Finding, ProbeRun
from scanners.services.audit import audit_run_in_process

from .test_probe_policy import POLICY as POLICY_FILE

pytestmark = pytest.mark.django_db

# bot -> (its secret: mount, path; its role's token_policies; role settings)
BOTS = {
    "a-bot": (("secret", "team/a-bot/key"), ["a-own"], {}),
    "b-bot": (("secret", "team/b-bot/key"), ["b-own"], {}),
    "c-bot": (("legacy", "c-bot/key"), [], {}),
    "d-bot": (("secret", "d/key"), [], {}),
    "e-bot": (("secret", "team/e-bot/key"), ["self-and-peer"], {}),
    "f-bot": (("secret", "f/key"), ["legacy-read"], {}),
    "g-bot": (("secret", "g/key"), [], {"token_no_default_policy": True}),
    "h-bot": (("secret", "h/key"), ["json-plus"], {}),
    "i-bot": (("secret", "i/key"), ["legacy-sudo"], {"token_no_default_policy": True}),
    "j-bot": (("secret", "j/key"), ["v1-style"], {"token_no_default_policy": True}),
    "k-bot": (("secret", "k/key"), ["by-group-name"], {"token_no_default_policy": True}),
}
POLICIES = {
    "a-own": 'path "secret/data/team/a-bot/*" { capabilities = ["read"] }',
    "b-own": 'path "secret/data/team/b-bot/*" { capabilities = ["read", "update"] }',
    "peek-d": 'path "secret/data/d/*" { capabilities = ["read"] }',  # a-bot's entity policy
    "peek-c-v1": 'path "legacy/c-bot/*" { capabilities = ["read"] }',  # group "readers"
    "peek-a": 'path "secret/data/team/a-bot/key" { capabilities = ["read"] }',  # parent group "all-readers"
    "self-and-peer": '''
path "secret/data/team/{{identity.entity.name}}/*" { capabilities = ["read"] }
path "secret/data/team/{{identity.entity.metadata.peer}}/*" { capabilities = ["read"] }
path "secret/data/{{identity.entity.metadata.missing}}/*" { capabilities = ["read"] }
''',
    "legacy-read": 'path "legacy/*" { policy = "read" }\npath "secret/data/h/*" { policy = "write" }',
    "json-plus": '{"path": {"secret/data/team/+/key": {"capabilities": ["read"]},'
                 ' "secret/data/team/e-bot/*": {"capabilities": ["deny"]}}}',
    "legacy-sudo": 'path "legacy/*" { policy = "sudo" }\npath "secret/data/k/*" { policy = "deny" }',
    "v1-style": 'path "secret/team/*" { capabilities = ["read"] }\npath "secret/+/key" { capabilities = ["read"] }',
    "by-group-name": 'path "secret/data/{{identity.groups.names.readers.metadata.dir}}/*" { capabilities = ["read"] }',
}
DEFAULT_EXTRA = '\npath "secret/data/team/b-bot/key" { capabilities = ["read"] }\n'


CANARIES = []  # secret values, role ids, secret ids and login tokens: none may appear in any output


def _seed(root: hvac.Client) -> dict[str, str]:
    """Write the cluster; return each bot's token from a real AppRole login."""
    root.sys.enable_secrets_engine("kv", path="legacy", options={"version": "1"})
    default = root.sys.read_acl_policy("default")["data"]["policy"]
    root.sys.create_or_update_acl_policy(name="default", policy=default + DEFAULT_EXTRA)
    for name, text in POLICIES.items():
        root.sys.create_or_update_acl_policy(name=name, policy=text)
    root.sys.enable_auth_method("approle")
    tokens, entities = {}, {}
    for bot, ((mount, path), policies, settings) in BOTS.items():
        value = {"v": "oracle-" + secrets.token_hex(4)}
        if mount == "legacy":
            root.secrets.kv.v1.create_or_update_secret(path=path, secret=value, mount_point=mount)
        else:
            root.secrets.kv.v2.create_or_update_secret(path=path, secret=value, mount_point=mount)
        role = f"{bot}-role"
        root.auth.approle.create_or_update_approle(role, token_policies=policies, token_ttl="30m",
                                                   secret_id_ttl="30m", **settings)
        role_id = root.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
        login = root.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)["auth"]
        tokens[bot], entities[bot] = login["client_token"], login["entity_id"]
        CANARIES.extend([value["v"], role_id, secret_id, login["client_token"]])
    identity = root.secrets.identity
    identity.update_entity(entities["a-bot"], name="a-bot", policies=["peek-d"])
    identity.update_entity(entities["e-bot"], name="e-bot", metadata={"peer": "a-bot"})
    readers = identity.create_or_update_group(name="readers", policies=["peek-c-v1"], metadata={"dir": "d"},
                                              member_entity_ids=[entities["d-bot"], entities["k-bot"]])
    identity.create_or_update_group(name="all-readers", policies=["peek-a"],
                                    member_group_ids=[readers["data"]["id"]])
    return tokens


@pytest.fixture(scope="module")
def oracle_cluster(tmp_path_factory):
    port, root_token = free_port(), "root-" + secrets.token_hex(8)
    proc = dev_server_start(port=port, root_token=root_token,
                            log_path=tmp_path_factory.mktemp("oracle") / "bao.log")
    try:
        url = f"http://127.0.0.1:{port}"
        root = hvac.Client(url=url, token=root_token)
        yield url, root_token, root, _seed(root)
    finally:
        dev_server_stop(proc)


def _fleet(url):
    team = Team.objects.create(name="oracle", slug="oracle")
    for bot, ((mount, path), _, _) in BOTS.items():
        b = Bot.objects.create(name=bot, slug=bot, team=team, owner_email="o@example.com", environment="production")
        Credential.objects.create(bot=b, name="key", store="vault_kv", ref=f"{mount}/{path}", rotation_days=90)
        Identity.objects.create(bot=b, kind=Identity.Kind.VAULT_APPROLE, ref=f"approle/{bot}-role")
    Connector.objects.create(name="oracle", kind="vault", options={"url": url, "kv_mounts": ["secret", "legacy"]})


def _read_path(mount, path):
    return f"{mount}/{path}" if mount == "legacy" else f"{mount}/data/{path}"


def _server_pairs(root, tokens) -> set[tuple[str, str]]:
    pairs = set()
    for bot, token in tokens.items():
        for other, ((mount, path), _, _) in BOTS.items():
            if other == bot:
                continue
            caps = root.sys.get_capabilities(paths=[_read_path(mount, path)], token=token)
            caps = caps.get("data", caps).get("capabilities") or caps.get("data", caps).get(_read_path(mount, path))
            if "read" in caps or "root" in caps:
                pairs.add((bot, f"{mount}/{path}"))
    return pairs


def _probe_token(root) -> str:
    """The recommended probe policy for both mounts, without `sudo` on the token accessors: the
    probe then sees no login token and must derive every policy from roles and identities."""
    text = POLICY_FILE.read_text().replace('path "auth/token/accessors"', '# path "auth/token/accessors"')
    text += 'path "legacy/" { capabilities = ["list"] }\npath "legacy/*" { capabilities = ["list"] }\n'
    root.sys.create_or_update_acl_policy(name="probe-no-accessors", policy=text)
    return root.auth.token.create(policies=["probe-no-accessors"], ttl="20m")["auth"]["client_token"]


@pytest.mark.parametrize("sees_tokens", [True, False], ids=["root-probe", "probe-without-token-accessors"])
def test_probe_pairs_equal_what_openbao_answers(oracle_cluster, monkeypatch, sees_tokens):
    url, root_token, root, tokens = oracle_cluster
    _fleet(url)
    monkeypatch.setenv("VAULT_TOKEN_ORACLE", root_token if sees_tokens else _probe_token(root))
    probe = audit_run_in_process(connector_names=["oracle"]).probe_runs.get(kind="vault")
    if sees_tokens:
        assert probe.status == ProbeRun.Status.OK, probe.error
    else:
        assert probe.status == ProbeRun.Status.PARTIAL and probe.error.startswith("token accessors:"), probe.error
    assert probe.counts["kv_secrets"] == len(BOTS)  # the KV version 1 secret is listed too
    findings = Finding.objects.filter(check_id="vault.policy.reads_other_bots_secrets").select_related("bot")
    probe_pairs = {(f.bot.name, ref) for f in findings for ref in f.evidence["secrets"]}
    server = _server_pairs(root, tokens)

    assert probe_pairs == server
    stored = serializers.serialize("json", [*Finding.objects.all(), ProbeRun.objects.get(pk=probe.pk)])
    assert "secret/team/a-bot/key" in stored and len(CANARIES) == 4 * len(BOTS)
    assert not [c for c in CANARIES if c in stored]  # no value, role id, secret id or token
    # every mechanism contributed at least one real pair (so the equality is not vacuous)
    assert {("c-bot", "secret/team/b-bot/key"), ("a-bot", "secret/d/key"), ("d-bot", "secret/team/a-bot/key"),
            ("d-bot", "legacy/c-bot/key"), ("e-bot", "secret/team/a-bot/key"), ("f-bot", "legacy/c-bot/key"),
            ("h-bot", "secret/team/a-bot/key"), ("i-bot", "legacy/c-bot/key"), ("k-bot", "secret/d/key")} <= server
    assert not {p for p in server if p[0] in ("g-bot", "j-bot")}  # no default policy; v1-style paths on v2
    assert ("h-bot", "secret/team/e-bot/key") not in server  # deny wins
    e_reads = findings.get(bot__name="e-bot", evidence__other_bot="a-bot").evidence
    assert e_reads["templates_resolved"] == {"policies": ["default", "self-and-peer"], "entities": ["e-bot"]}


def test_legacy_sudo_on_a_whole_mount_is_wildcard_and_sudo(oracle_cluster, monkeypatch):
    url, root_token, _, _ = oracle_cluster
    _fleet(url)
    monkeypatch.setenv("VAULT_TOKEN_ORACLE", root_token)
    audit_run_in_process(connector_names=["oracle"])
    wildcard = Finding.objects.filter(check_id="vault.policy.wildcard", bot__name="i-bot")
    assert {f.evidence["path"] for f in wildcard} == {"legacy/*"}
    sudo = Finding.objects.get(check_id="vault.policy.sudo", bot__name="i-bot")
    assert sudo.evidence["paths"] == ["legacy/*"]
    v1 = Finding.objects.filter(check_id="vault.kv.unowned", evidence__path="legacy/c-bot/key")
    assert not v1.exists()  # owned by its manifest ref
