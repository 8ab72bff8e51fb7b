"""d-separation, delegated to NetworkX (``networkx.is_d_separator``).

For an ADMG we test d-separation (m-separation) in its canonical DAG, where each
bidirected edge becomes an explicit latent parent of both endpoints.

Examples
--------
>>> from workbench.graphs import dag, admg, d_separated
>>> chain = dag([("x", "m"), ("m", "y")])
>>> d_separated(chain, {"x"}, {"y"}, {"m"})
True
>>> collider = dag([("x", "c"), ("y", "c")])
>>> d_separated(collider, {"x"}, {"y"}, {"c"})
False
>>> d_separated(admg(bidirected=[("x", "y")]), {"x"}, {"y"}, set())
False
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx

from workbench.errors import GraphError
from workbench.graphs.core import ADMG, check_nodes, validate

__all__ = ["d_separated"]


def _as_set(nodes) -> set:
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        return {nodes}
    return set(nodes)


def d_separated(graph, x, y, z=()) -> bool:
    """Whether ``x`` and ``y`` are d-separated given ``z`` (each a node or a set).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> chain = dag([("x", "m"), ("m", "y")])
    >>> d_separated(chain, "x", "y"), d_separated(chain, "x", "y", {"m"})
    (False, True)
    """
    validate(graph)
    x, y, z = _as_set(x), _as_set(y), _as_set(z)
    check_nodes(graph, x | y | z)
    if (x & y) or (x & z) or (y & z):
        raise GraphError("d-separation needs disjoint sets x, y and z; remove the overlap.")
    g = graph.to_canonical_dag() if isinstance(graph, ADMG) else graph
    return nx.is_d_separator(g, x, y, z)
