"""Every page runs a constant number of SQL queries whatever the page size and fleet size."""

import pytest

from devtools.bench import bench_seed
from inventory.accounts import user_grant
from inventory.models import Bot
from scanners.models import Finding

PAGES = {  # url: maximum queries (session, user, role checks, filters, count, page)
    "/": 13,
    "/bots/?per_page={n}": 8,
    "/bots/?per_page={n}&sort=-risk_score&leaks=yes": 8,
    "/bots/{slug}/": 9,
    "/findings/?per_page={n}": 9,
    "/findings/?per_page={n}&status=open&severity=high": 9,
    "/runs/": 7,
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
