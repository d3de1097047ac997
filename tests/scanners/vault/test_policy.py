"""Vault's ACL path-matching rules, one test per rule, on the real HCL parser."""

import pytest

from scanners.vault.policy import Acl, PolicyParseError, kv_data_path, kv_metadata_path, policy_parse


def acl(*texts):
    return Acl([rule for i, text in enumerate(texts) for rule in policy_parse(f"p{i}", text)])


def caps(text_or_acl, path):
    a = text_or_acl if isinstance(text_or_acl, Acl) else acl(text_or_acl)
    return set(a.capabilities(path))


def test_parses_hcl_blocks_with_quotes_removed():
    rules = policy_parse("p", 'path "secret/data/a" {\n  capabilities = ["read", "list"]\n}\n'
                              '# comment\npath "sys/+/x*" { capabilities = ["sudo"] }')
    assert [(r.path, set(r.capabilities)) for r in rules] == [
        ("secret/data/a", {"read", "list"}), ("sys/+/x*", {"sudo"}),
    ]


def test_parses_json_policies():
    rules = policy_parse("p", '{"path": {"secret/data/j": {"capabilities": ["read"]}}}')
    assert [(r.path, set(r.capabilities)) for r in rules] == [("secret/data/j", {"read"})]


def test_unparseable_policy_names_the_policy():
    with pytest.raises(PolicyParseError, match="policy 'broken'"):
        policy_parse("broken", 'path "secret/*" { capabilities = ["read" ')


def test_exact_path_matches_only_itself():
    text = 'path "secret/data/a" { capabilities = ["read"] }'
    assert caps(text, "secret/data/a") == {"read"}
    assert caps(text, "secret/data/a/b") == set()
    assert caps(text, "secret/data/ab") == set()


def test_star_is_a_prefix_glob_only_at_the_end():
    text = 'path "secret/data/app*" { capabilities = ["read"] }'
    assert caps(text, "secret/data/app") == {"read"}
    assert caps(text, "secret/data/apple/deep/key") == {"read"}
    assert caps(text, "secret/data/ap") == set()


def test_plus_matches_exactly_one_segment():
    text = 'path "secret/data/+/config" { capabilities = ["read"] }'
    assert caps(text, "secret/data/team-a/config") == {"read"}
    assert caps(text, "secret/data/team-a/sub/config") == set()
    assert caps(text, "secret/data/config") == set()


def test_plus_with_a_trailing_glob():
    text = 'path "secret/data/+/team*" { capabilities = ["read"] }'
    assert caps(text, "secret/data/x/team-b/key") == {"read"}
    assert caps(text, "secret/data/x/y/team-b") == set()
    assert caps('path "+/*" { capabilities = ["list"] }', "anything/at/all") == {"list"}


def test_kv_v2_values_are_read_through_data_prefix():
    logical = 'path "secret/payments/stripe" { capabilities = ["read"] }'  # the KV v1 way: no access in v2
    assert not acl(logical).allows("read", kv_data_path("secret", "payments/stripe"))
    meta_only = 'path "secret/metadata/*" { capabilities = ["read", "list"] }'
    assert not acl(meta_only).allows("read", kv_data_path("secret", "payments/stripe"))
    assert acl(meta_only).allows("read", kv_metadata_path("secret", "payments/stripe"))
    data = 'path "secret/data/payments/*" { capabilities = ["read"] }'
    assert acl(data).allows("read", kv_data_path("secret", "payments/stripe"))
    assert kv_data_path("/secret/", "/payments/stripe") == "secret/data/payments/stripe"


def test_exact_path_beats_a_glob():
    a = acl('path "secret/data/*" { capabilities = ["read"] }', 'path "secret/data/x" { capabilities = ["deny"] }')
    assert caps(a, "secret/data/x") == set()
    assert caps(a, "secret/data/y") == {"read"}


def test_later_first_wildcard_wins():
    a = acl('path "secret/data/+/b" { capabilities = ["read"] }', 'path "secret/data/a/*" { capabilities = ["list"] }')
    assert caps(a, "secret/data/a/b") == {"list"}  # first wildcard at 14 beats 12
    assert caps(a, "secret/data/c/b") == {"read"}


def test_no_trailing_glob_beats_a_glob_at_the_same_position():
    a = acl('path "secret/data/+/b" { capabilities = ["read"] }', 'path "secret/data/+/b*" { capabilities = ["list"] }')
    assert caps(a, "secret/data/a/b") == {"read"}
    assert caps(a, "secret/data/a/bc") == {"list"}


def test_fewer_plus_segments_win():
    a = acl('path "secret/+/+/c" { capabilities = ["read"] }', 'path "secret/+/b/c" { capabilities = ["list"] }')
    assert caps(a, "secret/a/b/c") == {"list"}
    assert caps(a, "secret/a/x/c") == {"read"}


def test_longer_glob_wins():
    a = acl('path "secret/data/a*" { capabilities = ["read"] }', 'path "secret/data/ab*" { capabilities = ["list"] }')
    assert caps(a, "secret/data/abc") == {"list"}
    assert caps(a, "secret/data/ac") == {"read"}


def test_lexicographically_larger_wins_last():
    a = acl('path "secret/+/b/+" { capabilities = ["read"] }', 'path "secret/+/+/b" { capabilities = ["list"] }')
    # same first wildcard, neither a glob, two `+` each, same length: "secret/+/b/+" > "secret/+/+/b"
    assert a.rule_for("secret/x/b/b").path == "secret/+/b/+"
    assert caps(a, "secret/x/b/b") == {"read"}
    assert caps(a, "secret/x/y/b") == {"list"}


def test_same_path_in_several_policies_merges_and_deny_wins():
    a = acl('path "secret/data/s" { capabilities = ["read"] }', 'path "secret/data/s" { capabilities = ["list"] }')
    assert caps(a, "secret/data/s") == {"read", "list"}
    denied = acl('path "secret/data/s" { capabilities = ["read"] }', 'path "secret/data/s" { capabilities = ["deny"] }')
    assert caps(denied, "secret/data/s") == set()


def test_more_specific_deny_under_a_broad_grant():
    a = acl('path "secret/*" { capabilities = ["read"] }', 'path "secret/data/payments/*" { capabilities = ["deny"] }')
    assert not a.allows("read", "secret/data/payments/stripe")
    assert a.allows("read", "secret/data/ops/thing")


def test_path_index_finds_exactly_what_checking_every_path_finds():
    from scanners.vault.policy import PathIndex

    paths = [f"secret/data/{t}/{b}/{s}" for t in ("pay", "ops", "app") for b in ("x", "y", "xy") for s in ("k", "kk")]
    a = acl(
        'path "secret/data/pay/*" { capabilities = ["read"] }',
        'path "secret/data/pay/x/k" { capabilities = ["deny"] }',
        'path "secret/data/+/y/*" { capabilities = ["read"] }',
        'path "secret/data/ops/x*" { capabilities = ["read", "list"] }',
        'path "secret/data/app/xy/kk" { capabilities = ["read"] }',
        'path "secret/data/+/+/k" { capabilities = ["list"] }',
        'path "secret/data/app/+/k" { capabilities = ["deny"] }',
    )
    expected = sorted(p for p in paths if a.allows("read", p))
    assert PathIndex(paths).readable(a) == expected
    assert "secret/data/pay/x/k" not in expected and "secret/data/ops/xy/kk" in expected


def test_legacy_policy_field_expands_like_the_server():
    rules = {r.path: r.capabilities for r in policy_parse("old", '''
path "a/*" { policy = "read" }
path "b/*" { policy = "write" }
path "c/*" { policy = "sudo" }
path "d/*" { policy = "deny" }
path "e/*" { policy = "read"
             capabilities = ["update"] }
''')}
    assert rules["a/*"] == {"read", "list"}
    assert rules["b/*"] == {"create", "read", "update", "delete", "list"}
    assert "sudo" in rules["c/*"] and rules["d/*"] == {"deny"}
    assert rules["e/*"] == {"read", "list", "update"}
    with pytest.raises(PolicyParseError, match="policy 'odd': path 'x': unknown policy value 'admin'"):
        policy_parse("odd", 'path "x" { policy = "admin" }')


def _identity():
    from scanners.vault.observations import Entity, EntityAlias, Group

    alias = EntityAlias(id="al-1", mount_accessor="auth_approle_1", mount_path="auth/approle/", name="rid",
                        role_name="pay-role", metadata={"role_name": "pay-role"})
    entity = Entity(id="ent-1", name="pay-bot", policies=[], metadata={"team": "payments"}, aliases=[alias],
                    group_ids=["g-1"])
    return entity, [Group(id="g-1", name="readers", policies=[], metadata={"dir": "shared"})]


def test_templates_render_per_identity_and_unresolvable_paths_are_dropped():
    from scanners.vault.policy import Rule, rule_render

    identity = _identity()

    def render(path):
        rendered = rule_render(Rule(path=path, capabilities=frozenset({"read"})), identity)
        return rendered.path if rendered else None

    assert render("secret/data/{{identity.entity.name}}/*") == "secret/data/pay-bot/*"
    assert render("secret/data/{{ identity.entity.metadata.team }}/{{identity.entity.id}}") == \
        "secret/data/payments/ent-1"
    assert render("kv/{{identity.entity.aliases.auth_approle_1.metadata.role_name}}") == "kv/pay-role"
    assert render("kv/{{identity.groups.names.readers.metadata.dir}}/*") == "kv/shared/*"
    assert render("kv/{{identity.groups.ids.g-1.name}}") == "kv/readers"
    assert render("kv/{{identity.entity.metadata.nope}}") is None
    assert render("kv/{{identity.groups.names.writers.id}}") is None
    assert rule_render(Rule(path="kv/{{identity.entity.name}}", capabilities=frozenset()), (None, [])) is None
