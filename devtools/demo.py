"""Demo seeders: each probe kind may add one that prepares its demo service for examples/fleet.yaml
and returns a line saying what it did (or plainly why it skipped). Order matters: the git seeder
runs after the AWS one, so a leaked demo key can be an active IAM key."""

from devtools.demo_aws import aws_demo_seed
from devtools.demo_git import git_demo_seed
from devtools.demo_vault import vault_demo_seed

DEMO_SEEDERS = [aws_demo_seed, vault_demo_seed, git_demo_seed]
