"""A real SMTP server (aiosmtpd) on a loopback port, and a small two-team fleet for week 2026-W48."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from inventory.models import Bot, Connector, Team
from scanners.models import AuditRun, BotScore, ProbeRun
from tests.helpers import finding_make, free_port

WEEK = "2026-W48"  # Monday 2026-11-23 .. Sunday 2026-11-29 (UTC unless a test says otherwise)
IN_WEEK = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BEFORE_WEEK = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday morning after the week


class Received:
    def __init__(self, envelope):
        self.rcpt_tos = sorted(envelope.rcpt_tos)
        self.raw = envelope.original_content or envelope.content
        self.message = message_from_bytes(self.raw, policy=policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"]).strip()  # a folded encoded header starts with a space

    def part(self, content_type: str) -> str:
        parts = [p for p in self.message.walk() if p.get_content_type() == content_type]
        assert len(parts) == 1, f"expected one {content_type} part, found {len(parts)}"
        return parts[0].get_content()

    def everything(self) -> str:
        """Raw bytes, every decoded header and every decoded part: where a leak could hide."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.message.items())
        parts = "\n".join(p.get_content() for p in self.message.walk() if not p.is_multipart())
        return "\n".join([self.raw.decode("utf-8", "replace"), headers, parts])


class Handler:
    def __init__(self):
        self.messages: list[Received] = []
        self.fail_next = 0  # answer DATA with a temporary failure this many times
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                return "451 4.3.0 Mail server temporarily rejected message"
            self.messages.append(Received(envelope))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "BotAudit <botaudit@example.com>"
    settings.BOTAUDIT_BASE_URL = "https://botaudit.example.com"
    settings.BOTAUDIT_DIGEST_SECURITY_RECIPIENTS = ["secops@example.com", "ciso@example.com"]
    yield handler
    controller.stop()


HYGIENE = "inventory.credential.outside_secrets_manager"  # a registered hygiene check for plain findings


def make_finding(*, bot, severity, title, check_id=HYGIENE, first_seen=BEFORE_WEEK, **kw):
    """A finding of a registered check (tests/helpers.finding_make), last seen when first seen."""
    return finding_make(check_id=check_id, bot=bot, severity=severity, title=title, first_seen=first_seen,
                        last_seen=first_seen, evidence=kw.pop("evidence", {}), **kw)


def make_score(bot, score, at):
    run = AuditRun.objects.create(status="ok")
    AuditRun.objects.filter(pk=run.pk).update(started=at)
    s = BotScore.objects.create(bot=bot, audit_run=run, score=score, breakdown={})
    BotScore.objects.filter(pk=s.pk).update(created=at)
    return s


def make_probe_run(*, connector, status, at, error=""):
    run = AuditRun.objects.create(status="partial")
    AuditRun.objects.filter(pk=run.pk).update(started=at)
    return ProbeRun.objects.create(audit_run=run, connector=connector, kind=connector.kind, scope=connector.name,
                                   status=status, started=at, finished=at + timedelta(minutes=1), error=error)


@pytest.fixture
def fleet(db, make_credential):
    """payments: 2 critical + 5 high open, 1 opened and 1 resolved this week, a score mover, an
    overdue credential. platform: its own findings, which must never reach payments."""
    payments = Team.objects.create(name="payments", slug="payments", email="payments@example.com")
    platform = Team.objects.create(name="platform", slug="platform", email="platform@example.com")
    pay1 = Bot.objects.create(name="pay-refunds", slug="pay-refunds", team=payments, owner_email="Alice@example.com")
    pay2 = Bot.objects.create(name="pay-ledger", slug="pay-ledger", team=payments, owner_email="bob@example.com")
    Bot.objects.create(name="pay-old", slug="pay-old", team=payments, owner_email="gone@example.com",
                       status="retired")
    plat = Bot.objects.create(name="plat-deployer", slug="plat-deployer", team=platform,
                              owner_email="carol@example.com")
    for i in range(2):
        make_finding(bot=pay1, severity="critical", title=f"Critical thing {i}")
    for i in range(4):
        make_finding(bot=pay2, severity="high", title=f"High thing {i}")
    make_finding(bot=pay2, severity="high", title="Opened this week", first_seen=IN_WEEK)
    make_finding(bot=pay1, severity="medium", title="Medium thing")
    make_finding(bot=pay1, severity="high", title="Fixed this week", status="resolved",
                 resolved_at=IN_WEEK)
    make_finding(bot=pay1, severity="critical", title="Accepted risk", status="acknowledged")
    make_finding(bot=plat, check_id="git.secret.leaked", severity="critical", title="Platform only problem",
                 first_seen=IN_WEEK, category="leak", evidence={"redacted": "ghp_…(40)"})
    make_finding(bot=None, check_id="aws.inventory.unowned", severity="medium", title="Secret owned by no bot",
                 subject="aws:123456789012:us-east-1:secret:orphan", category="inventory_gap")
    make_score(pay1, 20, BEFORE_WEEK)
    make_score(pay1, 80, IN_WEEK)
    make_score(plat, 40, IN_WEEK)
    make_credential(pay2, "ledger-db", rotation_days=30, created_at=NOW - timedelta(days=400))
    make_credential(pay1, "fresh", rotation_days=30, last_rotated_at=NOW - timedelta(days=1))
    make_credential(plat, "deploy-key", rotation_days=30, created_at=NOW - timedelta(days=400))
    connector = Connector.objects.create(name="demo-vault", kind="vault")
    make_probe_run(connector=connector, status="failed", at=IN_WEEK, error="vault at http://127.0.0.1:8210 refused")
    make_probe_run(connector=connector, status="failed", at=BEFORE_WEEK, error="an older failure")
    return {"payments": payments, "platform": platform, "pay1": pay1, "pay2": pay2, "plat": plat,
            "connector": connector}
