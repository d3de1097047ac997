"""A small two-team world for the dashboard tests: users of every role, bots, credentials, findings, scores."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory.accounts import user_grant
from inventory.models import Identity, Team
from scanners.models import AuditRun, BotScore, Finding, ProbeRun
from scanners.services.findings import finding_fingerprint

PASSWORD = "correct horse battery staple"


def make_finding(bot, check_id, *, severity="high", category="hygiene", status="open", subject=None, **kw):
    subject = subject or f"{check_id}:{bot.name if bot else 'none'}"
    now = timezone.now()
    return Finding.objects.create(
        check_id=check_id, severity=severity, category=category, title=f"{check_id} title", bot=bot,
        subject=subject, evidence=kw.pop("evidence", {"where": subject}), remediation="Rotate it.", scope="inventory",
        fingerprint=finding_fingerprint(check_id=check_id, subject=subject), status=status,
        first_seen=kw.pop("first_seen", now - timedelta(days=3)), last_seen=now, **kw,
    )


@pytest.fixture
def team_b(db):
    return Team.objects.create(name="platform", slug="platform")


@pytest.fixture
def users(db, team, team_b):
    def grant(email, role, team_name=None):
        user, _ = user_grant(email=email, role=role, team_name=team_name, password=PASSWORD)
        return user

    return {
        "viewer_a": grant("va@example.com", "viewer", team.name),
        "viewer_b": grant("vb@example.com", "viewer", team_b.name),
        "auditor": grant("aud@example.com", "auditor"),
        "admin": grant("adm@example.com", "admin"),
    }


@pytest.fixture
def world(users, team, team_b, make_bot, make_credential):
    now = timezone.now()
    bot_a = make_bot("pay-bot", description="pays things")
    bot_b = make_bot("plat-bot", bot_team=team_b, environment="staging", owner="bob@example.com")
    lonely = make_bot("lonely-bot", environment="dev")
    Identity.objects.create(bot=bot_a, kind="aws_iam_user", ref="arn:aws:iam::123456789012:user/pay-bot")
    cred = make_credential(bot_a, "stripe", ref="secret/payments/stripe", service="stripe", rotation_days=30,
                           created_at=now - timedelta(days=100), last_rotated_at=now - timedelta(days=45),
                           last_used_at=now - timedelta(days=1))
    make_credential(bot_a, "aws-key", store="env_var", ref="PAY_AWS_KEY", rotation_days=None)
    make_credential(bot_b, "db", store="vault_kv", ref="secret/platform/db")
    f_leak = make_finding(bot_a, "git.secret.leak", severity="critical", category="leak")
    f_stale = make_finding(bot_a, "aws.key.stale", severity="high", category="stale_credential")
    f_b = make_finding(bot_b, "vault.policy.wildcard", severity="medium", category="over_broad_access")
    make_finding(bot_a, "old.resolved", severity="low", status="resolved", resolved_at=now - timedelta(days=1))
    run = AuditRun.objects.create(status="partial", finished=now, trigger="test")
    ProbeRun.objects.bulk_create([
        ProbeRun(audit_run=run, kind="inventory", scope="inventory", status="ok", started=now, finished=now),
        ProbeRun(audit_run=run, kind="aws", scope="connector:1", status="ok", started=now, finished=now,
                 api_calls=42, counts={"findings": 2}),
        ProbeRun(audit_run=run, kind="vault", scope="connector:2", status="partial", started=now, finished=now,
                 api_calls=17, error="vault: permission denied listing secret/platform/"),
    ])
    BotScore.objects.create(bot=bot_a, audit_run=run, score=60, breakdown={"by_severity": {"critical": {
        "count": 1, "points": 40}, "high": {"count": 1, "points": 20}}, "raw": 60})
    BotScore.objects.create(bot=bot_b, audit_run=run, score=8, breakdown={})
    return {"bot_a": bot_a, "bot_b": bot_b, "lonely": lonely, "cred": cred, "run": run,
            "f_leak": f_leak, "f_stale": f_stale, "f_b": f_b, "users": users}


@pytest.fixture
def login(client):
    def as_role(user):
        client.force_login(user)
        return client

    return as_role


@pytest.fixture
def user_model():
    return get_user_model()
