"""The pre-commit hook and CI modes: `.pre-commit-hooks.yaml` run exactly as declared (its entry, the
`botaudit-scan` console script that pip generates from pyproject.toml) in a real repository with
staged changes, with no database and none of the project's settings; `scan_repo --staged`; and
`--since REV` as the commits of HEAD (or --branches) that REV lacks, not every other ref's.
pre-commit itself is not a dependency: the entry is run as pre-commit runs it (repository root as the
working directory, no file names, `args` appended)."""

import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from tests.scanners.git.gitrepo import Repo, aws_key_id, github_pat
from tests.scanners.git.gitrepo import scan_repo_run as run

ROOT = Path(__file__).resolve().parents[3]


def _hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["botaudit-secrets"]
    return hooks[0]


@pytest.mark.fast
def test_hook_is_declared_in_pre_commit_format():
    hook = _hook()
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert set(hook["stages"]) == {"pre-commit", "pre-push"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert shlex.split(hook["entry"])[0] in scripts  # `pip install` of the repo provides the entry


@pytest.fixture
def hook_bin(tmp_path):
    """The console script as pip writes it for [project.scripts] (pyproject.toml), in a bin folder."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in scripts.items():
        module, func = target.split(":")
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
        script.chmod(0o755)
    return bin_dir


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                               "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}).stdout


@pytest.fixture
def worktree(tmp_path):
    path = tmp_path / "project"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text("def main():\n    return 1\n")
    git(path, "add", "app.py")
    git(path, "commit", "-q", "-m", "init")
    return path


def run_hook(repo_path, hook_bin, *args, extra_env=None):
    """The hook's entry + args, as pre-commit runs it: in the repository's root, no file names. The
    environment has no database URL, secret key or settings module: the hook must need none."""
    env = {"PATH": f"{hook_bin}:/usr/bin:/bin", "HOME": str(repo_path.parent), "PYTHONPATH": str(ROOT),
           "BOTAUDIT_GIT_SCAN_TIME_LIMIT": "60", **(extra_env or {})}
    cmd = [*shlex.split(_hook()["entry"]), *args]
    result = subprocess.run(cmd, cwd=repo_path, env=env, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def test_staged_secret_blocks_the_commit_with_the_redacted_preview_only(worktree, hook_bin):
    canary = github_pat()
    (worktree / "app.py").write_text(f"def main():\n    return 1\nTOKEN = '{canary}'\n")
    git(worktree, "add", "app.py")
    code, out, err = run_hook(worktree, hook_bin)
    assert code == 1, (out, err)
    assert "github-pat" in out and "app.py:3" in out and "ghp_\u2026(40)" in out
    assert canary not in out + err
    code, out, err = run_hook(worktree, hook_bin, "--format", "json")
    findings = json.loads(out)["findings"]
    assert [(f["rule_id"], f["file"], f["line"], f["commit"]) for f in findings] == [("github-pat", "app.py", 3, "")]
    assert canary not in out + err
    code, out, err = run_hook(worktree, hook_bin, "--format", "sarif")
    assert code == 1 and canary not in out + err


def test_clean_staged_change_passes_and_unstaged_secrets_are_not_scanned(worktree, hook_bin):
    (worktree / "app.py").write_text("def main():\n    return 2\n")
    (worktree / "new.py").write_text("X = 1\n")
    git(worktree, "add", "app.py", "new.py")
    (worktree / "notes.txt").write_text(f"T = '{github_pat()}'\n")  # not staged: not part of the commit
    code, out, err = run_hook(worktree, hook_bin)
    assert code == 0, (out, err)
    assert "0 finding(s)" in out


def test_only_added_lines_of_a_modified_file(worktree, hook_bin):
    """A secret committed before the hook was installed is not re-reported by every later commit
    that touches the file; the new line's secret is, at its line in the staged file."""
    old = aws_key_id()
    (worktree / "conf.py").write_text(f"KEY = '{old}'\n")
    git(worktree, "add", "conf.py")
    git(worktree, "commit", "-q", "-m", "old leak")
    (worktree / "conf.py").write_text(f"KEY = '{old}'\nDEBUG = True\n")
    git(worktree, "add", "conf.py")
    assert run_hook(worktree, hook_bin)[0] == 0
    new = github_pat()
    (worktree / "conf.py").write_text(f"KEY = '{old}'\nDEBUG = True\nTOKEN = '{new}'\n")
    git(worktree, "add", "conf.py")
    code, out, _err = run_hook(worktree, hook_bin, "--format", "json")
    assert code == 1
    assert [(f["rule_id"], f["line"]) for f in json.loads(out)["findings"]] == [("github-pat", 3)]


def test_deleting_a_leaky_file_passes(worktree, hook_bin):
    (worktree / "leak.py").write_text(f"T = '{github_pat()}'\n")
    git(worktree, "add", "leak.py")
    git(worktree, "commit", "-q", "-m", "leak")
    git(worktree, "rm", "-q", "leak.py")
    assert run_hook(worktree, hook_bin)[0] == 0


def test_inline_allow_rules_allowlist_and_baseline_as_a_normal_scan(worktree, hook_bin):
    (worktree / "a.py").write_text(f"T = '{github_pat()}'  # gitleaks:allow\n")
    git(worktree, "add", "a.py")
    assert run_hook(worktree, hook_bin)[0] == 0
    (worktree / "fixtures").mkdir()
    (worktree / "fixtures" / "k.py").write_text(f"K = '{aws_key_id()}'\n")
    git(worktree, "add", "fixtures/k.py")
    assert run_hook(worktree, hook_bin)[0] == 1
    rules = worktree / ".gitleaks.toml"
    rules.write_text('[extend]\nuseDefault = true\n\n[allowlist]\npaths = [\'\'\'^fixtures/\'\'\']\n')
    assert run_hook(worktree, hook_bin, "--rules", ".gitleaks.toml")[0] == 0
    code, report, _err = run_hook(worktree, hook_bin, "--format", "json")
    assert code == 1
    (worktree / ".botaudit-baseline.json").write_text(report)
    assert run_hook(worktree, hook_bin, "--baseline", ".botaudit-baseline.json")[0] == 0


def test_first_commit_of_a_new_repository(tmp_path, hook_bin):
    path = tmp_path / "fresh"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "k.env").write_text(f"AWS={aws_key_id()}\n")
    git(path, "add", "k.env")
    assert run_hook(path, hook_bin)[0] == 1


def test_pre_push_stage_scans_the_pushed_commits(worktree, hook_bin):
    remote_tip = git(worktree, "rev-parse", "HEAD").strip()
    (worktree / "a.py").write_text(f"T = '{github_pat()}'\n")
    git(worktree, "add", "a.py")
    git(worktree, "commit", "-q", "-m", "leak")
    pushed = git(worktree, "rev-parse", "HEAD").strip()
    push = {"PRE_COMMIT_FROM_REF": remote_tip, "PRE_COMMIT_TO_REF": pushed}
    code, out, _err = run_hook(worktree, hook_bin, "--format", "json", extra_env=push)
    data = json.loads(out)
    assert code == 1 and data["stats"]["commits"] == 1 and data["findings"][0]["commit"] == pushed
    clean = {"PRE_COMMIT_FROM_REF": pushed, "PRE_COMMIT_TO_REF": pushed}
    assert run_hook(worktree, hook_bin, extra_env=clean)[0] == 0
    deletion = {"PRE_COMMIT_FROM_REF": pushed, "PRE_COMMIT_TO_REF": "0" * 40}
    assert run_hook(worktree, hook_bin, extra_env=deletion)[0] == 0
    new_branch = {"PRE_COMMIT_FROM_REF": "0" * 40, "PRE_COMMIT_TO_REF": pushed}
    code, out, _err = run_hook(worktree, hook_bin, "--format", "json", extra_env=new_branch)
    assert code == 1 and json.loads(out)["stats"]["commits"] == 2  # the whole history of what is pushed


def test_errors_exit_2_not_1(worktree, hook_bin):
    code, _out, err = run_hook(worktree, hook_bin, "--rules", "missing.toml")
    assert code == 2 and "missing.toml" in err


def test_manage_py_staged_no_queries_and_fast(worktree, django_assert_max_num_queries, db, settings):
    settings.BOTAUDIT_GIT_SCAN_TIME_LIMIT = 60
    canary = github_pat()
    (worktree / "app.py").write_text(f"def main():\n    return 1\nTOKEN = '{canary}'\n")
    git(worktree, "add", "app.py")
    with django_assert_max_num_queries(0):
        out, code = run(str(worktree), "--staged", "--format", "json")
    data = json.loads(out)
    assert code == 1 and [f["line"] for f in data["findings"]] == [3] and canary not in out
    assert data["stats"]["seconds"] < 0.5  # scan time of a normal commit
    with pytest.raises(CommandError, match="--staged takes no"):
        call_command("scan_repo", str(worktree), "--staged", "--since", "HEAD")


def test_staged_refuses_a_bare_repository(tmp_path):
    Repo(tmp_path / "x").commit({"a.py": "x = 1\n"})
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(tmp_path / "x"), str(bare))
    with pytest.raises(CommandError, match="bare repository has no staged changes"):
        call_command("scan_repo", str(bare), "--staged")


@pytest.fixture
def many_refs(tmp_path):
    """main: 3 commits; 6 more commits only on other refs (a feature branch, PR refs, a tag)."""
    repo = Repo(tmp_path / "refs")
    repo.commit({"a.py": "a = 1\n"})
    base = repo.commit({"b.py": "b = 1\n"})
    repo.commit({"c.py": f"T = '{github_pat()}'\n"})
    for i in range(3):
        repo.commit({f"f{i}.py": f"f = {i}\n"}, ref="refs/heads/feature", parents=[base] if i == 0 else None)
    for n in range(2):
        repo.commit({f"pr{n}.py": f"K = '{aws_key_id()}'\n"}, ref=f"refs/pull/{n}/head", parents=[base])
    repo.repo.references.create("refs/tags/v1", repo.commit({"t.py": "t = 1\n"}, ref="refs/heads/tmp"))
    repo.repo.references.delete("refs/heads/tmp")
    return repo


def test_since_counts_only_head_commits_rev_lacks(many_refs):
    path = str(many_refs.path)
    data = json.loads(run(path, "--since", "main~1", "--format", "json")[0])
    assert data["stats"]["commits"] == 1
    assert [f["file"] for f in data["findings"]] == ["c.py"]
    assert json.loads(run(path, "--since", "main", "--format", "json")[0])["stats"]["commits"] == 0
    everything = json.loads(run(path, "--since", "main~1", "--branches", "*", "--format", "json")[0])
    assert everything["stats"]["commits"] == 1 + 3 + 2 + 1  # explicit globs: every ref, as asked
    feature = json.loads(run(path, "--since", "main", "--branches", "feature", "--format", "json")[0])
    assert feature["stats"]["commits"] == 3
    assert json.loads(run(path, "--format", "json")[0])["stats"]["commits"] == 3 + 3 + 2 + 1  # no --since: all refs


def test_git_commit_is_refused_by_the_installed_hook(worktree, hook_bin):
    """The entry installed as the repository's pre-commit hook (as `pre-commit install` wires it):
    `git commit` of a staged secret fails and makes no commit; a clean one goes through."""
    hook = worktree / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec {_hook()['entry']}\n")
    hook.chmod(0o755)
    env = {"PATH": f"{hook_bin}:/usr/bin:/bin", "HOME": str(worktree.parent), "PYTHONPATH": str(ROOT),
           "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    before = git(worktree, "rev-parse", "HEAD")
    canary = github_pat()
    (worktree / "deploy.sh").write_text(f"export GITHUB_TOKEN={canary}\n")
    git(worktree, "add", "deploy.sh")
    refused = subprocess.run(["git", "commit", "-m", "deploy"], cwd=worktree, env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode != 0 and git(worktree, "rev-parse", "HEAD") == before
    assert "github-pat" in refused.stdout + refused.stderr and canary not in refused.stdout + refused.stderr
    (worktree / "deploy.sh").write_text("export GITHUB_TOKEN=\"$(cat /run/secrets/token)\"\n")
    git(worktree, "add", "deploy.sh")
    done = subprocess.run(["git", "commit", "-q", "-m", "deploy"], cwd=worktree, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(worktree, "rev-parse", "HEAD") != before


def test_console_script_ignores_project_settings_and_loads_no_database(worktree):
    """Whatever the shell says (the project's settings, an unreachable database, no secret key), the
    console script runs on its own settings: no app, no model and no database backend is imported."""
    (worktree / "k.env").write_text(f"AWS={aws_key_id()}\n")
    git(worktree, "add", "k.env")
    code = ("import sys; from scanners.git.cli import main; rc = main(['--staged']); "
            "print('LOADED', sorted(m for m in sys.modules if m.startswith(('inventory.models', 'scanners.models', "
            "'dashboard', 'api', 'celery', 'django.db.backends.postgresql', 'psycopg')))); sys.exit(rc)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(worktree.parent), "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": "botaudit.settings", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    result = subprocess.run([sys.executable, "-c", code], cwd=worktree, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stderr
    assert "LOADED []" in result.stdout and "aws-access-token" in result.stdout
