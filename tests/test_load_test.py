"""benchmarks/load_test.py's verdict and CPU accounting (the load run itself is the lead's)."""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def load_test():
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "benchmarks" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.fast
def test_the_verdict_is_pass_only_when_every_target_and_zero_errors_hold(load_test, capsys):
    fast = {"Overview": [0.1] * 100, "Fleet": [0.2] * 100, "Findings": [0.2] * 100}
    assert load_test.verdicts_print(fast, 0, users=50, seconds=60) is True
    out = capsys.readouterr().out
    assert out.count("PASS") == 4 and "FAIL" not in out and "NOT the contract" not in out
    slow_overview = {**fast, "Overview": [0.1] * 90 + [0.35] * 10}  # p95 350 ms > 300 ms
    assert load_test.verdicts_print(slow_overview, 0, users=50, seconds=60) is False
    assert "FAIL  Overview p95 350 ms (target under 300 ms)" in capsys.readouterr().out
    assert load_test.verdicts_print({**fast, "Fleet": [0.45] * 100}, 0, users=50, seconds=60) is True
    assert load_test.verdicts_print(fast, 1, users=50, seconds=60) is False
    assert "FAIL  errors 1 (target 0)" in capsys.readouterr().out
    assert load_test.verdicts_print({"Fleet": [0.1]}, 0, users=10, seconds=5) is False  # no Overview at all
    assert "NOT the contract run" in capsys.readouterr().out


@pytest.mark.fast
def test_cpu_accounting_reads_proc_for_a_process_tree(load_test):
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.3: pass\ntime.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while load_test.cpu_seconds([child.pid]) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0.25 <= load_test.cpu_seconds([child.pid]) < 5
        assert child.pid in load_test.children_of(os.getpid())
        assert load_test.cpu_seconds([2**22 + 12345]) == 0  # gone: counted as nothing
        assert load_test.machine_busy_seconds() > 0
    finally:
        child.kill()
        child.wait()
