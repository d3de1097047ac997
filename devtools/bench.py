"""Seed a large synthetic fleet for the benchmarks (manage.py seed_bench). Deterministic (seeded RNG),
bulk inserts only. Never for a real database: it refuses when bots already exist unless reset."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from dashboard.cache import generation_bump
from inventory.models import Bot, Credential, Identity, Team
from scanners import registry
from scanners.models import ACTIVE_STATUSES, AuditRun, BotScore, Finding, ProbeRun
from scanners.registry import Check, Hit
from scanners.scoring import finding_weight
from scanners.services.findings import Draft

ENVIRONMENTS = ["production", "staging", "dev"]
STORES = ["aws_secretsmanager", "vault_kv", "env_var", "ci_variable"]
BATCH = 5000


def bench_checks() -> list[Check]:
    """The real catalogue (every registered check, by id): bench findings carry its ids, severities,
    categories, OWASP items, titles and remediation."""
    return sorted(registry.all_checks(), key=lambda c: c.id)


def bench_reset() -> None:
    """Wipe the inventory and findings (a benchmark database only): TRUNCATE on PostgreSQL outside a
    transaction, DELETE in dependency order otherwise."""
    from scanners.models import Digest

    models = [BotScore, Finding, ProbeRun, AuditRun, Identity, Credential, Bot.repositories.through, Bot,
              Team.members.through]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        tables = [m._meta.db_table for m in (*models, Team)]
        with connection.cursor() as cur:
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        generation_bump()
        return
    Digest.objects.update(team=None)
    with connection.cursor() as cur:
        for model in (*models, Team):
            cur.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 - model table names
    generation_bump()


@transaction.atomic
def bench_seed(*, bots: int = 10_000, credentials_per_bot: int = 4, findings_per_bot: int = 20, teams: int = 20,
               runs: int = 3, seed: int = 6) -> dict:
    rng = random.Random(seed)
    now = timezone.now()
    team_objs = Team.objects.bulk_create(
        [Team(name=f"team-{i:02d}", slug=f"team-{i:02d}", email=f"team-{i:02d}@example.com") for i in range(teams)])
    bot_objs = Bot.objects.bulk_create([
        Bot(name=f"bench-bot-{i:05d}", slug=f"bench-bot-{i:05d}", team=team_objs[i % teams],
            owner_email=f"owner{i % 500}@example.com", environment=ENVIRONMENTS[i % 3],
            description=f"synthetic bot {i}") for i in range(bots)], batch_size=BATCH)
    Identity.objects.bulk_create([
        Identity(bot=b, kind="aws_iam_user", ref=f"arn:aws:iam::123456789012:user/{b.name}") for b in bot_objs],
        batch_size=BATCH)
    creds = []
    for b in bot_objs:
        for j in range(credentials_per_bot):
            created = now - timedelta(days=rng.randint(1, 700))
            creds.append(Credential(
                bot=b, name=f"cred-{j}", store=STORES[j % len(STORES)], ref=f"secret/{b.team_id}/{b.name}/{j}",
                service=rng.choice(["stripe", "github", "slack", "aws"]), rotation_days=rng.choice([None, 30, 90]),
                created_at=created, last_rotated_at=created + timedelta(days=rng.randint(0, 30)),
                last_used_at=now - timedelta(days=rng.randint(0, 60)), observed_at=now))
    Credential.objects.bulk_create(creds, batch_size=BATCH)
    run_objs = [AuditRun.objects.create(status="ok", trigger="bench") for _ in range(runs)]
    for k, run in enumerate(run_objs):
        AuditRun.objects.filter(pk=run.pk).update(started=now - timedelta(days=7 * (runs - k)),
                                                  finished=now - timedelta(days=7 * (runs - k), minutes=-5))
        ProbeRun.objects.bulk_create([ProbeRun(audit_run=run, kind=kind, scope=kind, status="ok", started=now,
                                               finished=now, api_calls=rng.randint(10, 900))
                                      for kind in ("inventory", "aws", "vault", "git")])
    findings, left = [], {}  # per bot: the risk headroom its active findings leave (scanners/scoring.py)
    checks = bench_checks()
    for b in bot_objs:
        exposure = rng.random() ** 2  # most bots are mostly clean, a few are a mess
        for j in range(findings_per_bot):
            chk = checks[(j + b.pk) % len(checks)]
            draft = Draft(check=chk, hit=Hit(subject=f"bench:bot:{b.pk}:{j}", bot_id=b.pk, evidence={
                "credential": f"cred-{j % credentials_per_bot}", "n": j}))
            severity = chk.severity
            if rng.random() < exposure:
                status = "open" if rng.random() < 0.85 else "acknowledged"
            else:
                status = "resolved" if rng.random() < 0.9 else "false_positive"
            if status in ACTIVE_STATUSES:
                left[b.pk] = left.get(b.pk, 1.0) * (1 - finding_weight(severity=severity, category=chk.category))
            first = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
            findings.append(Finding(
                **draft.values(), scope=chk.id.split(".")[0], fingerprint=draft.fingerprint, status=status,
                first_seen=first, last_seen=now,
                resolved_at=first + timedelta(days=rng.randint(1, 20)) if status == "resolved" else None))
        if len(findings) >= BATCH:
            Finding.objects.bulk_create(findings, batch_size=BATCH)
            findings = []
    Finding.objects.bulk_create(findings, batch_size=BATCH)
    scores = []  # the latest run scores what is open now; earlier runs drift towards it
    for k, run in enumerate(run_objs):
        for b in bot_objs:
            raw = max(0, round(100 * (1 - left.get(b.pk, 1.0))) - rng.randint(0, 30) * (runs - 1 - k))
            scores.append(BotScore(bot=b, audit_run=run, score=min(raw, 100), breakdown={"raw": raw}))
    BotScore.objects.bulk_create(scores, batch_size=BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    generation_bump()  # bulk inserts send no signals: the pages' cached values are stale now
    return {"teams": teams, "bots": bots, "credentials": len(creds), "findings": bots * findings_per_bot,
            "scores": len(scores)}
