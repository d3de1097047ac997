"""Manifest vs account: refs that don't exist, resources that no bot owns."""

from __future__ import annotations

from inventory.models import Bot, Credential

from ..models import Category, Severity
from ..registry import Hit, check
from ..subjects import bot_key
from .attribution import IDENTITY_KINDS, principal_key, ref_in_account, secret_for_ref, secret_index


def _region_of(ref: str) -> str | None:
    parts = ref.split(":")
    return parts[3] if ref.startswith("arn:") and len(parts) > 3 else None


@check(id="aws.inventory.missing", severity=Severity.MEDIUM, category=Category.INVENTORY_GAP,
       title="Manifest names an AWS resource that does not exist",
       remediation="Fix the ref in the fleet manifest, or remove it if the resource was deleted on purpose.",
       owasp="NHI1")
def inventory_missing(obs, ctx):
    fleet = ctx.fleet
    active = {pk for pk, b in fleet.bots.items() if b.status == Bot.Status.ACTIVE}
    if obs.iam_complete:
        names = {(obs.account_id, p.kind, p.name) for p in obs.principals}
        arns = {p.arn for p in obs.principals}
        for ident in fleet.identities:
            kind = IDENTITY_KINDS.get(ident.kind)
            if not kind or ident.bot_id not in active or not ref_in_account(ident.ref, obs.account_id):
                continue
            if not obs.bare_refs and principal_key(ident.ref) is None:
                continue
            if ident.ref.strip() in arns or principal_key(ident.ref) in names:
                continue
            bot = fleet.bots[ident.bot_id]
            yield Hit(subject=f"missing:{ident.kind}:{ident.ref}@{bot_key(bot.pk)}", bot_id=bot.pk,
                      evidence={"bot": bot.name, "kind": ident.kind, "ref": ident.ref, "account": obs.account_id})
    index = secret_index(obs.secrets)
    for cred in fleet.credentials_in(Credential.Store.AWS_SECRETSMANAGER):
        if cred.bot_id not in active or not cred.ref or not ref_in_account(cred.ref, obs.account_id):
            continue
        region = _region_of(cred.ref)
        if region is None and not obs.bare_refs:
            continue
        listed = region in obs.secret_regions_complete if region else obs.secret_regions_complete == set(obs.regions)
        if not listed or secret_for_ref(cred.ref, index) is not None:
            continue
        bot = fleet.bots[cred.bot_id]
        yield Hit(subject=f"missing:{cred.store}:{cred.ref}@{bot_key(bot.pk)}", bot_id=bot.pk,
                  evidence={"bot": bot.name, "credential": cred.name, "ref": cred.ref, "account": obs.account_id})


@check(id="aws.inventory.unowned", severity=Severity.INFO, category=Category.INVENTORY_GAP,
       title="AWS identity or secret owned by no bot",
       remediation="Add it to a bot in the fleet manifest, tag it with the bot's name, or delete it.",
       owasp="NHI1")
def inventory_unowned(obs, ctx):
    for p in obs.principals:
        if p.bot_id is None and not p.service_managed:
            yield Hit(subject=p.arn, evidence={"kind": f"iam_{p.kind}", "arn": p.arn, "account": obs.account_id,
                                                     "tags": p.tags})
    for s in obs.secrets:
        if s.bot_id is None:
            yield Hit(subject=s.arn, evidence={"kind": "secret", "arn": s.arn, "account": obs.account_id,
                                                     "tags": s.tags})


CHECKS = [inventory_missing, inventory_unowned]
