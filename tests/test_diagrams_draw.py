"""Drawings: one row per layer, the cut wire drawn in red with scissors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from workbench.diagrams import cut  # noqa: E402
from workbench.plots.diagrams import CUT_COLOR, draw, draw_surgery  # noqa: E402
from workbench.diagrams.models import diagram_of, smoking_example  # noqa: E402

RED = mcolors.to_rgba(CUT_COLOR)


def _red_lines(ax):
    return [l for l in ax.lines if mcolors.to_rgba(l.get_color()) == RED]


def test_the_cut_is_drawn_in_red_with_scissors():
    d = diagram_of(smoking_example())
    fig = draw_surgery(d, "smoking")
    before, after = fig.axes
    assert not _red_lines(before)                          # nothing is cut yet ...
    assert any(mcolors.to_rgba(p.get_edgecolor()) == RED for p in before.patches)  # ... but marked
    assert _red_lines(after)
    assert any(t.get_text() == "\u2702" for t in after.texts)
    assert any(t.get_text() == "do(smoking)" for t in after.texts)
    plt.close(fig)


def test_draw_labels_the_outputs_and_has_a_row_per_layer():
    d = cut(diagram_of(smoking_example()), "smoking", value=1)
    ax = draw(d)
    labels = [t.get_text() for t in ax.texts]
    for name in ("smoking", "tar", "cancer", "do(smoking=1)"):
        assert name in labels
    assert ax.get_ylim()[1] >= len(d.layers)
    plt.close(ax.figure)
