"""Figures for causal representation learning: learned vs true graphs, identifiability curves.

Examples
--------
>>> import networkx as nx
>>> fig = plot_graph_comparison(nx.DiGraph([("a", "b")]), nx.DiGraph([("a", "b"), ("a", "c")]))
>>> [ax.get_title() for ax in fig.axes]
['learned', 'true']
"""

from __future__ import annotations

import networkx as nx

__all__ = ["plot_graph_comparison", "plot_identifiability_curves"]


def _layered_layout(graph: nx.DiGraph, nodes) -> dict:
    """Causes above effects: one row per topological generation of ``graph``."""
    layered = nx.DiGraph()
    layered.add_nodes_from(nodes)
    layered.add_edges_from(graph.edges)
    if not nx.is_directed_acyclic_graph(layered):
        return nx.circular_layout(nodes)
    for depth, generation in enumerate(nx.topological_generations(layered)):
        for node in generation:
            layered.nodes[node]["layer"] = -depth
    return nx.multipartite_layout(layered, subset_key="layer", align="horizontal")


def plot_graph_comparison(learned: nx.DiGraph, true: nx.DiGraph, weights: dict | None = None):
    """Two panels on one layout: the learned graph and the true graph.

    In the learned panel, green edges are right, orange ones extra and red dashed ones
    missing. ``weights`` maps learned edges to a number shown on them.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> learned = nx.DiGraph([("theta", "shadow"), ("shadow", "phi")])
    >>> fig = plot_graph_comparison(learned, nx.DiGraph([("theta", "shadow"), ("phi", "shadow")]),
    ...                             weights={("theta", "shadow"): 0.81})
    >>> [ax.get_title() for ax in fig.axes]
    ['learned', 'true']
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_text()[0].isdigit()]     # the weight
    ['0.81']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    nodes = sorted(set(learned) | set(true), key=str)
    layout = _layered_layout(true, nodes)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    right = [e for e in learned.edges if true.has_edge(*e)]
    extra = [e for e in learned.edges if not true.has_edge(*e)]
    missing = [e for e in true.edges if not learned.has_edge(*e)]
    for ax, title in zip(axes, ("learned", "true")):
        graph = nx.DiGraph()
        graph.add_nodes_from(nodes)
        nx.draw_networkx_nodes(graph, layout, ax=ax, node_color="#dde6f0", node_size=1500)
        nx.draw_networkx_labels(graph, layout, ax=ax, labels={n: str(n).replace("_", "\n") for n in nodes},
                                font_size=8)
        groups = ([(right, "green", "solid"), (extra, "darkorange", "solid"), (missing, "red", "dashed")]
                  if title == "learned" else [(list(true.edges), "black", "solid")])
        for edges, colour, style in groups:
            nx.draw_networkx_edges(graph, layout, edgelist=edges, ax=ax, edge_color=colour, style=style,
                                   arrows=True, arrowsize=18, node_size=1500, width=2)
        if title == "learned" and weights:
            nx.draw_networkx_edge_labels(graph, layout, {e: f"{weights[e]:.2f}" for e in learned.edges if e in weights},
                                         ax=ax, font_size=7, label_pos=0.3)
        ax.set_title(title)
        ax.axis("off")
        ax.margins(0.2)
    return fig


def plot_identifiability_curves(by_intervened: list, by_samples: list, current: tuple):
    """MCC and R^2 against the number of intervened latents and against sample size.

    ``by_intervened``: ``[(k, {"mcc", "r2"}), ...]``; ``by_samples``: ``[(n, {...}), ...]``;
    ``current``: ``(k, n)``, marked on both panels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> by_k = [(0, {"mcc": 0.6, "r2": 0.99}), (2, {"mcc": 0.98, "r2": 0.99})]
    >>> by_n = [(100, {"mcc": 0.8, "r2": 0.99}), (1000, {"mcc": 0.97, "r2": 0.99})]
    >>> fig = plot_identifiability_curves(by_k, by_n, current=(2, 1000))
    >>> left, right = fig.axes
    >>> left.get_xlabel(), right.get_xscale()
    ('intervened latents', 'log')
    >>> [line.get_ydata().tolist() for line in left.get_lines()[:2]]      # MCC, then R^2
    [[0.6, 0.98], [0.99, 0.99]]
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)
    for ax, rows, label, mark in ((axes[0], by_intervened, "intervened latents", current[0]),
                                  (axes[1], by_samples, "samples per interventional data set", current[1])):
        xs = [x for x, _ in rows]
        for key, colour in (("mcc", "tab:blue"), ("r2", "tab:orange")):
            ax.plot(xs, [s[key] for _, s in rows], "o-", color=colour, label="MCC" if key == "mcc" else "R$^2$")
        ax.axvline(mark, color="grey", linestyle=":")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_xscale("log")
    axes[0].set_ylabel("score")
    axes[0].set_ylim(0, 1.05)
    axes[0].legend(loc="lower right")
    return fig
