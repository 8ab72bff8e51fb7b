"""Every notebook in notebooks/ runs top to bottom in a fresh kernel without error.

Notebooks are found by glob, never by a hand-kept list. Each run's wall time and peak
memory are written to tests/artifacts/notebook_runs/ and summarised at the end of the
session; the budgets themselves are reported by the benchmark runner, not asserted here.
A fresh run must answer no exercise: no output line starts with "Correct".
"""

from __future__ import annotations

import json

import pytest

from workbench.devtools.notebooks import find_notebooks, run_notebook
from workbench.exercises import SUCCESS_PREFIX

from .conftest import NOTEBOOK_RUNS, ROOT

NOTEBOOKS = find_notebooks(ROOT / "notebooks")


def test_there_are_notebooks():
    assert any(p.name == "00_start_here.ipynb" for p in NOTEBOOKS)


@pytest.mark.notebook
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    run = run_notebook(path)
    NOTEBOOK_RUNS.mkdir(parents=True, exist_ok=True)
    (NOTEBOOK_RUNS / f"{path.stem}.json").write_text(json.dumps(run.as_dict()))
    assert run.ok, f"{path.name} failed:\n{run.error}"
    answered = [line for line in run.output_text.splitlines()
                if line.strip().lower().startswith(SUCCESS_PREFIX.lower())]
    assert not answered, (f"Run All of {path.name} answered an exercise by itself: {answered}; "
                          "keep reference solutions in a collapsed <details> block")
