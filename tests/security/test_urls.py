"""Hostile repository locations: every scheme, userinfo, option injection, BOTAUDIT_GIT_ROOTS for
every way a local repository can be named. A credential in a URL is refused where it enters and
redacted on every path that stores or shows text."""

import io
import json
import os
from pathlib import Path

import pygit2
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from inventory.locations import LocationError, location_parse, text_redact
from inventory.manifest import ManifestError, manifest_parse
from inventory.models import Connector, Repository
from scanners.git.mirror import RepositoryError, repository_open
from scanners.models import ProbeRun
from scanners.services.audit import audit_run_in_process
from tests.scanners.git.gitrepo import Repo

CANARY = "hunter2canary"
WITH_USERINFO = [
    f"https://bot:{CANARY}@git.example.com/acme/repo.git",
    f"https://{CANARY}@git.example.com/acme/repo.git",
    f"http://x-access-token:{CANARY}@127.0.0.1:9/acme/repo.git",
    f"ssh://git:{CANARY}@git.example.com/acme/repo.git",
    f"git://bot:{CANARY}@git.example.com/acme/repo.git",
    f"file://bot:{CANARY}@localhost/srv/repo",
    f"git:{CANARY}@git.example.com:acme/repo.git",
    f"HTTPS://BOT:{CANARY}@GIT.EXAMPLE.COM/x",
]
REFUSED = [
    ("ext::sh -c touch% /tmp/pwned", "transport ext:: is refused"),
    ("fd::17", "transport fd:: is refused"),
    ("transport::whatever", "transport transport:: is refused"),
    ("ftp://example.com/repo.git", "scheme 'ftp' is not allowed"),
    ("javascript://x/y", "scheme 'javascript' is not allowed"),
    ("--upload-pack=touch /tmp/pwned", "must not start with '-'"),
    ("-oProxyCommand=sh", "must not start with '-'"),
    ("ssh://-oProxyCommand=touch%20x/repo", "host must not start with '-'"),
    ("-x@host:repo", "must not start with '-'"),
    ("git@-oProxyCommand=x:repo", "host must not start with '-'"),
    ("file://evil.example.com/srv/repo", "must name a local path"),
    ("https://[::1/x", "not a valid URL"),
    ("https://h:99999/x", "not a valid URL"),
    ("repo\n.git", "control characters"),
    ("repo\x00.git", "control characters"),
]


@pytest.mark.parametrize("url", WITH_USERINFO)
def test_userinfo_is_refused_and_the_error_never_holds_it(url):
    with pytest.raises(LocationError) as caught:
        location_parse(url)
    assert CANARY not in str(caught.value)
    assert "refused" in str(caught.value) or "credentials" in str(caught.value)


@pytest.mark.parametrize("url,message", REFUSED)
def test_hostile_locations_are_refused(url, message):
    with pytest.raises(LocationError, match=message):
        location_parse(url)


@pytest.mark.parametrize("url", ["https://github.com/acme/bot.git", "ssh://git@github.com/acme/bot.git",
                                 "git@github.com:acme/bot.git", "git://example.com/x", "demo/repos/x",
                                 "/srv/git/x", "file:///srv/git/x"])
def test_ordinary_locations_are_accepted(url):
    assert location_parse(url).text == url


def test_text_redact_removes_every_userinfo():
    text = f"fetch https://u:{CANARY}@h/x failed; http://{CANARY}@h; u:{CANARY}@h:x; git@github.com:a/b"
    redacted = text_redact(text)
    assert CANARY not in redacted
    assert "https://***@h/x" in redacted and "git@github.com:a/b" in redacted


@pytest.mark.parametrize("url", WITH_USERINFO)
def test_manifest_import_refuses_userinfo_with_file_line_field(url):
    text = f"repositories:\n  - name: r\n    url: {json.dumps(url)}\n"
    with pytest.raises(ManifestError) as caught:
        manifest_parse(text=text, source="fleet.yaml")
    message = str(caught.value)
    assert message.startswith("fleet.yaml:3: repositories[0].url: ")
    assert CANARY not in message


def test_manifest_import_refuses_option_injection():
    text = 'repositories:\n  - {name: r, url: "--upload-pack=touch /tmp/x"}\n'
    with pytest.raises(ManifestError, match=r"fleet.yaml:2: repositories\[0\].url: .*must not start with '-'"):
        manifest_parse(text=text, source="fleet.yaml")


def test_connector_urls_refuse_userinfo():
    text = f'connectors:\n  - {{name: v, kind: vault, url: "https://root:{CANARY}@vault:8200"}}\n'
    with pytest.raises(ManifestError) as caught:
        manifest_parse(text=text, source="fleet.yaml")
    assert "fleet.yaml:2: connectors[0].url: " in str(caught.value) and CANARY not in str(caught.value)


@pytest.mark.django_db
def test_repository_model_validation_refuses_userinfo():
    repository = Repository(name="r", url=WITH_USERINFO[0])
    with pytest.raises(ValidationError) as caught:
        repository.full_clean()
    assert "url" in caught.value.message_dict and CANARY not in str(caught.value)


def test_mirror_writes_no_credentials_into_the_cache(tmp_path, monkeypatch):
    source = Repo(tmp_path / "src")
    source.commit({"a.txt": "x\n"})
    monkeypatch.setenv("BOTAUDIT_GIT_TOKEN", CANARY)
    with pytest.raises(RepositoryError) as caught:
        repository_open(location=f"file://u:{CANARY}@localhost{source.path}", base_dir=tmp_path,
                        cache_dir=tmp_path / "cache")
    assert CANARY not in str(caught.value)
    repository_open(location=f"file://{source.path}", base_dir=tmp_path, cache_dir=tmp_path / "cache")
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_scan_repo_cli_errors_are_redacted():
    with pytest.raises(CommandError) as caught:
        call_command("scan_repo", f"https://u:{CANARY}@127.0.0.1:9/x.git", stdout=io.StringIO())
    assert CANARY not in str(caught.value)


@pytest.fixture
def stored_userinfo(db, tmp_path):
    """A repository row that predates the import check (or came from a raw SQL write)."""
    Repository.objects.create(name="legacy", url=f"http://bot:{CANARY}@127.0.0.1:9/acme/legacy.git")
    Connector.objects.create(name="git", kind="git", options={"repositories": ["*"]})


def test_probe_errors_are_stored_and_printed_redacted(stored_userinfo, settings, tmp_path):
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "cache")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "--json", "--connector", "git", stdout=out)
    probe = ProbeRun.objects.get(kind="git")
    assert probe.status in ("partial", "failed") and probe.error
    assert CANARY not in probe.error and CANARY not in out.getvalue()
    assert not (tmp_path / "cache").exists() or not any(
        CANARY.encode() in p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())


def test_fleet_export_redacts_stored_userinfo(stored_userinfo):
    out = io.StringIO()
    call_command("fleet", "export", stdout=out)
    assert CANARY not in out.getvalue() and "legacy" in out.getvalue()


# --- BOTAUDIT_GIT_ROOTS: one check for every way a local repository can be named ---------------

@pytest.fixture
def roots(tmp_path, settings):
    inside = tmp_path / "allowed"
    outside = Repo(tmp_path / "outside")
    outside.commit({"a.txt": "x\n"})
    inside.mkdir()
    Repo(inside / "ok").commit({"a.txt": "x\n"})
    (inside / "link").symlink_to(outside.path)
    return inside, outside.path


def _forms(inside: Path, outside: Path):
    rel = os.path.relpath(outside, inside)
    return [
        str(outside), f"file://{outside}", f"file:{outside}", f"file://localhost{outside}",
        f"{inside}/../outside", f"file://{inside}/../outside", rel, f"file:{rel}", str(inside / "link"),
        f"file://{inside}/link", f"file://{str(outside).replace('outside', 'out%73ide')}", f"file://{inside}/%2E%2E/outside",
    ]


def test_every_form_of_a_path_outside_the_roots_is_refused(roots, tmp_path):
    inside, outside = roots
    for location in _forms(inside, outside):
        with pytest.raises(RepositoryError, match="outside BOTAUDIT_GIT_ROOTS"):
            repository_open(location=location, base_dir=inside, cache_dir=tmp_path / "cache", roots=[str(inside)])
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_paths_inside_the_roots_still_open(roots, tmp_path):
    inside, _ = roots
    for location in (str(inside / "ok"), "ok", f"file://{inside}/ok", f"file:{inside}/ok"):
        repo = repository_open(location=location, base_dir=inside, cache_dir=tmp_path / "cache", roots=[str(inside)])
        assert isinstance(repo, pygit2.Repository)


def test_a_non_repository_inside_the_roots_does_not_open_a_parent_outside(tmp_path):
    parent = Repo(tmp_path / "parent")
    parent.commit({"a.txt": "x\n"})
    root = tmp_path / "parent" / "sub"
    (root / "plain").mkdir(parents=True)
    with pytest.raises(RepositoryError, match="not a git repository"):
        repository_open(location=str(root / "plain"), base_dir=root, cache_dir=tmp_path / "cache", roots=[str(root)])


def test_any_probe_error_is_stored_redacted(db, settings):
    """Not only the git probe: a Vault connector stored with userinfo fails without storing it."""
    settings.BOTAUDIT_PROBE_MAX_RETRIES = 0
    Connector.objects.create(name="vault", kind="vault", options={"url": f"http://root:{CANARY}@127.0.0.1:9"})
    run = audit_run_in_process(connector_names=["vault"])
    probe = run.probe_runs.get(kind="vault")
    assert probe.status == "failed" and "127.0.0.1:9" in probe.error
    assert CANARY not in probe.error
