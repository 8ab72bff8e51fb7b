"""Input checks shared by the identification functions (one place, one message each)."""

from __future__ import annotations

from typing import Iterable

from workbench.errors import WorkbenchInputError
import networkx as nx

from workbench.graphs import ADMG, check_nodes, validate

__all__ = ["OverlappingVariablesError", "as_set", "check_query"]


class OverlappingVariablesError(WorkbenchInputError):
    """The same variable was given in two roles that must be disjoint (treatment and outcome).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> check_query(dag([("x", "y")]), "x", {"x", "y"})
    Traceback (most recent call last):
    ...
    workbench.identification._inputs.OverlappingVariablesError: ['x'] cannot be both treatment and outcome: ...
    """


def as_set(nodes) -> set:
    """A single node name or an iterable of names, as a set.

    Examples
    --------
    >>> as_set("x"), as_set(["x", "y"]) == {"x", "y"}, as_set(None)
    ({'x'}, True, set())
    """
    if nodes is None:
        return set()
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        return {nodes}
    return set(nodes)


def check_query(graph, treatments, outcomes, *, need_treatment: bool = False) -> tuple[ADMG, set, set]:
    """Validate a query ``P(outcomes | do(treatments))`` on ``graph``.

    Returns the graph as an :class:`~workbench.graphs.ADMG` and both name sets.
    Raises ``CycleError`` for a cyclic graph, ``UnknownVariableError`` (with a
    did-you-mean) for a name not in the graph, :class:`OverlappingVariablesError`
    when a variable is both treatment and outcome, and ``WorkbenchInputError`` for
    an empty outcome set.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> g, x, y = check_query(dag([("x", "y")]), "x", "y")
    >>> type(g).__name__, x, y
    ('ADMG', {'x'}, {'y'})
    >>> check_query(dag([("x", "y")]), "x", "yy")
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown outcome 'yy'. Did you mean 'y'? Known outcomes: x, y.
    """
    validate(graph)  # CycleError / GraphError; no copy: nothing here mutates the graph
    g = graph if isinstance(graph, ADMG) else ADMG(graph, nx.Graph())
    x, y = as_set(treatments), as_set(outcomes)
    check_nodes(g, sorted(x, key=str), what="treatment")
    check_nodes(g, sorted(y, key=str), what="outcome")
    if not y:
        raise WorkbenchInputError("Give at least one outcome variable (the y in P(y | do(x))).")
    if need_treatment and not x:
        raise WorkbenchInputError("Give at least one treatment variable (the x in P(y | do(x))).")
    both = x & y
    if both:
        raise OverlappingVariablesError(
            f"{sorted(both, key=str)} cannot be both treatment and outcome: P(y | do(x)) needs "
            "disjoint sets. Remove them from one of the two."
        )
    return g, x, y
