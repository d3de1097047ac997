"""The Leaks pages run a constant number of SQL queries whatever the number of leaks and the page
size. Findings are made the way the probe makes them: the git check over SecretLeak observations,
upserted with findings_upsert."""

import hashlib

import pytest

from inventory.accounts import user_grant
from inventory.models import Bot, Repository, Team
from scanners.context import Fleet
from scanners.git.checks import secret_leaked
from scanners.git.leaks import LeakLocation, SecretLeak
from scanners.models import Finding
from scanners.services.findings import Draft, findings_upsert


def table_html(response) -> str:
    html = response.content.decode()
    return html[html.index("<table"):html.index("</table>")]


def fingerprint(s: int) -> str:
    return hashlib.sha256(str(s).encode()).hexdigest()


def seed(n_secrets: int):
    teams = [Team.objects.create(name=f"team-{i}", slug=f"team-{i}") for i in range(2)]
    repos = [Repository.objects.create(name=f"repo-{i}", url=f"/r/{i}") for i in range(4)]
    bots = []
    for i, repo in enumerate(repos):
        bot = Bot.objects.create(name=f"bot-{i}", slug=f"bot-{i}", team=teams[i % 2])
        bot.repositories.add(repo)
        bots.append(bot)
    observations = []
    for s in range(n_secrets):
        locs = tuple(LeakLocation(
            repository_id=repos[(s + k) % 4].pk, repository=repos[(s + k) % 4].name, rule_id="github-pat",
            file=f"f{k}.py", line=k + 1, commit=f"{s:040x}", commit_date=f"2026-01-{1 + s % 28:02d}",
            first_seen="2026-02-01", still_at_head=bool(s % 2), confidence=("high", "low")[s % 3 == 0],
            reasons=(), redacted="ghp_\u2026(40)") for k in range(1 + s % 3))
        observations.append(SecretLeak(secret_fingerprint=fingerprint(s), locations=locs))
    ctx = type("Ctx", (), {"fleet": Fleet.load()})()
    findings_upsert(drafts=[Draft(check=secret_leaked, hit=h) for h in secret_leaked(observations, ctx)],
                    scope="connector:1")
    auditor, _ = user_grant(email="aud@example.com", role="auditor")
    viewer, _ = user_grant(email="view@example.com", role="viewer", team_name="team-0")
    return auditor, viewer


@pytest.mark.parametrize("url", ["/leaks/?per_page={n}", "/leaks/?per_page={n}&active=yes&team=team-0&q=repo",
                                 "/leaks/?per_page={n}&repository=repo-0&confidence=high&sort=-locations"])
@pytest.mark.parametrize("n_secrets", [30, 300])
def test_leak_list_constant_queries(db, client, django_assert_max_num_queries, url, n_secrets):
    auditor, viewer = seed(n_secrets)
    for user in (auditor, viewer):
        client.force_login(user)
        for n in (25, 250):
            # cold: session, user, role checks, viewer scope, a filter value, count, 2 choice lists, rows, bots
            with django_assert_max_num_queries(13):
                response = client.get(url.format(n=n))
            assert response.status_code == 200
            assert response.context["table"].paginator.count > 0
            with django_assert_max_num_queries(13) as warm:  # the page cache: no finding is read again
                again = client.get(url.format(n=n))
            assert table_html(again) == table_html(response) and table_html(response).count("<tr") > 1
            assert not [q for q in warm.captured_queries if "scanners_finding" in q["sql"]]
    assert Finding.objects.values("evidence__secret_fingerprint").distinct().count() == n_secrets


def test_leak_detail_constant_queries(db, client, django_assert_max_num_queries):
    auditor, _ = seed(30)
    client.force_login(auditor)
    with django_assert_max_num_queries(6):
        response = client.get(f"/leaks/{fingerprint(2)}/")
    assert response.status_code == 200 and b"3 locations" in response.content


def test_repository_filter_matches_whole_ids(db):
    """Repository 1 is not 12 or 21 in the evidence's id list (matched on its JSON text)."""
    from dashboard.filters_leaks import LeakFilter
    from dashboard.leaks import leak_findings_visible

    repos = {pk: Repository.objects.create(pk=pk, name=f"r{pk}", url=f"/r/{pk}") for pk in (1, 12, 21)}
    leaks = []
    for i, ids in enumerate(([12], [21], [1, 12], [21, 1])):
        locs = tuple(LeakLocation(repository_id=pk, repository=repos[pk].name, rule_id="github-pat", file="a.py",
                                  line=1, commit="c" * 40, commit_date="2026-01-01", first_seen="2026-01-02",
                                  still_at_head=False, confidence="high", reasons=(), redacted="ghp_\u2026(40)")
                     for pk in ids)
        leaks.append(SecretLeak(secret_fingerprint=fingerprint(i), locations=locs))
    ctx = type("Ctx", (), {"fleet": Fleet.load()})()
    findings_upsert(drafts=[Draft(check=secret_leaked, hit=h) for h in secret_leaked(leaks, ctx)], scope="x")
    auditor, _ = user_grant(email="aud@example.com", role="auditor")
    for pk, expected in ((1, {2, 3}), (12, {0, 2}), (21, {1, 3})):
        got = LeakFilter({"repository": f"r{pk}"}, queryset=leak_findings_visible(user=auditor), user=auditor).qs
        assert {f.sfp for f in got} == {fingerprint(i) for i in expected}
