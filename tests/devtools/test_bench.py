"""Bench data uses the real check catalogue: every id registered, its severity, category and OWASP item."""

from devtools.bench import bench_seed
from scanners import registry
from scanners.models import Finding


def test_bench_findings_come_from_the_catalogue(db):
    bench_seed(bots=12, credentials_per_bot=2, findings_per_bot=40, teams=2, runs=1)
    catalogue = {c.id: c for c in registry.all_checks()}
    rows = list(Finding.objects.values_list("check_id", "severity", "category", "owasp_nhi", "title", "remediation"))
    assert len(rows) == 12 * 40
    for check_id, severity, category, owasp, title, remediation in rows:
        chk = catalogue[check_id]  # KeyError = an invented id
        assert (severity, category, owasp, title, remediation) == (
            chk.severity, chk.category, chk.owasp, chk.title, chk.remediation)
    assert {r[0] for r in rows} == set(catalogue)  # the whole catalogue is exercised
