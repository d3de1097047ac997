"""Demo seeders: each probe kind may add one that prepares its demo service for examples/fleet.yaml
and returns a line saying what it did (or plainly why it skipped)."""

DEMO_SEEDERS = []

from scanners.vault.demo import vault_demo_seed  # noqa: E402

DEMO_SEEDERS.append(vault_demo_seed)
