"""Shared test configuration: where artifacts go, and the notebook run summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOK_RUNS = ARTIFACTS / "notebook_runs"


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the pyplot figures a test opened, so a worker does not accumulate them."""
    yield
    if "matplotlib.pyplot" in sys.modules:          # never import pyplot just to close it
        sys.modules["matplotlib.pyplot"].close("all")


def pytest_sessionstart(session):
    """Forget notebook runs of earlier sessions (in the controlling process only)."""
    if not hasattr(session.config, "workerinput") and NOTEBOOK_RUNS.exists():
        for old in NOTEBOOK_RUNS.glob("*.json"):
            old.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print each executed notebook's wall time and peak memory at the end of the run."""
    runs = sorted(NOTEBOOK_RUNS.glob("*.json")) if NOTEBOOK_RUNS.exists() else []
    if not runs or hasattr(config, "workerinput"):
        return
    terminalreporter.section("notebooks executed (fresh kernel, one thread)")
    for path in runs:
        run = json.loads(path.read_text())
        status = "ok" if run["ok"] else "FAILED"
        terminalreporter.write_line(
            f"{run['notebook']:<40} {run['wall_s']:>7.1f} s {run['peak_mb']:>7.0f} MB  {status}")
