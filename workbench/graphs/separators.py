"""Every minimal d-separator of two node sets, without trying every subset.

A minimal d-separator of ``X`` and ``Y`` lies among the ancestors of ``X ∪ Y``, and
there d-separation is plain vertex separation in the moral graph of the ancestral
subgraph (Lauritzen et al. 1990; van der Zander, Liśkiewicz & Textor 2019). So:

1. moralise ``G[An(X ∪ Y)]``, merge ``X`` into one vertex ``a`` and ``Y`` into ``b``;
2. eliminate every vertex that may not be chosen (latents, or those outside
   ``restricted``): remove it and join its neighbours, which keeps every path that
   went through it;
3. list the minimal ``a, b``-vertex separators of that undirected graph. Each is
   ``S = N(C_b)`` for the component ``C_b`` of ``b`` in ``H - N[A]`` for a connected
   set ``A`` around ``a``; starting from ``A = {a}`` and growing ``A`` by one vertex
   of ``S`` at a time reaches every one (Berry, Bordat & Cogis 2000; Kloks & Kratsch
   1998), at polynomial cost per separator.

The number of minimal separators can itself grow exponentially (``k`` disjoint
two-step paths have ``2^k``), so ``max_sets`` bounds the list and says so.

Examples
--------
>>> from workbench.graphs import dag
>>> g = dag([("z1", "x"), ("z1", "z2"), ("z2", "y"), ("x", "y")])
>>> g.remove_edge("x", "y")
>>> minimal_d_separators(g, "x", "y")
[frozenset({'z1'}), frozenset({'z2'})]
"""

from __future__ import annotations

import networkx as nx

from workbench.errors import GraphError, WorkbenchInputError
from workbench.graphs.core import ADMG, check_nodes, validate
from workbench.graphs.separation import _as_set

__all__ = ["minimal_d_separators", "SearchLimitError"]


class SearchLimitError(WorkbenchInputError):
    """A search stopped at its bound before it could give a complete answer.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> minimal_d_separators(dag([("x", "a"), ("a", "b"), ("b", "y")]), "x", "y", max_sets=1)
    Traceback (most recent call last):
    ...
    workbench.graphs.separators.SearchLimitError: ...
    """


class _End:
    """One merged end (``X`` or ``Y``) of the separation problem; never a user's node."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _reduced_graph(g: nx.DiGraph, x: set, y: set, allowed: set):
    """The undirected graph on which minimal separators are vertex separators of ``a`` and ``b``."""
    a, b = _End("X"), _End("Y")
    ancestral = set(x | y)
    for v in x | y:
        ancestral |= nx.ancestors(g, v)
    moral = nx.moral_graph(g.subgraph(ancestral))
    merged = {**{v: a for v in x}, **{v: b for v in y}}
    h = nx.Graph()
    h.add_nodes_from([a, b])
    h.add_nodes_from(v for v in moral if v not in merged)
    h.add_edges_from((merged.get(u, u), merged.get(v, v)) for u, v in moral.edges()
                     if merged.get(u, u) is not merged.get(v, v))
    for v in sorted((v for v in list(h) if v not in (a, b) and v not in allowed), key=str):
        neighbours = list(h[v])
        h.remove_node(v)
        h.add_edges_from((p, q) for i, p in enumerate(neighbours) for q in neighbours[i + 1:])
    return h, a, b


def _neighbours(h: nx.Graph, nodes: set) -> set:
    return {n for v in nodes for n in h[v]} - nodes


def minimal_d_separators(graph, x, y, *, restricted=None, max_sets: int = 10_000) -> list[frozenset]:
    """All minimal sets ``Z`` (within ``restricted``) with ``X ⫫ Y | Z``, smallest first.

    Parameters
    ----------
    graph : networkx.DiGraph or ADMG
        Bidirected edges are latent common causes, never chosen.
    x, y : node or set of nodes
    restricted : set of nodes, optional
        The nodes a separator may use (default: every observed node but ``x`` and ``y``).
    max_sets : int
        Stop with :class:`SearchLimitError` beyond this many separators.

    Returns
    -------
    list of frozenset
        Sorted by size, then by names; ``[frozenset()]`` when ``x`` and ``y`` are
        already d-separated, ``[]`` when no set within ``restricted`` separates them.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> minimal_d_separators(dag([("x", "a"), ("a", "b"), ("b", "y")]), "x", "y")
    [frozenset({'a'}), frozenset({'b'})]
    """
    validate(graph)
    x, y = _as_set(x), _as_set(y)
    check_nodes(graph, x | y)
    if x & y or not x or not y:
        raise GraphError("minimal_d_separators needs two non-empty disjoint node sets x and y.")
    if isinstance(max_sets, bool) or not isinstance(max_sets, int) or max_sets < 1:
        raise WorkbenchInputError(f"max_sets must be a positive integer, got {max_sets!r}.")
    nodes = set(graph.nodes) - x - y
    allowed = nodes if restricted is None else set(restricted) & nodes
    g = graph.to_canonical_dag() if isinstance(graph, ADMG) else graph
    h, a, b = _reduced_graph(g, x, y, allowed)
    if h.has_edge(a, b):
        return []
    if not nx.has_path(h, a, b):
        return [frozenset()]

    def close_to_b(side: set) -> frozenset:
        blocked = side | _neighbours(h, side)
        return frozenset(_neighbours(h, nx.node_connected_component(h.subgraph(set(h) - blocked), b)))

    first = close_to_b({a})
    found, todo = {first}, [first]
    while todo:
        s = todo.pop()
        a_side = nx.node_connected_component(h.subgraph(set(h) - s), a)
        for v in s:
            if h.has_edge(v, b):
                continue
            t = close_to_b(a_side | {v})
            if t not in found:
                found.add(t)
                todo.append(t)
                if len(found) > max_sets:
                    raise SearchLimitError(
                        f"More than {max_sets} minimal separators of {sorted(x, key=str)} and "
                        f"{sorted(y, key=str)}; pass a larger max_sets, or ask for one "
                        "(networkx.find_minimal_d_separator).")
    return sorted(found, key=lambda s: (len(s), sorted(map(str, s))))
