"""Latent projection: the ADMG over the observed nodes of a DAG with hidden nodes.

Verma & Pearl (1990): for observed ``a`` and ``b``, the projection has ``a -> b`` when the
DAG has a directed path from ``a`` to ``b`` whose inner nodes are all hidden, and
``a <-> b`` when some hidden node reaches both ``a`` and ``b`` by directed paths through
hidden nodes only. Identification on the projection answers the same questions as on
the DAG (Tian & Pearl 2002).

Examples
--------
>>> from workbench.graphs import dag
>>> latent_projection(dag([("h", "x"), ("h", "y"), ("x", "y")]), ["h"])
ADMG([x->y], bidirected=[x<->y])
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx

from workbench.graphs.core import ADMG, check_nodes, validate
from workbench.graphs.traversal import topological_order

__all__ = ["latent_projection"]


def _reach_through_hidden(g: nx.DiGraph, start, hidden: set) -> set:
    """Observed nodes reached from ``start`` by directed paths whose inner nodes are hidden."""
    seen, frontier, reached = {start}, [start], set()
    while frontier:
        v = frontier.pop()
        for c in g.successors(v):
            if c in seen:
                continue
            seen.add(c)
            if c in hidden:
                frontier.append(c)
            else:
                reached.add(c)
    return reached


def latent_projection(graph, hidden: Iterable) -> ADMG:
    """The ADMG over the observed nodes of ``graph`` (a DAG or ADMG) with ``hidden`` projected out.

    Nodes marked ``latent=True`` are hidden too; the result lists the observed nodes in
    topological order. :meth:`workbench.scm.SCM.observed_graph` is this projection.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> latent_projection(dag([("a", "l"), ("l", "b")]), ["l"])      # a mediator hidden
    ADMG([a->b])
    """
    validate(graph)
    g = graph.to_canonical_dag() if isinstance(graph, ADMG) else graph
    hidden = set(hidden) | {v for v in g if g.nodes[v].get("latent")}
    check_nodes(g, sorted(hidden, key=str), what="hidden node")
    observed = [v for v in topological_order(g) if v not in hidden]
    directed, bidirected = nx.DiGraph(), nx.Graph()
    directed.add_nodes_from(observed)
    bidirected.add_nodes_from(observed)
    for v in observed:
        directed.add_edges_from((v, c) for c in _reach_through_hidden(g, v, hidden))
    for h in hidden:
        reached = sorted(_reach_through_hidden(g, h, hidden), key=str)
        bidirected.add_edges_from((a, b) for i, a in enumerate(reached) for b in reached[i + 1:])
    return ADMG(directed, bidirected)
