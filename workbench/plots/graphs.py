"""Draw DAGs and ADMGs with matplotlib, with nodes and edges highlighted.

Directed edges are solid arrows; bidirected edges (hidden confounders) are dashed,
curved and double-headed; latent nodes (node attribute ``latent=True``) have a
dashed grey outline. Any node or edge can be highlighted, e.g. an intervened
variable, a cut edge or a hedge. Every patch carries a ``gid`` (``"node:x"``,
``"edge:x->y"``, ``"edge:x<->y"``) so tests and callers can find it.

Examples
--------
>>> from workbench.graphs import admg
>>> from workbench.plots.graphs import draw_graph
>>> g = admg([("smoking", "tar"), ("tar", "cancer")], bidirected=[("smoking", "cancer")])
>>> ax = draw_graph(g, highlight_nodes={"smoking": "#f6b26b"}, highlight_edges=[("tar", "cancer")])
>>> sorted(p.get_gid() for p in ax.patches if p.get_gid().startswith("edge"))
['edge:smoking->tar', 'edge:smoking<->cancer', 'edge:tar->cancer']
>>> [p.get_linestyle() for p in ax.patches if p.get_gid() == "edge:smoking<->cancer"]
['--']
"""

from __future__ import annotations

from typing import Iterable, Mapping

import networkx as nx

from workbench.errors import WorkbenchInputError
from workbench.graphs.core import ADMG, check_nodes, validate

__all__ = ["layout", "draw_graph", "HIGHLIGHT"]

HIGHLIGHT = "#e69138"   # default colour for highlighted nodes and edges
NODE, EDGE, BIDIRECTED, LATENT = "#e8eef7", "#333333", "#cc0000", "#bbbbbb"
RADIUS = 0.3
SPACING = 1.5   # horizontal distance between generations


def _parts(graph):
    validate(graph)
    if isinstance(graph, ADMG):
        return graph.directed, list(graph.bidirected.edges())
    return graph, []


def layout(graph) -> dict:
    """Deterministic positions: left to right by topological generation.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> layout(dag([("a", "b"), ("a", "c")]))
    {'a': (0.0, 0.0), 'b': (1.5, 0.5), 'c': (1.5, -0.5)}
    """
    d, _ = _parts(graph)
    pos = {}
    for i, gen in enumerate(nx.topological_generations(d)):
        gen = sorted(gen, key=str)
        for j, v in enumerate(gen):
            pos[v] = (SPACING * i, (len(gen) - 1) / 2 - float(j))
    return pos


def _as_colour_map(items, what) -> dict:
    if isinstance(items, Mapping):
        return dict(items)
    if isinstance(items, (str, bytes)):
        raise WorkbenchInputError(f"{what} must be a collection (or a mapping to colours), not a string.")
    return {k: HIGHLIGHT for k in items}


def draw_graph(graph, *, ax=None, pos: Mapping | None = None,
               highlight_nodes: Iterable | Mapping = (), highlight_edges: Iterable | Mapping = (),
               latent: Iterable | None = None, title: str | None = None, font_size: int = 10):
    """Draw ``graph`` (a DAG or an ADMG) and return the matplotlib ``Axes``.

    Parameters
    ----------
    highlight_nodes : collection or mapping
        Nodes to fill with :data:`HIGHLIGHT`, or ``{node: colour}``.
    highlight_edges : collection or mapping
        Directed ``(a, b)`` or bidirected ``(a, b)`` edges to draw thick in
        :data:`HIGHLIGHT`, or ``{(a, b): colour}``.
    latent : collection, optional
        Nodes to draw as latent; default: nodes whose attribute ``latent`` is true.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from workbench.graphs import dag
    >>> ax = draw_graph(dag([("x", "y")]), highlight_nodes=["x"], title="x causes y")
    >>> ax.get_title(), sorted(p.get_gid() for p in ax.patches)
    ('x causes y', ['edge:x->y', 'node:x', 'node:y'])
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt  # imported here so that importing the module stays light
    from matplotlib.patches import Circle, FancyArrowPatch

    d, bidirected = _parts(graph)
    nodes = list(d.nodes)
    hn = _as_colour_map(highlight_nodes, "highlight_nodes")
    he = _as_colour_map(highlight_edges, "highlight_edges")
    check_nodes(graph, list(hn))
    edge_set = set(d.edges()) | {frozenset(e) for e in bidirected}
    for e in he:
        if tuple(e) not in edge_set and frozenset(e) not in edge_set:
            raise WorkbenchInputError(f"highlight_edges names {e!r}, which is not an edge of the graph.")
    latent = set(v for v in nodes if d.nodes[v].get("latent")) if latent is None else set(latent)
    pos = dict(pos) if pos is not None else layout(graph)
    check_nodes(graph, [v for v in nodes if v not in pos], what="position for node")
    if ax is None:
        xs = [p[0] for p in pos.values()] or [0]
        ys = [p[1] for p in pos.values()] or [0]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        _, ax = plt.subplots(figsize=(min(1.8 + 1.4 * w, 10), min(1.4 + 1.0 * h, 6)))
    for v in nodes:
        fill = hn.get(v, "#f4f4f4" if v in latent else NODE)
        ax.add_patch(Circle(pos[v], RADIUS, facecolor=fill, zorder=3, gid=f"node:{v}",
                            edgecolor=LATENT if v in latent else "#555555",
                            linestyle="--" if v in latent else "-", linewidth=1.3))
        label = str(v)
        size = font_size if len(label) <= 5 else max(6.0, font_size * 5.5 / len(label))
        ax.text(*pos[v], label, ha="center", va="center", fontsize=size, zorder=4,
                parse_math=False)  # a "$" in a name is a character, not mathtext

    bulge = [0.0]  # how far curved edges stray from their straight line (for the limits)

    def arrow(a, b, style, colour, dashed, rad, gid, thick):
        d = ((pos[a][0] - pos[b][0]) ** 2 + (pos[a][1] - pos[b][1]) ** 2) ** 0.5
        bulge[0] = max(bulge[0], abs(rad) * d / 2)
        ax.add_patch(FancyArrowPatch(
            pos[a], pos[b], arrowstyle=style, mutation_scale=14, color=colour, gid=gid,
            linestyle="--" if dashed else "-", linewidth=2.8 if thick else 1.3,
            connectionstyle=f"arc3,rad={rad}", shrinkA=18, shrinkB=18, zorder=2))

    def blocked(a, b):  # another node sits on the straight segment a-b: bend the edge
        (xa, ya), (xb, yb) = pos[a], pos[b]
        length2 = (xb - xa) ** 2 + (yb - ya) ** 2 or 1.0
        for v in nodes:
            if v in (a, b):
                continue
            x, y = pos[v]
            t = ((x - xa) * (xb - xa) + (y - ya) * (yb - ya)) / length2
            if 0 < t < 1 and (xa + t * (xb - xa) - x) ** 2 + (ya + t * (yb - ya) - y) ** 2 < RADIUS ** 2:
                return True
        return False

    for a, b in d.edges():
        c = he.get((a, b))
        dashed = a in latent
        rad = -0.3 if blocked(a, b) else 0.0
        arrow(a, b, "-|>", c or (LATENT if dashed else EDGE), dashed, rad, f"edge:{a}->{b}", c is not None)
    for a, b in bidirected:
        c = he.get((a, b), he.get((b, a)))
        arrow(a, b, "<|-|>", c or BIDIRECTED, True, 0.35, f"edge:{a}<->{b}", c is not None)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    margin = max(0.7, bulge[0] + 0.3)
    ax.set_ylim(min(ys) - margin, max(ys) + margin)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=font_size + 1, parse_math=False)
    return ax
