"""Bad input gives a clear error, never a traceback: out-of-range ISO weeks, unwritable output
paths (and the export is not logged as done), oversized integers in GET and POST parameters."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory.models import AuditLogEntry

BAD_WEEKS = ["9999-W52", "9999-W01", "0000-W01", "0001-W01", "2026-W54", "2026-W00", "1969-W01"]
HUGE = "9" * 30


@pytest.mark.parametrize("week", BAD_WEEKS)
def test_out_of_range_weeks_are_a_clean_cli_error(db, week):
    with pytest.raises(CommandError, match=f"--week: week '{week}'"):
        call_command("send_digest", "--week", week, "--dry-run", stdout=io.StringIO())


@pytest.mark.parametrize("week", BAD_WEEKS)
def test_out_of_range_weeks_are_a_400_page(client, world, week):
    client.force_login(world["users"]["auditor"])
    for url in ("/digest/", f"/digest/{world['bot_a'].team.slug}/"):
        response = client.get(url, {"week": week})
        assert response.status_code == 400 and week in response.content.decode()


@pytest.mark.parametrize("week", ["1970-W02", "9998-W52"])
def test_the_edges_of_the_range_render(client, world, week):
    client.force_login(world["users"]["auditor"])
    assert client.get("/digest/", {"week": week}).status_code == 200


@pytest.mark.parametrize("args", [
    ["export_audit", "-o", "/missing/dir/x.csv"],
    ["export_audit", "--format", "xlsx", "-o", "/missing/dir/x.xlsx"],
    ["export_audit", "-o", "/"],
    ["fleet", "export", "/missing/dir/x.yaml"],
    ["fleet", "export", "/"],
])
def test_unwritable_output_is_a_clean_error_and_not_logged(db, args):
    with pytest.raises(CommandError, match=r"cannot write"):
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not AuditLogEntry.objects.filter(action__startswith="export.").exists()


def test_a_written_export_is_logged(db, tmp_path):
    call_command("export_audit", "-o", str(tmp_path / "x.csv"))
    assert (tmp_path / "x.csv").read_text().startswith("team,bot,")
    assert AuditLogEntry.objects.filter(action="export.audit.csv").count() == 1


@pytest.mark.parametrize("url", [
    f"/bots/?page={HUGE}", f"/bots/?per_page={HUGE}", f"/findings/?page={HUGE}", f"/runs/?page={HUGE}",
    f"/findings/{HUGE}/", f"/findings/?team={HUGE}", f"/bots/?team={HUGE}", f"/findings/?page=-{HUGE}",
    "/bots/?page=1e400", f"/export/findings.csv?team={HUGE}", f"/digest/?week={HUGE}",
    f"/bots/?page={'9' * 5000}",
])
def test_oversized_integers_in_get_are_never_a_500(client, world, url):
    client.force_login(world["users"]["auditor"])
    assert client.get(url).status_code in (200, 400, 404), url


@pytest.mark.parametrize("pks", [[HUGE], [f"-{HUGE}"], ["1", HUGE], [str(2**63)], [str(2**31)]])
def test_oversized_ids_in_a_triage_post_are_never_a_500(client, world, pks):
    client.force_login(world["users"]["auditor"])
    response = client.post("/findings/triage/", {"action": "acknowledge", "reason": "x", "pk": pks}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing changed. pk: not a finding id" in page or "0 finding(s)" in page  # 2**31 fits a bigint
    assert not world["f_leak"].__class__.objects.filter(status="acknowledged").exists()
