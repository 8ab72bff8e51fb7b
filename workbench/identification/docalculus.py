"""The three rules of do-calculus as statements you can check on a graph.

Each rule says when one interventional expression equals another, *if* a
d-separation holds in a mutilated graph (Pearl 1995). Writing ``G_{bar X}`` for
``G`` with arrows *into* ``X`` removed and ``G_{underline Z}`` for arrows *out of*
``Z`` removed:

1. observations:  ``P(y | do(x), z, w) = P(y | do(x), w)``          if ``(Y _||_ Z | X, W)`` in ``G_{bar X}``
2. action/observation: ``P(y | do(x), do(z), w) = P(y | do(x), z, w)`` if ``(Y _||_ Z | X, W)`` in ``G_{bar X, underline Z}``
3. actions:       ``P(y | do(x), do(z), w) = P(y | do(x), w)``       if ``(Y _||_ Z | X, W)`` in ``G_{bar X, bar Z(W)}``

where ``Z(W)`` are the ``Z``-nodes that are not ancestors of any ``W``-node in
``G_{bar X}``. Each function returns a :class:`RuleCheck` that says which graph was
built, which independence was tested there, and whether the rule applies.

Examples
--------
>>> from workbench.graphs import admg
>>> from workbench.identification.docalculus import rule2
>>> fd = admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")])
>>> check = rule2(fd, y="z", z="x")            # P(z | do(x)) = P(z | x) ?
>>> check.holds, check.graph_name
(True, 'G_{\\\\underline{x}}')
>>> print(check.statement)
P(z | do(x)) = P(z | x)
>>> rule2(fd, y="y", z="z").holds                 # P(y | do(z)) = P(y | z) ? no: z <- x <-> y
False
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.graphs import ADMG, ancestors, d_separated, mutilate
from workbench.identification._inputs import OverlappingVariablesError, as_set, check_query
from workbench.identification.expressions import DoProbability, latex_name

__all__ = ["RuleCheck", "rule1", "rule2", "rule3", "cut_outgoing", "cut_incoming"]


def cut_incoming(graph: ADMG, nodes) -> ADMG:
    """``G_{bar nodes}``: remove arrows into ``nodes`` (and their bidirected edges).

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> cut_incoming(admg([("z", "x"), ("x", "y")], bidirected=[("x", "y")]), ["x"])
    ADMG([x->y])
    """
    return mutilate(graph, list(nodes))


def cut_outgoing(graph: ADMG, nodes) -> ADMG:
    """``G_{underline nodes}``: remove directed edges out of ``nodes`` (a new graph).

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> cut_outgoing(admg([("z", "x"), ("x", "y")]), ["x"])
    ADMG([z->x])
    """
    d = graph.directed.copy()
    d.remove_edges_from([(a, b) for a in nodes for b in list(d.successors(a))])
    return ADMG(d, graph.bidirected.copy())


def _set_latex(nodes) -> str:
    return ", ".join(latex_name(v) for v in sorted(nodes, key=str)) or r"\emptyset"


@dataclass(frozen=True)
class RuleCheck:
    """The outcome of checking one rule of do-calculus.

    Attributes
    ----------
    rule : int
        1, 2 or 3.
    holds : bool
        Whether the d-separation holds, so the two sides are equal.
    graph : ADMG
        The mutilated graph the independence was tested in.
    graph_name : str
        Its LaTeX name, e.g. ``G_{\\overline{X}, \\underline{Z}}``.
    independence : str
        The tested statement in LaTeX, ``(Y \\perp Z \\mid X, W)``.
    lhs, rhs : DoProbability
        The two sides of the equality the rule licenses.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> r = rule2(fd, y="y", z="z", w="x")
    >>> r.holds
    True
    """

    rule: int
    holds: bool
    graph: ADMG
    graph_name: str
    independence: str
    lhs: DoProbability
    rhs: DoProbability

    @property
    def statement(self) -> str:
        """The equality in plain text (``=`` when it holds, ``!=`` otherwise)."""
        return f"{self.lhs} {'=' if self.holds else '!='} {self.rhs}"

    def to_latex(self) -> str:
        """The rule's equation and its graphical condition, in LaTeX."""
        rel = "=" if self.holds else r"\neq"
        verdict = "holds" if self.holds else "fails"
        return (f"{self.lhs.to_latex()} {rel} {self.rhs.to_latex()} \\quad \\text{{since }} "
                f"{self.independence} \\text{{ {verdict} in }} {self.graph_name}")

    def _repr_latex_(self) -> str:
        return f"${self.to_latex()}$"

    def __repr__(self) -> str:
        return f"<RuleCheck rule {self.rule}: {self.statement}; tested {self.independence} in {self.graph_name}>"


def _prepare(graph, y, z, x, w):
    g, z_set, y_set = check_query(graph, z, y)
    x_set, w_set = as_set(x), as_set(w)
    check_query(g, x_set, y_set)
    if w_set:
        check_query(g, (), w_set)
    sets = {"y": y_set, "z": z_set, "x": x_set, "w": w_set}
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if sets[a] & sets[b]:
                raise OverlappingVariablesError(
                    f"The sets {a} and {b} share {sorted(sets[a] & sets[b], key=str)}; the rules "
                    "of do-calculus need disjoint y, z, x and w."
                )
    return g, y_set, z_set, x_set, w_set


def _graph_name(bar: list, under: list) -> str:
    """The graph's LaTeX name, with the actual node sets (empty ones left out)."""
    parts = [r"\overline{" + _set_latex(s) + "}" for s in bar if s]
    parts += [r"\underline{" + _set_latex(s) + "}" for s in under if s]
    return "G_{" + ", ".join(parts) + "}" if parts else "G"


def _check(rule, g, y, z, x, w, name, lhs, rhs) -> RuleCheck:
    holds = d_separated(g, y, z, x | w)
    indep = rf"({_set_latex(y)} \perp {_set_latex(z)} \mid {_set_latex(x | w)})"
    return RuleCheck(rule, holds, g, name, indep, lhs, rhs)


def rule1(graph, y, z, *, x=(), w=()) -> RuleCheck:
    """Rule 1: may the observation ``z`` be dropped from ``P(y | do(x), z, w)``?

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> rule1(fd, y="y", z="x", w="z").holds            # P(y | z, x) = P(y | z)?  no: x <-> y
    False
    """
    g, y, z, x, w = _prepare(graph, y, z, x, w)
    m = cut_incoming(g, x)
    name = _graph_name([x], [])
    return _check(1, m, y, z, x, w, name, DoProbability(y, x, z | w), DoProbability(y, x, w))


def rule2(graph, y, z, *, x=(), w=()) -> RuleCheck:
    """Rule 2: may the action ``do(z)`` be exchanged for the observation ``z``?

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> rule2(fd, y="z", z="x").holds                    # P(z | do(x)) = P(z | x)
    True
    """
    g, y, z, x, w = _prepare(graph, y, z, x, w)
    m = cut_outgoing(cut_incoming(g, x), z)
    name = _graph_name([x], [z])
    return _check(2, m, y, z, x, w, name, DoProbability(y, x | z, w), DoProbability(y, x, z | w))


def rule3(graph, y, z, *, x=(), w=()) -> RuleCheck:
    """Rule 3: may the action ``do(z)`` be dropped from ``P(y | do(x), do(z), w)``?

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> rule3(fd, y="x", z="z").holds                    # P(x | do(z)) = P(x)
    True
    """
    g, y, z, x, w = _prepare(graph, y, z, x, w)
    gx = cut_incoming(g, x)
    z_w = z - ancestors(gx, w)
    m = cut_incoming(gx, z_w)
    name = _graph_name([x, z_w], [])
    return _check(3, m, y, z, x, w, name, DoProbability(y, x | z, w), DoProbability(y, x, w))
