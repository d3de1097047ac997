"""Project wiring: settings refuse insecure production starts; compose file is valid; deploy check."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django(code: str, **env):
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("DJANGO_") and k != "BOTAUDIT_FINGERPRINT_KEY"}
    base.update(DJANGO_SETTINGS_MODULE="botaudit.settings", **env)
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                          env=base, capture_output=True, text=True, timeout=60)


def test_refuses_to_start_without_secret_key_when_not_debug():
    result = _django("print('started')", DJANGO_DEBUG="0", BOTAUDIT_FINGERPRINT_KEY="k")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_refuses_to_start_without_fingerprint_key_when_not_debug():
    result = _django("print('started')", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "BOTAUDIT_FINGERPRINT_KEY is not set" in result.stderr


def test_debug_starts_with_embedded_defaults():
    result = _django("from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
                     "s.CELERY_TASK_ALWAYS_EAGER)", DJANGO_DEBUG="1", DATABASE_URL="", REDIS_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_check_deploy_is_clean():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="botaudit.settings", DJANGO_DEBUG="0", ALLOWED_HOSTS="audit.example.com",
               DJANGO_SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghij-XYZ",
               BOTAUDIT_FINGERPRINT_KEY="fp-key")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _compose():
    path = shutil.which("docker-compose")
    assert path, "Debian's docker-compose is needed (apt-get install docker-compose; make test installs it as root)"
    return path


def test_docker_compose_config_is_valid():
    env = dict(os.environ, POSTGRES_PASSWORD="pw", DJANGO_SECRET_KEY="k", BOTAUDIT_FINGERPRINT_KEY="f")
    result = subprocess.run([_compose(), "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_docker_compose_runs_a_scalable_worker_per_queue_group():
    """worker-git, worker-net (aws + vault), worker-audit (audit + digest) consume every queue between
    them; none pins a container name or a host port, so `up --scale worker-git=4` just works."""
    import yaml
    from django.conf import settings

    env = dict(os.environ, POSTGRES_PASSWORD="pw", DJANGO_SECRET_KEY="k", BOTAUDIT_FINGERPRINT_KEY="f")
    result = subprocess.run([_compose(), "-f", "docker-compose.yml", "config"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    queues = {}
    for name in ("worker-git", "worker-net", "worker-audit"):
        command = services[name]["command"]
        command = command if isinstance(command, str) else " ".join(command)
        queues[name] = set(command.split("--queues ", 1)[1].split()[0].split(","))
        assert "container_name" not in services[name] and "ports" not in services[name]
        assert "--hostname" in command and "%h" in command
    assert queues["worker-git"] == {"probe.git"} and queues["worker-net"] == {"probe.aws", "probe.vault"}
    assert {"audit", "digest"} <= queues["worker-audit"]
    assert set().union(*queues.values()) >= set(settings.BOTAUDIT_QUEUES) | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert "worker" not in services  # the one all-queue worker of before is replaced


def test_docker_compose_has_no_secret_defaults():
    env = {k: v for k, v in os.environ.items()
           if k not in {"POSTGRES_PASSWORD", "DJANGO_SECRET_KEY", "BOTAUDIT_FINGERPRINT_KEY"}}
    result = subprocess.run([_compose(), "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "DJANGO_SECRET_KEY" in result.stderr


def test_django_start_up_does_not_import_heavy_probe_libraries():
    """Web workers and every manage.py command start without loading boto3, policy_sentry, the HCL
    grammar, hvac or requests; probes import them on first use (start-up went from 2.3 s to 1.0 s,
    then ~0.08 s less without hvac/requests/urllib3)."""
    result = _django("import sys; print(sorted(m for m in ('boto3', 'policy_sentry', 'hcl2', 'lark', 'hvac', "
                     "'requests', 'urllib3') if m in sys.modules))", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _make(*args):
    return subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_make_test_stops_at_once_naming_a_missing_system_package_and_its_install_command():
    result = _make("system-deps", "TEST_SYSTEM_PACKAGES=botaudit-no-such-command:botaudit-no-such-package",
                   "APT_INSTALL=no")
    assert result.returncode != 0
    assert ("make test needs the Debian package(s): botaudit-no-such-package. Install them with: "
            "sudo apt-get install botaudit-no-such-package") in result.stderr
    dry = _make("-n", "test")  # system-deps comes before anything is installed or run
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.index("apt-get install") < dry.stdout.index("preflight.py") < dry.stdout.index("pytest")


def test_the_system_packages_the_tests_need_are_declared_and_present_here():
    result = _make("system-deps", "APT_INSTALL=no")
    assert result.returncode == 0, result.stderr
    makefile = (ROOT / "Makefile").read_text()
    assert "chromium:chromium" in makefile and "docker-compose:docker-compose" in makefile


def test_make_test_installs_axe_core_before_the_tests():
    """axe-core for the accessibility browser test: exact pin, project-local, before pytest runs."""
    dry = _make("-n", "test", "AXE_STAMP=var/axe/.botaudit-dry-run-never-there")
    assert dry.returncode == 0, dry.stderr
    install = dry.stdout.index("npm install --prefix var/axe")
    assert re.search(r"axe-core@\d+\.\d+\.\d+\b", dry.stdout[install:].splitlines()[0])
    assert install < dry.stdout.index("pytest")
    assert "npm:npm" in (ROOT / "Makefile").read_text()


def test_ci_runs_the_readme_test_command_and_nothing_else():
    commands = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "exec make test"
    assert not any(word in ("apt-get", "pip", "pip3") for c in commands for word in c.split())


def test_production_keeps_database_connections_and_sessions_stay_in_the_database():
    """Issue 11's load figures depend on it: a new PostgreSQL connection per request cost more CPU
    than the page itself. SQLite keeps Django's default; the URL's own conn_max_age wins. Sessions
    stay in the database (cached_db saved too little to measure under load, and a Redis outage would
    then fail every login, logout and page)."""
    show = ("from django.conf import settings as s; d = s.DATABASES['default']; "
            "print(d['CONN_MAX_AGE'], d.get('CONN_HEALTH_CHECKS'), s.SESSION_ENGINE)")
    base = {"DJANGO_DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/2"}
    pg, db = "postgres://postgres@127.0.0.1:5432/x", "django.contrib.sessions.backends.db"
    cases = [
        ({"DATABASE_URL": pg}, f"600 True {db}"),
        ({"DATABASE_URL": pg, "DATABASE_CONN_MAX_AGE": "0"}, f"0 True {db}"),
        ({"DATABASE_URL": pg + "?conn_max_age=5"}, f"5 True {db}"),
        ({"DATABASE_URL": "", "REDIS_URL": ""}, f"0 False {db}"),
    ]
    for env, expected in cases:
        result = _django(show, **{**base, **env})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected, env
