"""Every page runs a constant number of SQL queries whatever the page size and fleet size."""

import pytest

from devtools.bench import bench_seed
from inventory.accounts import user_grant
from inventory.models import Bot
from scanners.models import Finding

PAGES = {  # url: maximum queries, cold cache (session, user, role checks, viewer scope, filters, count, page)
    "/": 17,  # 15 + overdue findings per team (its role check and one query)
    "/bots/?per_page={n}": 10,
    "/bots/?per_page={n}&sort=-risk_score&leaks=yes": 10,
    "/bots/{slug}/": 9,
    "/findings/?per_page={n}": 11,
    "/findings/?per_page={n}&status=open&severity=high": 11,
    "/runs/": 9,
}


@pytest.fixture
def fleet(db):
    def seed(bots):
        bench_seed(bots=bots, credentials_per_bot=3, findings_per_bot=6, teams=2, runs=2)
        user, _ = user_grant(email="aud@example.com", role="auditor")
        viewer, _ = user_grant(email="view@example.com", role="viewer", team_name="team-00")
        return user, viewer

    return seed


@pytest.mark.parametrize("url", list(PAGES))
def test_constant_queries(client, fleet, url, django_assert_max_num_queries):
    auditor, viewer = fleet(120)
    slug = Bot.objects.order_by("name").first().slug
    for user in (auditor, viewer):
        client.force_login(user)
        for n in (25, 250):
            with django_assert_max_num_queries(PAGES[url]):
                response = client.get(url.format(n=n, slug=slug))
            assert response.status_code == 200
    assert Finding.objects.count() == 720


def test_export_queries_grow_with_chunks_not_rows(client, fleet, django_assert_max_num_queries):
    auditor, _ = fleet(50)
    client.force_login(auditor)
    with django_assert_max_num_queries(12):  # session, user, role check, audit log, ids, one chunk
        response = client.get("/export/audit.csv")
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == 1 + 150


@pytest.mark.parametrize("url", ["/", "/bots/?per_page=250", "/findings/?per_page=250&status=open"])
def test_a_warm_page_skips_the_costly_queries(client, fleet, url):
    """Within one data generation the count, the rows and the overview's aggregates come from the
    page cache: a second view reads no finding and no score, and counts nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    auditor, _ = fleet(60)
    client.force_login(auditor)
    cold = client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        warm = client.get(url)
    assert warm.status_code == cold.status_code == 200
    costly = [q["sql"] for q in ctx.captured_queries
              if "COUNT(" in q["sql"] or '"scanners_finding"' in q["sql"] or '"scanners_botscore"' in q["sql"]]
    assert costly == []
    strip = [b"csrfmiddlewaretoken", b"csrftoken"]
    assert [line for line in warm.content.splitlines() if not any(s in line for s in strip)] == [
        line for line in cold.content.splitlines() if not any(s in line for s in strip)]
