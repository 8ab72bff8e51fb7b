"""Figures for identification: a causal graph with the query and the hedge marked.

Built on the shared drawing :func:`workbench.plots.graphs.draw_graph` (directed edges
solid, bidirected edges dashed red arcs). Treatments are filled blue, outcomes green;
when an effect is not identifiable the hedge is shown instead: ``F'`` red, the rest
of ``F`` orange, and the bidirected edges inside ``F`` drawn thick in orange.

Examples
--------
>>> from workbench.identification import FIXTURES, identify
>>> from workbench.plots.identification import identification_figure, figure_svg
>>> f = FIXTURES["bow"]
>>> fig = identification_figure(f.graph, "x", "y", hedge=identify(f.graph, "x", "y").hedge)
>>> sorted(p.get_gid() for p in fig.axes[0].patches if p.get_facecolor()[:3] == (0.8784313725490196, 0.4, 0.4))
['node:y']
>>> figure_svg(fig).startswith("<svg")
True
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt

from workbench.graphs import as_admg
from workbench.plots.graphs import draw_graph
from workbench.identification._inputs import as_set

__all__ = ["identification_figure", "figure_svg", "COLOURS"]

COLOURS = {"treatment": "#9fc5e8", "outcome": "#b6d7a8", "F": "#f6b26b", "F_prime": "#e06666"}


def identification_figure(graph, treatments=(), outcomes=(), *, hedge=None, title: str | None = None):
    """Draw ``graph`` with the query's treatments and outcomes, or with a hedge; a Figure."""
    g = as_admg(graph)
    x, y = as_set(treatments), as_set(outcomes)
    nodes = {v: COLOURS["treatment"] for v in x}
    nodes.update({v: COLOURS["outcome"] for v in y})
    edges = {}
    if hedge is not None:
        nodes.update({v: COLOURS["F"] for v in hedge.F})
        nodes.update({v: COLOURS["F_prime"] for v in hedge.F_prime})
        edges = {(a, b): COLOURS["F"] for a, b in g.bidirected.edges() if a in hedge.F and b in hedge.F}
    if title is None:
        title = ("hedge: F' red, F orange" if hedge is not None
                 else "treatment blue, outcome green" if x or y else None)
    ax = draw_graph(g, highlight_nodes=nodes, highlight_edges=edges, title=title)
    return ax.figure


def figure_svg(fig) -> str:
    """The figure as an SVG string (for an ``ipywidgets.HTML``); closes the figure."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg"):]
