"""Causal graphs: DAGs as ``networkx.DiGraph`` and ADMGs with bidirected edges.

A DAG is a plain :class:`networkx.DiGraph`. An ADMG (acyclic directed mixed graph)
adds bidirected edges ``a <-> b`` that stand for a hidden common cause; it is an
:class:`ADMG` holding a directed graph and an undirected graph of bidirected edges
over the same nodes. Every function here is pure: it validates its input up front,
raises a typed error, and returns a new graph rather than mutating its argument.

Examples
--------
>>> from workbench.graphs import dag, admg, mutilate, parents
>>> g = dag([("smoking", "tar"), ("tar", "cancer")])
>>> sorted(mutilate(g, ["tar"]).edges())
[('tar', 'cancer')]
>>> fd = admg([("smoking", "tar"), ("tar", "cancer")], bidirected=[("smoking", "cancer")])
>>> fd.has_bidirected("cancer", "smoking")
True
>>> parents(fd, "cancer")
['tar']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable

import networkx as nx

from workbench.errors import CycleError, GraphError, UnknownVariableError

__all__ = ["ADMG", "dag", "admg", "validate", "as_admg", "nodes_of", "check_nodes", "node_list"]

Node = Hashable


@dataclass(frozen=True)
class ADMG:
    """An acyclic directed mixed graph.

    Attributes
    ----------
    directed : networkx.DiGraph
        All nodes and the directed edges ``a -> b``.
    bidirected : networkx.Graph
        The same nodes and the bidirected edges ``a <-> b`` (hidden confounders).

    Examples
    --------
    >>> import networkx as nx
    >>> g = ADMG(nx.DiGraph([("x", "z"), ("z", "y")]), nx.Graph([("x", "y")]))
    >>> g.nodes, g.has_bidirected("y", "x")
    (['x', 'z', 'y'], True)
    """

    directed: nx.DiGraph
    bidirected: nx.Graph = field(default_factory=nx.Graph)

    def __post_init__(self):
        directed_nodes, bidirected_nodes = set(self.directed.nodes), set(self.bidirected.nodes)
        if directed_nodes != bidirected_nodes:  # give both parts every node, on copies of them:
            directed, bidirected = self.directed.copy(), self.bidirected.copy()  # the caller's
            directed.add_nodes_from(sorted(bidirected_nodes - directed_nodes, key=str))  # stay as they were
            bidirected.add_nodes_from(directed.nodes)
            object.__setattr__(self, "directed", directed)
            object.__setattr__(self, "bidirected", bidirected)

    @property
    def nodes(self) -> list:
        """The nodes, in the directed part's order.

        Examples
        --------
        >>> admg([("a", "b")], bidirected=[("b", "c")]).nodes
        ['a', 'b', 'c']
        """
        return list(self.directed.nodes)

    def has_bidirected(self, a: Node, b: Node) -> bool:
        """Whether ``a <-> b`` is an edge.

        Examples
        --------
        >>> admg([("a", "b")], bidirected=[("a", "b")]).has_bidirected("b", "a")
        True
        """
        return self.bidirected.has_edge(a, b)

    def subgraph(self, nodes: Iterable[Node]) -> "ADMG":
        """The induced sub-ADMG on ``nodes`` (a new graph).

        Examples
        --------
        >>> admg([("a", "b"), ("b", "c")]).subgraph(["a", "b"])
        ADMG([a->b])
        """
        nodes = list(nodes)
        check_nodes(self, nodes)
        return ADMG(self.directed.subgraph(nodes).copy(), self.bidirected.subgraph(nodes).copy())

    def view(self, nodes: Iterable[Node]) -> "ADMG":
        """The induced sub-ADMG on ``nodes`` as read-only NetworkX views (no copies).

        For algorithms that recurse on many subgraphs (the ID algorithm); use
        :meth:`subgraph` for a graph of your own.

        Examples
        --------
        >>> g = admg([("a", "b"), ("b", "c")], bidirected=[("a", "c")])
        >>> [sorted(c) for c in g.view(["a", "c"]).c_components()]
        [['a', 'c']]
        """
        nodes = list(nodes)
        return ADMG(self.directed.subgraph(nodes), self.bidirected.subgraph(nodes))

    def copy(self) -> "ADMG":
        """A copy with graphs of its own.

        Examples
        --------
        >>> g = admg([("a", "b")])
        >>> g.copy().directed is g.directed
        False
        """
        return ADMG(self.directed.copy(), self.bidirected.copy())

    def c_components(self) -> list[frozenset]:
        """The districts: connected components of the bidirected part.

        Examples
        --------
        >>> sorted(sorted(c) for c in admg([("a", "b")], bidirected=[("b", "c")]).c_components())
        [['a'], ['b', 'c']]
        """
        return [frozenset(c) for c in nx.connected_components(self.bidirected)]

    def to_canonical_dag(self, prefix: str = "U_") -> nx.DiGraph:
        """A DAG with one explicit latent parent ``U_a_b`` per bidirected edge.

        Examples
        --------
        >>> sorted(admg([("x", "y")], bidirected=[("x", "y")]).to_canonical_dag().edges())
        [('U_x_y', 'x'), ('U_x_y', 'y'), ('x', 'y')]
        """
        g = self.directed.copy()
        for a, b in self.bidirected.edges():
            u = f"{prefix}{a}_{b}"
            g.add_edge(u, a)
            g.add_edge(u, b)
            g.nodes[u]["latent"] = True
        return g

    def __repr__(self) -> str:
        d = ", ".join(f"{a}->{b}" for a, b in self.directed.edges())
        b = ", ".join(f"{a}<->{b}" for a, b in self.bidirected.edges())
        return f"ADMG([{d}]" + (f", bidirected=[{b}])" if b else ")")


def _find_cycle_text(g: nx.DiGraph) -> str:
    cycle = nx.find_cycle(g)
    return " -> ".join(str(a) for a, _ in cycle) + f" -> {cycle[0][0]}"


def validate(graph) -> None:
    """Raise a typed error unless ``graph`` is a DAG or an ADMG.

    Raises
    ------
    CycleError
        If the directed part has a cycle (or a self-loop); the cycle is named.
    GraphError
        If ``graph`` is neither a ``networkx.DiGraph`` nor an :class:`ADMG`.

    Examples
    --------
    >>> validate(dag([("a", "b")])) is None
    True
    >>> validate("a -> b")
    Traceback (most recent call last):
    ...
    workbench.errors.GraphError: ...
    """
    if isinstance(graph, ADMG):
        directed = graph.directed
        if any(a == b for a, b in graph.bidirected.edges()):
            raise GraphError("A bidirected self-loop a <-> a is meaningless; remove it.")
    elif isinstance(graph, nx.DiGraph):
        directed = graph
    else:
        raise GraphError(
            f"Expected a networkx.DiGraph (a DAG) or a workbench ADMG, got {type(graph).__name__}."
        )
    if not nx.is_directed_acyclic_graph(directed):
        raise CycleError(
            f"The graph has a directed cycle {_find_cycle_text(directed)}; a causal graph "
            "must be acyclic. Remove one of these edges."
        )


def _edge_list(edges, what: str = "edge") -> list[tuple[Node, Node]]:
    """Check that every edge is a pair ``(source, target)``; return them as a list."""
    checked = []
    for edge in edges:
        if isinstance(edge, (str, bytes)) or not isinstance(edge, (tuple, list)) or len(edge) != 2:
            raise GraphError(
                f"Each {what} must be a pair (source, target), like ('x', 'y'); got {edge!r}."
            )
        checked.append(tuple(edge))
    return checked


def dag(edges: Iterable[tuple[Node, Node]] = (), nodes: Iterable[Node] = ()) -> nx.DiGraph:
    """Build and validate a DAG from an edge list (and optional isolated nodes).

    Examples
    --------
    >>> dag([("a", "b"), ("b", "a")])
    Traceback (most recent call last):
    ...
    workbench.errors.CycleError: The graph has a directed cycle a -> b -> a; ...
    >>> dag(["ab"])
    Traceback (most recent call last):
    ...
    workbench.errors.GraphError: Each edge must be a pair (source, target), like ('x', 'y'); got 'ab'.
    """
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(_edge_list(edges))
    validate(g)
    return g


def admg(directed: Iterable[tuple[Node, Node]] = (), bidirected: Iterable[tuple[Node, Node]] = (),
         nodes: Iterable[Node] = ()) -> ADMG:
    """Build and validate an ADMG from directed and bidirected edge lists.

    Examples
    --------
    >>> admg([("x", "y")], bidirected=[("x", "y")])
    ADMG([x->y], bidirected=[x<->y])
    """
    d = nx.DiGraph()
    d.add_nodes_from(nodes)
    d.add_edges_from(_edge_list(directed))
    b = nx.Graph()
    b.add_edges_from(_edge_list(bidirected, "bidirected edge"))
    g = ADMG(d, b)
    validate(g)
    return g


def as_admg(graph) -> ADMG:
    """View a DAG as an ADMG with no bidirected edges (a new object).

    Examples
    --------
    >>> as_admg(dag([("a", "b")]))
    ADMG([a->b])
    """
    validate(graph)
    return graph.copy() if isinstance(graph, ADMG) else ADMG(graph.copy(), nx.Graph())


def _not_a_graph(graph) -> GraphError:
    return GraphError(
        f"Expected a networkx.DiGraph (a DAG) or a workbench ADMG, got {type(graph).__name__}; "
        "build one with workbench.graphs.dag(edges) or admg(directed, bidirected)."
    )


def nodes_of(graph) -> list:
    """The nodes of a DAG or an ADMG, as a list.

    Examples
    --------
    >>> nodes_of(admg([("a", "b")], bidirected=[("b", "c")]))
    ['a', 'b', 'c']
    """
    if isinstance(graph, ADMG):
        return list(graph.directed.nodes)
    if isinstance(graph, nx.DiGraph):
        return list(graph.nodes)
    raise _not_a_graph(graph)


def _directed_of(graph) -> nx.DiGraph:
    if isinstance(graph, ADMG):
        return graph.directed
    if isinstance(graph, nx.DiGraph):
        return graph
    raise _not_a_graph(graph)


def check_nodes(graph, names: Iterable[Node], what: str = "variable") -> None:
    """Raise :class:`UnknownVariableError` (with a suggestion) for a name not in ``graph``.

    Examples
    --------
    >>> check_nodes(dag([("smoking", "tar")]), ["smokng"])
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown variable 'smokng'. Did you mean 'smoking'? ...
    """
    present = _directed_of(graph).nodes    # a dict view: O(1) membership, nothing copied
    for name in names:
        try:
            known = name in present
        except TypeError:  # a list or a dict is no node name
            raise GraphError(f"A {what} name must be hashable (a string, a number or a tuple); "
                             f"got {name!r}.") from None
        if not known:
            raise UnknownVariableError(name, nodes_of(graph), what=what)


def node_list(graph, nodes) -> list:
    """``nodes`` as a list of node names: a single name (a string, a number, or any node of
    ``graph``) is one node, never a sequence of characters.

    Examples
    --------
    >>> node_list(dag([("x", "ab")]), "ab"), node_list(dag([("x", "ab")]), ["x", "ab"])
    (['ab'], ['x', 'ab'])
    """
    if type(nodes) in (set, frozenset, list):   # the common case, first and cheapest
        return list(nodes)
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        return [nodes]
    if isinstance(nodes, tuple) and nodes in _directed_of(graph).nodes:   # a tuple naming one node
        return [nodes]
    return list(nodes)
