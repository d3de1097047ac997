"""Demo seeder: create a small git repository for every inventory Repository whose url is a local
path under demo/, with planted fake but well-formed leaks: one removed in a later commit (history
only), one still at the tip, one on a side branch. When the demo AWS endpoint (moto) answers, one
repository also gets a real active access key id of a demo IAM user, so the cross-reference shows."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pygit2
from django.conf import settings

from inventory.models import Connector, Repository

ALNUM = string.ascii_letters + string.digits
BLOB = pygit2.enums.FileMode.BLOB


def _fake(rng: random.Random, kind: str) -> str:
    r = lambda chars, n: "".join(rng.choice(chars) for _ in range(n))  # noqa: E731
    return {
        "aws": "AKIA" + r(string.ascii_uppercase + "234567", 16),
        "github": "ghp_" + r(ALNUM, 36),
        "stripe": "sk_" + "live_" + r(ALNUM, 24),
        "slack": "https://hooks.slack.com/services/T" + r(string.ascii_uppercase, 8) + "/B"
                 + r(string.ascii_uppercase, 8) + "/" + r(ALNUM, 24),
        "db": "postgres://app:" + r(ALNUM, 18) + "@db.internal:5432/app",
        "vault": "hvs." + r(ALNUM, 92),
        "sendgrid": "SG." + r(ALNUM, 22) + "." + r(ALNUM, 43),
    }[kind]


def _commit(repo, ref: str, files: dict, message: str, when: int) -> None:
    parents = [repo.references[ref].target] if ref in repo.references else []
    index = pygit2.Index()
    if parents:
        index.read_tree(repo[parents[0]].tree)
    for name, text in files.items():
        if text is None:
            index.remove(name)
        else:
            index.add(pygit2.IndexEntry(name, repo.create_blob(text.encode()), BLOB))
    sig = pygit2.Signature("Demo Dev", "dev@example.com", when, 0)
    oid = repo.create_commit(None, sig, sig, message, index.write_tree(repo), parents)
    repo.references.create(ref, oid, force=True)


def _demo_aws_key() -> tuple[str, str] | None:
    """(access key id, user name) of an active key in the demo AWS endpoint, or None."""
    conn = Connector.objects.filter(kind="aws", options__endpoint_url__isnull=False).first()
    if conn is None:
        return None
    try:
        import boto3
        from botocore.config import Config

        iam = boto3.client("iam", endpoint_url=conn.options["endpoint_url"], region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing",  # noqa: S106 (moto)
                           config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}))
        for user in iam.list_users()["Users"]:
            for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
                if key["Status"] == "Active":
                    return key["AccessKeyId"], user["UserName"]
    except Exception:  # noqa: BLE001 - the demo AWS endpoint is optional
        return None
    return None


def repository_seed(path: Path, *, rng: random.Random, index: int, aws_key: str | None) -> int:
    repo = pygit2.init_repository(str(path), initial_head="main")
    main, t = "refs/heads/main", 1_735_700_000 + index * 86_400
    removed, kept, side = (["stripe", "db", "sendgrid"][index % 3], ["github", "vault", "slack"][index % 3],
                           ["aws", "github", "db"][index % 3])
    _commit(repo, main, {"README.md": f"# {path.name}\n", "app/main.py": "import os\n\nprint('ok')\n"},
            "Initial commit", t)
    _commit(repo, main, {"app/settings.py": f"API_KEY = '{_fake(rng, removed)}'\n"}, "Add settings", t + 600)
    _commit(repo, main, {"app/settings.py": "API_KEY = os.environ['API_KEY']\n"}, "Read key from env", t + 1200)
    _commit(repo, main, {".ci/deploy.env": f"TOKEN={_fake(rng, kept)}\n"}, "CI deploy config", t + 1800)
    planted = 3
    if aws_key:
        _commit(repo, main, {"scripts/sync.sh": f"export AWS_ACCESS_KEY_ID={aws_key}\naws s3 sync a b\n"},
                "Sync script", t + 2400)
        planted += 1
    base = repo.references[main].target
    repo.references.create("refs/heads/feature/debug", base)
    _commit(repo, "refs/heads/feature/debug", {"debug.cfg": f"secret = {_fake(rng, side)}\n"}, "Debug", t + 3000)
    repo.checkout_head(strategy=pygit2.enums.CheckoutStrategy.FORCE)
    return planted


def git_demo_seed() -> str:
    base = Path(settings.BASE_DIR)
    targets = [r for r in Repository.objects.all() if r.url.startswith("demo/")]
    if not targets:
        return "git: no inventory repositories under demo/, nothing to create"
    rng = random.Random(20261127)
    aws = _demo_aws_key()
    created = planted = 0
    for i, repository in enumerate(targets):
        path = base / repository.url
        if (path / ".git").exists():
            continue
        path.mkdir(parents=True, exist_ok=True)
        planted += repository_seed(path, rng=rng, index=i, aws_key=aws[0] if aws and i == 0 else None)
        created += 1
    note = f"; an active key of IAM user {aws[1]} in {targets[0].name}" if aws else ""
    if not created:
        return f"git: the {len(targets)} demo repositories already exist under demo/"
    return f"git: created {created} demo repositories under demo/ with {planted} planted fake leaks{note}"
