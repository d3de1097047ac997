"""How finding subjects name things: by identifiers that do not change when people rename things.

A subject (with the check id) makes a finding's fingerprint, so it must never hold a bot's,
credential's or connector's display name: renaming one would give its findings new fingerprints and
silently drop their triage. Cloud ARNs, Vault paths, accessors and secret fingerprints are used as
they are; inventory objects are named by their database id through these helpers."""


def bot_key(bot_id: int) -> str:
    return f"bot:{bot_id}"


def credential_key(credential_id: int) -> str:
    return f"credential:{credential_id}"


def connector_key(connector_id: int) -> str:
    """A probed cluster or account that has no identifier of its own in its subjects (Vault)."""
    return f"connector-{connector_id}"
