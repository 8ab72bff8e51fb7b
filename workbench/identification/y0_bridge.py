"""A bridge to y0 (the peer ID implementation), for tests and the benchmark.

y0 is a test-time dependency, imported lazily. :func:`y0_identify` runs y0's ID on one
of our graphs; :func:`from_y0` translates a y0 estimand into our expression types, so
y0's answer can be evaluated on the same exact table as ours and compared with the
generating model's truth.

Examples
--------
>>> from workbench.identification.fixtures import FIXTURES
>>> from workbench.identification.y0_bridge import y0_identify
>>> f = FIXTURES["frontdoor"]
>>> print(y0_identify(f.graph, f.treatments, f.outcomes))
sum_{z} P(z | x) [sum_{x} P(x) P(y | x, z)]
>>> y0_identify(FIXTURES["bow"].graph, "x", "y") is None
True
"""

from __future__ import annotations

from workbench.errors import WorkbenchInputError
from workbench.graphs import as_admg
from workbench.identification._inputs import check_query
from workbench.identification.expressions import Expression, Fraction, ONE, Probability, Product, Sum

__all__ = ["to_y0_graph", "y0_identify", "from_y0"]

_RESERVED = {"P", "Q", "PP"}


def to_y0_graph(graph):
    """Our ADMG (node names must be strings) as a ``y0.graph.NxMixedGraph``.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> g = to_y0_graph(admg([("x", "y")], bidirected=[("x", "y")]))
    >>> sorted(str(v) for v in g.nodes())
    ['x', 'y']
    """
    from y0.graph import NxMixedGraph

    g = as_admg(graph)  # validates: a cyclic graph raises CycleError
    bad = [v for v in g.nodes if not isinstance(v, str) or v in _RESERVED]
    if bad:
        raise WorkbenchInputError(f"y0 needs string node names other than P, Q, PP; got {bad}.")
    return NxMixedGraph.from_str_edges(nodes=list(g.nodes), directed=list(g.directed.edges()),
                                       undirected=list(g.bidirected.edges()))


def y0_identify(graph, treatments, outcomes, *, y0_graph=None) -> Expression | None:
    """y0's ID estimand for ``P(outcomes | do(treatments))`` in our types, or ``None``.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> print(y0_identify(admg([("x", "y")]), "x", "y"))
    P(y | x)
    """
    from y0.algorithm.identify import identify_outcomes
    from y0.dsl import Variable

    _, x, y = check_query(graph, treatments, outcomes)
    yg = to_y0_graph(graph) if y0_graph is None else y0_graph
    expr = identify_outcomes(yg, {Variable(v) for v in x}, {Variable(v) for v in y})
    return None if expr is None else from_y0(expr)


def from_y0(expr) -> Expression:
    """Translate a y0 DSL expression (Probability, Product, Sum, Fraction, One).

    Examples
    --------
    >>> from y0.dsl import P, Variable
    >>> print(from_y0(P(Variable("y") | Variable("x"))))
    P(y | x)
    """
    from y0 import dsl

    if isinstance(expr, dsl.Probability):
        names = [v.name for v in expr.children]
        given = [v.name for v in expr.parents]
        return Probability(names, given)
    if isinstance(expr, dsl.Product):
        return Product(tuple(from_y0(e) for e in expr.expressions))
    if isinstance(expr, dsl.Sum):
        return Sum(tuple(v.name for v in expr.ranges), from_y0(expr.expression))
    if isinstance(expr, dsl.Fraction):
        return Fraction(from_y0(expr.numerator), from_y0(expr.denominator))
    if isinstance(expr, dsl.One):
        return ONE
    raise WorkbenchInputError(f"Cannot translate y0 expression of type {type(expr).__name__}: {expr}")
