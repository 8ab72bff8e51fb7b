"""Walking a causal graph: parents, children, ancestors, descendants, order, surgery.

Pure functions of a DAG (``networkx.DiGraph``) or an :class:`~workbench.graphs.ADMG`
(its directed part); each validates its input and returns new objects.

Examples
--------
>>> from workbench.graphs import dag
>>> g = dag([("a", "b"), ("b", "c")])
>>> sorted(ancestors(g, "c")), topological_order(g)
(['a', 'b', 'c'], ['a', 'b', 'c'])
"""

from __future__ import annotations

from typing import Hashable, Iterable

import networkx as nx

from workbench.graphs.core import ADMG, _directed_of as _directed, check_nodes, node_list, validate

__all__ = ["mutilate", "parents", "children", "ancestors", "descendants", "topological_order",
           "would_create_cycle"]

Node = Hashable


def mutilate(graph, targets: Iterable[Node]):
    """Graph surgery for ``do(targets)``: remove every edge pointing into a target.

    For an ADMG, bidirected edges touching a target are removed too (the
    intervention cuts the target off from its hidden causes). Returns a new graph.
    ``targets`` is a node or an iterable of nodes.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> mutilate(admg([("z", "x"), ("x", "y")], bidirected=[("x", "y")]), "x")
    ADMG([x->y])
    """
    validate(graph)
    targets = node_list(graph, targets)
    check_nodes(graph, targets)
    d = _directed(graph).copy()
    d.remove_edges_from([(p, t) for t in targets for p in list(d.predecessors(t))])
    if isinstance(graph, ADMG):
        b = graph.bidirected.copy()
        b.remove_edges_from([(t, n) for t in targets for n in list(b.neighbors(t))])
        return ADMG(d, b)
    return d


def parents(graph, node: Node) -> list:
    """The parents of ``node``, sorted by name.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> parents(dag([("b", "c"), ("a", "c")]), "c")
    ['a', 'b']
    """
    check_nodes(graph, [node])
    return sorted(_directed(graph).predecessors(node), key=str)


def children(graph, node: Node) -> list:
    """The children of ``node``, sorted by name.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> children(dag([("a", "c"), ("a", "b")]), "a")
    ['b', 'c']
    """
    check_nodes(graph, [node])
    return sorted(_directed(graph).successors(node), key=str)


def ancestors(graph, nodes: Iterable[Node], *, inclusive: bool = True) -> set:
    """Ancestors of a node or a set of nodes (including the nodes themselves by default).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> g = dag([("a", "b"), ("b", "c")])
    >>> sorted(ancestors(g, ["c"])), sorted(ancestors(g, "c", inclusive=False))
    (['a', 'b', 'c'], ['a', 'b'])
    """
    nodes = node_list(graph, nodes)
    check_nodes(graph, nodes)
    d = _directed(graph)
    out = set(nodes) if inclusive else set()
    for n in nodes:
        out |= nx.ancestors(d, n)
    return out


def descendants(graph, nodes: Iterable[Node], *, inclusive: bool = True) -> set:
    """Descendants of a node or a set of nodes (including the nodes themselves by default).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> sorted(descendants(dag([("a", "b"), ("b", "c")]), "a", inclusive=False))
    ['b', 'c']
    """
    nodes = node_list(graph, nodes)
    check_nodes(graph, nodes)
    d = _directed(graph)
    out = set(nodes) if inclusive else set()
    for n in nodes:
        out |= nx.descendants(d, n)
    return out


def topological_order(graph) -> list:
    """A deterministic topological order (ties broken by the node's string).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> topological_order(dag([("b", "c"), ("a", "c")]))
    ['a', 'b', 'c']
    """
    validate(graph)
    return list(nx.lexicographical_topological_sort(_directed(graph), key=str))


def would_create_cycle(graph, source: Node, target: Node) -> list | None:
    """The cycle that adding ``source -> target`` would close, or ``None``.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> would_create_cycle(dag([("a", "b"), ("b", "c")]), "c", "a")
    ['a', 'b', 'c', 'a']
    """
    d = _directed(graph)
    if source == target:
        return [source, source]
    if target in d and source in d and nx.has_path(d, target, source):
        path = nx.shortest_path(d, target, source)
        return path + [target]
    return None
