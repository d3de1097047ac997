"""A canary secret planted in every source the digest reads never reaches a message, the preview
page or the dry-run output; its redacted preview does (proof the finding was rendered)."""

from io import StringIO

from django.contrib.auth.models import Group, User
from django.core.management import call_command

from inventory.models import AuditLogEntry, Bot, Credential, Identity, Repository
from scanners.digest.services import digest_send
from scanners.models import BotScore, Finding, ProbeRun
from scanners.redaction import redact

from .conftest import IN_WEEK, NOW, WEEK, make_finding

CANARY = "AKIACANARYzq7Xw2Lp9Vb4Nn8Rt6Ys3Ud1Fe5Gh0"
PREVIEW = redact(CANARY)


def _plant(fleet):
    bot = fleet["pay1"]
    Bot.objects.filter(pk=bot.pk).update(description=f"uses {CANARY}")
    Credential.objects.filter(bot=fleet["pay2"]).update(ref=f"env:{CANARY}", service=CANARY)
    Identity.objects.create(bot=bot, kind="aws_iam_user", ref=CANARY)
    repo = Repository.objects.create(name="leaky", url=f"https://x:{CANARY}@git.example.com/leaky.git")
    bot.repositories.add(repo)
    fleet["connector"].options = {"token": CANARY}
    fleet["connector"].save()
    make_finding(bot=bot, check_id="git.secret.leaked", severity="critical", category="leak",
                 title="AWS key committed to git", first_seen=IN_WEEK,
                 evidence={"redacted": PREVIEW, "secret": CANARY, "match": f"key = {CANARY}", "line": CANARY},
                 remediation=f"rotate {CANARY}", status_reason=CANARY)
    make_finding(bot=None, check_id="aws.inventory.unowned", severity="high", category="inventory_gap",
                 title="Unowned secret", subject="aws:123456789012:us-east-1:secret:canary-home",
                 evidence={"value": CANARY, "redacted": PREVIEW})
    Finding.objects.filter(bot=bot).exclude(check_id="git.secret.leaked").update(evidence={"raw": CANARY})
    BotScore.objects.filter(bot=bot).update(breakdown={"items": [{"subject": CANARY}]})
    ProbeRun.objects.update(facts={"key": CANARY}, counts={"k": CANARY})
    AuditLogEntry.objects.create(action="export", target=CANARY, detail={"v": CANARY})


def _assert_clean(text: str, where: str):
    assert CANARY not in text, f"canary leaked in {where}"
    assert CANARY[4:16] not in text, f"part of the canary leaked in {where}"


def test_canary_never_leaks_from_any_output(smtp, fleet, client):
    _plant(fleet)
    assert digest_send(group="team:payments", week=WEEK, now=NOW) == "sent"
    assert digest_send(group="security", week=WEEK, now=NOW) == "sent"
    assert len(smtp.messages) == 2
    for msg in smtp.messages:
        _assert_clean(msg.everything(), f"email {msg.subject!r}")
        assert PREVIEW in msg.part("text/plain") and PREVIEW in msg.part("text/html")

    auditor = User.objects.create_user("auditor", password="pw")
    auditor.groups.add(Group.objects.create(name="auditor"))
    client.force_login(auditor)
    for url in (f"/digest/payments/?week={WEEK}", f"/digest/?week={WEEK}"):
        page = client.get(url)
        assert page.status_code == 200
        _assert_clean(page.content.decode(), url)
        assert PREVIEW in page.content.decode()

    out = StringIO()
    call_command("send_digest", "--week", WEEK, "--dry-run", stdout=out)
    _assert_clean(out.getvalue(), "send_digest --dry-run")
    assert PREVIEW in out.getvalue()
