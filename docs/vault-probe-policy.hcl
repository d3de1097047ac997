# A read-only policy for BotAudit's Vault / OpenBao probe (tests/scanners/vault/test_probe_policy.py
# proves it is enough for an `ok` probe). Replace `secret` with each of your kv_mounts and
# `approle` with each AppRole mount. Nothing here reads a secret value, a token or a secret ID.

path "sys/audit"                  { capabilities = ["read", "sudo"] }   # listing audit devices needs sudo
path "sys/mounts"                 { capabilities = ["read"] }
path "sys/auth"                   { capabilities = ["read"] }
path "sys/policies/acl"           { capabilities = ["list"] }
path "sys/policies/acl/*"         { capabilities = ["read"] }

path "auth/token/lookup-self"     { capabilities = ["read"] }           # (in the default policy too)
path "auth/token/accessors"       { capabilities = ["list", "sudo"] }   # listing accessors needs sudo
path "auth/token/lookup-accessor" { capabilities = ["update"] }         # a token's properties, not its id
path "auth/token/roles"           { capabilities = ["list"] }
path "auth/token/roles/*"         { capabilities = ["read"] }

path "auth/approle/role"          { capabilities = ["list"] }
path "auth/approle/role/+"        { capabilities = ["read"] }
path "auth/approle/role/+/secret-id"                 { capabilities = ["list"] }     # accessors only
path "auth/approle/role/+/secret-id-accessor/lookup" { capabilities = ["update"] }   # metadata, not the id

path "identity/entity/id"         { capabilities = ["list"] }           # entities: policies, aliases, groups
path "identity/entity/id/*"       { capabilities = ["read"] }
path "identity/group/id"          { capabilities = ["list"] }
path "identity/group/id/*"        { capabilities = ["read"] }

path "secret/metadata/*"          { capabilities = ["read", "list"] }
path "secret/detailed-metadata/*" { capabilities = ["list"] }   # OpenBao: one request per folder
# a KV version 1 mount (e.g. `legacy`): listing only, values live at the same paths and are not read
# path "legacy/"  { capabilities = ["list"] }
# path "legacy/*" { capabilities = ["list"] }
