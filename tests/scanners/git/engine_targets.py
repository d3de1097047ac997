"""Functions the tests run in the scanning process (scanners/git/engine.py), which imports them by
name: what that process is, and a scan that never returns."""

import os
import subprocess
import sys
import time


def process_facts(marker: str) -> dict:
    from django.conf import settings

    return {
        "pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0),
        "cmdline": open("/proc/self/cmdline", "rb").read(),  # noqa: SIM115, PTH123 - read at once
        "environ": open("/proc/self/environ", "rb").read(),  # noqa: SIM115, PTH123
        "key_matches": marker == settings.BOTAUDIT_FINGERPRINT_KEY,
        "modules": sorted(sys.modules), "path": list(sys.path),
    }


def forever(marker_file: str) -> None:
    """A scan that never returns, with a worker process of its own (stands in for libgit2 spinning)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(marker_file, "w") as out:  # noqa: PTH123
        out.write(str(child.pid))
    time.sleep(600)
