"""Every notebook ends by sending the reader on: a link to a later notebook that exists,
or, for the last one, a way back to the map."""

from __future__ import annotations

import re

import nbformat
import pytest

from workbench.devtools.notebooks import find_notebooks

from .conftest import ROOT

NOTEBOOKS = find_notebooks(ROOT / "notebooks")


def _number(path) -> int:
    return int(path.name[:2])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_last_cell_links_to_the_next_notebook(path):
    last = nbformat.read(path, as_version=4).cells[-1]
    assert last.cell_type == "markdown", f"{path.name} should end with a markdown cell"
    targets = re.findall(r"\]\((\d\d_[a-z0-9_]+\.ipynb)\)", last.source)
    later = [p for p in NOTEBOOKS if _number(p) > _number(path)]
    if later:
        assert targets, f"{path.name}'s last cell links to no notebook"
        assert all((path.parent / t).exists() for t in targets), f"{path.name} links a missing notebook"
        assert int(targets[0][:2]) > _number(path), f"{path.name}'s next link goes backwards"
    else:
        assert "(00_start_here.ipynb)" in last.source, f"{path.name} should link back to the map"
