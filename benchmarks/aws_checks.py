"""The aws checks alone (no AWS, no moto): N hand-built principals shaped like
benchmarks/aws_probe.py's (every 50th with `*` on `*`, the rest scoped reads), every check in
scanners.aws.probe.CHECKS, after a warm-up on 60 principals (policy_sentry and the catalogue loaded).

    .venv/bin/python benchmarks/aws_checks.py [N]     # default 2000
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from scanners.aws.model import AwsObservations, Principal  # noqa: E402
from scanners.aws.policy import statements_parse  # noqa: E402
from scanners.aws.probe import CHECKS  # noqa: E402
from scanners.context import Fleet, ProbeContext  # noqa: E402

ACCOUNT = "123456789012"


def statements(i: int) -> list[dict]:
    if i % 50 == 0:
        return [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    return [{"Effect": "Allow", "Action": ["s3:Get*", "secretsmanager:GetSecretValue"],
             "Resource": [f"arn:aws:s3:::b{i}/*", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/{i}-*"]}]


def build(n: int) -> AwsObservations:
    principals = []
    for i in range(n):
        p = Principal(arn=f"arn:aws:iam::{ACCOUNT}:role/r{i}", name=f"r{i}", kind="role")
        p.statements = statements_parse({"Statement": statements(i)}, policy="p")
        principals.append(p)
    return AwsObservations(account_id=ACCOUNT, regions=("us-east-1",), principals=principals)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    ctx = ProbeContext(fleet=Fleet(bots={}, credentials=[], identities=[]), now=timezone.now())
    warm = build(60)
    for chk in CHECKS:
        list(chk(warm, ctx))
    obs = build(n)
    t0 = time.perf_counter()
    hits = sum(1 for chk in CHECKS for _ in chk(obs, ctx))
    print(f"{len(CHECKS)} checks, {n} principals: {time.perf_counter() - t0:.2f} s, {hits} hits")


if __name__ == "__main__":
    main()
