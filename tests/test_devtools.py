"""The notebook runner catches failures, and measures time and memory."""

from __future__ import annotations

import nbformat
import pytest

from workbench.devtools.notebooks import find_notebooks, run_notebook


def _write(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.timeout(120)
def test_a_failing_cell_is_reported_with_its_error(tmp_path):
    path = _write(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('boom here')", "y = 2")
    run = run_notebook(path)
    assert not run.ok
    assert "boom here" in run.error


@pytest.mark.timeout(120)
def test_a_good_notebook_reports_time_and_memory(tmp_path):
    path = _write(tmp_path / "good.ipynb", "import os\nblock = bytearray(150 * 2**20)",
                  "assert os.environ['OMP_NUM_THREADS'] == '1'")
    run = run_notebook(path)
    assert run.ok, run.error
    assert run.wall_s > 0
    assert run.peak_mb > 150, "the 150 MB allocation shows in the peak"


def test_find_notebooks_is_sorted_and_skips_checkpoints(tmp_path):
    (tmp_path / ".ipynb_checkpoints").mkdir()
    for name in ["02_b.ipynb", "01_a.ipynb", ".ipynb_checkpoints/01_a-checkpoint.ipynb"]:
        _write(tmp_path / name, "1")
    assert [p.name for p in find_notebooks(tmp_path)] == ["01_a.ipynb", "02_b.ipynb"]
