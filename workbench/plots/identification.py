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

import html
import io

import matplotlib.pyplot as plt
import torch

from workbench.graphs import as_admg
from workbench.plots.graphs import draw_graph
from workbench.identification._inputs import as_set
from workbench.identification.tables import DiscreteTable

__all__ = ["identification_figure", "figure_svg", "derivation_html", "comparison_html", "COLOURS"]

COLOURS = {"treatment": "#9fc5e8", "outcome": "#b6d7a8", "F": "#f6b26b", "F_prime": "#e06666"}


def identification_figure(graph, treatments=(), outcomes=(), *, hedge=None, title: str | None = None):
    """Draw ``graph`` with the query's treatments and outcomes, or with a hedge; a Figure.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fig = identification_figure(FIXTURES["frontdoor"].graph, "x", "y")
    >>> fig.axes[0].get_title()
    'treatment blue, outcome green'
    >>> plt.close(fig)
    """
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
    """The figure as an SVG string (for an ``ipywidgets.HTML``); closes the figure.

    Examples
    --------
    >>> figure_svg(plt.figure(figsize=(1, 1)))[:4]
    '<svg'
    """
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg"):]


def derivation_html(result) -> str:
    """The derivation as nested HTML list items with ``$...$`` math (names escaped).

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> from workbench.identification import identify
    >>> derivation_html(identify(admg([("x", "y")]), "x", "y")).startswith("<ol><li")
    True
    """
    items = []
    for s in result.derivation.steps:
        text = (f"<b>Line {s.line}</b> ({html.escape(s.title)}) on ${html.escape(s.query)}$: "
                f"{html.escape(s.action)} <i>Why:</i> {html.escape(s.justification)}")
        if s.result is not None:
            text += f" &rArr; ${html.escape(s.result)}$"
        items.append(f'<li style="margin-left:{1.5 * s.depth}em">{text}</li>')
    return "<ol>" + "".join(items) + "</ol>"


def comparison_html(truth: DiscreteTable, exact: DiscreteTable, sampled: DiscreteTable,
                    treatments, n: int) -> str:
    """A table of P(y | do(x)): truth, estimand on the exact table, estimand on samples.

    Examples
    --------
    >>> t = DiscreteTable(("y",), torch.tensor([0.25, 0.75]))
    >>> comparison_html(t, t, t, (), 10).count("<tr>")
    3
    """
    order = truth.variables
    exact = exact.expand(truth.cardinalities).permute(order)
    sampled = sampled.expand(truth.cardinalities).permute(order)
    head = "".join(f"<th>{html.escape(str(v))}</th>" for v in order)
    rows = []
    for index in torch.cartesian_prod(*[torch.arange(k) for k in truth.values.shape]).reshape(-1, len(order)):
        idx = tuple(int(i) for i in index)
        cells = "".join(f"<td>{i}</td>" for i in idx)
        rows.append(f"<tr>{cells}<td>{float(truth.values[idx]):.4f}</td>"
                    f"<td>{float(exact.values[idx]):.4f}</td><td>{float(sampled.values[idx]):.4f}</td></tr>")
    return (f"<table><tr>{head}<th>truth</th><th>estimand, exact table</th>"
            f"<th>estimand, {n} samples</th></tr>{''.join(rows)}</table>")
