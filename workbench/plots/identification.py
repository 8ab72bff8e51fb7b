"""Figures for identification: a causal graph with treatment, outcome and hedge marked.

Uses ``workbench.graphs.draw`` when it exists (the shared graph drawing); until then
it draws with NetworkX's own matplotlib functions. Directed edges are arrows,
bidirected edges (hidden confounders) dashed red arcs. Treatments are squares,
outcomes double circles; the hedge's ``F`` is shaded orange and ``F'`` red.

Examples
--------
>>> from workbench.identification import FIXTURES, identify
>>> from workbench.plots.identification import identification_figure, figure_svg
>>> f = FIXTURES["bow"]
>>> fig = identification_figure(f.graph, "x", "y", hedge=identify(f.graph, "x", "y").hedge)
>>> figure_svg(fig).startswith("<svg") or "<svg" in figure_svg(fig)[:400]
True
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

from workbench.graphs import as_admg  # noqa: E402
from workbench.identification._inputs import as_set  # noqa: E402

__all__ = ["identification_figure", "graph_layout", "figure_svg"]

COLOURS = {"node": "#e8eef7", "F": "#f6b26b", "F_prime": "#e06666", "edge": "#333333",
           "bidirected": "#cc0000"}


def graph_layout(graph) -> dict:
    """Left-to-right layers by topological generation (deterministic)."""
    g = as_admg(graph)
    layers = {}
    for i, generation in enumerate(nx.topological_generations(g.directed)):
        for j, v in enumerate(sorted(generation, key=str)):
            layers[v] = (float(i), -float(j) + (len(generation) - 1) / 2)
    return layers


def identification_figure(graph, treatments=(), outcomes=(), *, hedge=None, ax=None,
                          title: str | None = None):
    """Draw ``graph`` with the query's treatments/outcomes and an optional hedge."""
    g = as_admg(graph)
    x, y = as_set(treatments), as_set(outcomes)
    if ax is None:
        width = 1.6 + 1.3 * max(1, len(list(nx.topological_generations(g.directed))))
        fig, ax = plt.subplots(figsize=(min(width, 9), 3.0))
    fig = ax.figure
    pos = graph_layout(g)
    colour = []
    for v in g.nodes:
        if hedge is not None and v in hedge.F_prime:
            colour.append(COLOURS["F_prime"])
        elif hedge is not None and v in hedge.F:
            colour.append(COLOURS["F"])
        else:
            colour.append(COLOURS["node"])
    shapes = {v: ("s" if v in x else "o") for v in g.nodes}
    for shape in ("s", "o"):
        nodes = [v for v in g.nodes if shapes[v] == shape]
        nx.draw_networkx_nodes(g.directed, pos, nodelist=nodes, node_shape=shape, ax=ax,
                               node_color=[colour[g.nodes.index(v)] for v in nodes],
                               edgecolors=["#000000" if v in x | y else "#777777" for v in nodes],
                               linewidths=[3.0 if v in y else 1.2 for v in nodes], node_size=900)
    nx.draw_networkx_labels(g.directed, pos, ax=ax, font_size=10)
    nx.draw_networkx_edges(g.directed, pos, ax=ax, arrows=True, arrowsize=16, node_size=900,
                           edge_color=COLOURS["edge"])
    nx.draw_networkx_edges(nx.DiGraph(g.bidirected.edges()), pos, ax=ax, arrows=True,
                           arrowstyle="<|-|>", style="dashed", node_size=900, arrowsize=12,
                           edge_color=COLOURS["bidirected"], connectionstyle="arc3,rad=0.35")
    ax.set_title(title or "", fontsize=10)
    ax.margins(0.2)
    ax.set_axis_off()
    return fig


def figure_svg(fig) -> str:
    """The figure as an SVG string (for an ``ipywidgets.HTML``), and close it."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg"):]
