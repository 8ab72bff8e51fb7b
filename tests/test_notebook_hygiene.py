"""Notebooks are committed clean, follow the house shape, and are all on the map."""

from __future__ import annotations

import re

import nbformat
import pytest

from workbench.devtools.notebooks import find_notebooks

from .conftest import ROOT

NOTEBOOKS = find_notebooks(ROOT / "notebooks")
IDS = [p.stem for p in NOTEBOOKS]
START = ROOT / "notebooks" / "00_start_here.ipynb"


def _text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} cell {i} has outputs; clear them"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_named_and_shaped_like_a_lesson(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name notebooks NN_topic.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    text = _text(nb).lower()
    for part in ("summary", "exercise"):
        assert part in text, f"{path.name} has no {part} section"
    assert "assert" in text, f"{path.name} has no self-checking cell"


def test_every_notebook_is_on_the_map_and_in_the_readme():
    start = _text(nbformat.read(START, as_version=4))
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        if path != START:
            assert f"({path.name})" in start, f"00_start_here does not link {path.name}"
        assert f"notebooks/{path.name}" in readme, f"README's table does not list {path.name}"


def test_every_link_on_the_map_exists():
    start = _text(nbformat.read(START, as_version=4))
    for target in re.findall(r"\]\(([^)]+\.ipynb)\)", start):
        assert (START.parent / target).exists(), f"00_start_here links missing {target}"
