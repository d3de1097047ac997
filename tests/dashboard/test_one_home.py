"""Rules with one home: the SARIF schema URL (scanners/git/report.py) and the leak rank names
(dashboard/leaks.py), used by the Leaks page, the API and the fleet SARIF export alike."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.fast
def test_sarif_schema_url_is_defined_once():
    from dashboard import interchange
    from scanners.git import report

    homes = [p.relative_to(ROOT).as_posix() for pkg in ("scanners", "dashboard", "api")
             for p in (ROOT / pkg).rglob("*.py") if "sarif-schema-2.1.0.json" in p.read_text(encoding="utf-8")]
    assert homes == ["scanners/git/report.py"]
    assert interchange.SARIF_SCHEMA is report.SARIF_SCHEMA


@pytest.mark.fast
def test_rank_names_shared_by_page_and_api():
    from api import views
    from dashboard import leaks, tables_leaks
    from scanners.git.leaks import CONFIDENCE_ORDER
    from scanners.models import SEVERITY_ORDER

    assert [leaks.severity_name(i) for i in range(len(SEVERITY_ORDER))] == list(SEVERITY_ORDER)
    assert [leaks.confidence_name(i) for i in range(len(CONFIDENCE_ORDER))] == list(CONFIDENCE_ORDER)
    assert leaks.severity_name(len(SEVERITY_ORDER)) == "?" and leaks.confidence_name(-1) == "?"
    assert views.severity_name is leaks.severity_name and views.confidence_name is leaks.confidence_name
    assert tables_leaks.severity_name is leaks.severity_name
    table = tables_leaks.LeakTable([])
    assert table.render_confidence_rank(0) == CONFIDENCE_ORDER[0]
    assert SEVERITY_ORDER[0] in table.render_severity_rank(0)
