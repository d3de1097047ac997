"""The git leak scanner's settings, read from the environment, in one home: merged into the full
settings (botaudit/settings.py) and, with nothing else but the fingerprint key, into the
database-free settings of `botaudit-scan` (scanners/git/cli.py). Imports no Django model."""

from __future__ import annotations

from pathlib import Path

LOCAL_FINGERPRINT_KEY = "botaudit-scan-local-fingerprints"


def git_settings(env, *, cache_dir: Path) -> dict:
    """BOTAUDIT_GIT_* settings; `cache_dir` is where clone URLs are mirrored unless
    BOTAUDIT_GIT_CACHE_DIR says otherwise."""
    return {
        "BOTAUDIT_GIT_MAX_BLOB_BYTES": env.int("BOTAUDIT_GIT_MAX_BLOB_BYTES", default=2 * 1024 * 1024),
        "BOTAUDIT_GIT_ROOTS": env.list("BOTAUDIT_GIT_ROOTS", default=[]),  # local repositories must be under one
        "BOTAUDIT_GIT_CACHE_DIR": env.str("BOTAUDIT_GIT_CACHE_DIR", default=str(cache_dir)),
        "BOTAUDIT_GIT_WORKERS": env.int("BOTAUDIT_GIT_WORKERS", default=2),
        # seconds; 0 = unbounded
        "BOTAUDIT_GIT_SCAN_TIME_LIMIT": env.float("BOTAUDIT_GIT_SCAN_TIME_LIMIT", default=1800),
    }


def scan_settings(env) -> dict:
    """Settings for `botaudit-scan` (pre-commit hook, CI): the scanner only. No installed apps and no
    database (DATABASES empty: Django's dummy backend refuses any query), so neither DATABASE_URL nor
    DJANGO_SECRET_KEY is needed.

    BOTAUDIT_FINGERPRINT_KEY keys the secret (and so the baseline) fingerprints as on the server: set
    the server's key to share baselines with it. Unset, a fixed local key is used, so local scans
    agree with each other; their fingerprints are then plain hashes of the secrets, which is why only
    --format json / sarif print them (the default table shows redacted previews only)."""
    cache_home = Path(env.str("XDG_CACHE_HOME", default="") or Path.home() / ".cache")
    return {
        "DEBUG": False,
        "INSTALLED_APPS": [],
        "DATABASES": {},
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "BOTAUDIT_FINGERPRINT_KEY": env.str("BOTAUDIT_FINGERPRINT_KEY", default="") or LOCAL_FINGERPRINT_KEY,
        **git_settings(env, cache_dir=cache_home / "botaudit" / "git"),
    }
