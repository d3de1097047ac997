from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import TeamNotFound, team_get
from scanners.digest.services import (
    DigestGroupError,
    digest_groups_list,
    digest_prepare,
    digest_send,
    failure_text,
    team_group,
)
from scanners.digest.weeks import week_parse, week_previous


class Command(BaseCommand):
    help = "Send the weekly digests (each team's, and the security summary) for one ISO week, once."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week like 2026-W48 (default: the last complete week)")
        parser.add_argument("--team", help="only this team's digest (name or slug)")
        parser.add_argument("--dry-run", action="store_true", help="print the emails; send and record nothing")

    def handle(self, *args, week=None, team=None, dry_run=False, **options):
        try:
            parsed = week_parse(week) if week else week_previous()
        except ValueError as exc:
            raise CommandError(f"--week: {exc}") from exc
        groups = [self._team_group(team)] if team else digest_groups_list()
        failed = []
        for group in groups:
            if dry_run:
                self._print(digest_prepare(group=group, week=parsed))
                continue
            try:
                outcome = digest_send(group=group, week=parsed.label)
            except DigestGroupError:
                raise
            except Exception as exc:  # recorded on the Digest row; the other groups still go out
                outcome = f"failed (recorded, will be retried by the next run): {failure_text(exc)}"
                failed.append(group)
            self.stdout.write(f"{group} {parsed.label}: {outcome}")
        if dry_run:
            self.stdout.write(f"dry run: nothing sent, nothing recorded ({len(groups)} digests for {parsed.label})")
        if failed:
            raise CommandError(f"sending failed for {', '.join(failed)}")

    def _team_group(self, name: str) -> str:
        try:
            return team_group(team_get(name_or_slug=name))
        except TeamNotFound as exc:
            raise CommandError(f"--team {name!r}: {exc}") from None

    def _print(self, plan):
        rendered = plan.rendered
        to = ", ".join(plan.recipients) or "(no recipients: would be skipped)"
        self.stdout.write(f"=== {plan.group} {plan.week.label}\nTo: {to}\nSubject: {rendered.subject}\n")
        self.stdout.write(rendered.text)
        self.stdout.write(f"(+ an HTML part of {len(rendered.html)} characters)\n")
