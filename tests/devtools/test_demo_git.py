"""The demo seeder creates a repository for every inventory repository under demo/, and the git
probe finds the planted leaks: removed (history), at the tip, and on a side branch."""

from devtools.demo_git import git_demo_seed
from inventory.models import Connector, Repository
from scanners.models import Finding
from scanners.services.audit import audit_run_in_process


def test_demo_repositories_have_planted_leaks(db, settings, tmp_path, make_bot):
    settings.BASE_DIR = tmp_path
    one = Repository.objects.create(name="invoice-bot", url="demo/repos/invoice-bot", branches=["*"])
    two = Repository.objects.create(name="deploy-bot", url="demo/repos/deploy-bot", branches=["main"])
    Repository.objects.create(name="elsewhere", url="https://example.com/x.git")
    make_bot("invoice-bot").repositories.add(one)
    make_bot("deploy-bot").repositories.add(two)
    Connector.objects.create(name="demo-git", kind="git", options={"repositories": ["invoice-bot", "deploy-bot"]})
    line = git_demo_seed()
    assert line.startswith("git: created 2 demo repositories") and (tmp_path / "demo/repos/invoice-bot/.git").is_dir()
    assert git_demo_seed() == "git: the 2 demo repositories already exist under demo/"
    run = audit_run_in_process(connector_names=["demo-git"])
    assert set(run.probe_runs.filter(kind="git").values_list("status", flat=True)) == {"ok"}  # one unit per repo
    leaks = Finding.objects.filter(check_id="git.secret.leaked")
    by_repo = {}
    for f in leaks:
        for loc in f.evidence["locations"]:
            by_repo.setdefault(loc["repository"], set()).add((loc["file"], f.severity))
    assert by_repo["invoice-bot"] == {("app/settings.py", "high"), (".ci/deploy.env", "critical"),
                                      ("debug.cfg", "high")}
    assert by_repo["deploy-bot"] == {("app/settings.py", "high"), (".ci/deploy.env", "critical")}  # main only
