"""Demo seeders: each probe kind may add one that prepares its demo service for examples/fleet.yaml
and returns a line saying what it did (or plainly why it skipped)."""

DEMO_SEEDERS = []

from scanners.git.demo import git_demo_seed  # noqa: E402

DEMO_SEEDERS.append(git_demo_seed)  # after the AWS seeder, so a leaked demo key can be active
