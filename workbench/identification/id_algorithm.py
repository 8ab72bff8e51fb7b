"""The ID algorithm (Shpitser & Pearl, 2006) with a derivation a learner can follow.

``identify(graph, treatments, outcomes)`` answers "can ``P(y | do(x))`` be computed
from the observational distribution of the graph's variables, and how?". It
returns an :class:`Identification`: either an estimand (an expression built from
observational probabilities) or a :class:`Hedge`, the pair of c-forests ``F' < F``
that proves the effect is not identifiable. Either way the :class:`Derivation`
lists every line of the algorithm that fired, in order.

The seven lines (``P`` is the current distribution, ``G`` the current graph, ``V``
its nodes, ``C(.)`` its c-components):

1. ``x`` empty: return ``sum_{v - y} P``.
2. ``V`` not all ancestors of ``y``: restrict to ``An(y)``.
3. ``W = (V - X) - An(Y)`` in ``G`` with arrows into ``X`` cut: add ``W`` to ``X``.
4. ``C(G - X) = {S_1..S_k}``, ``k > 1``: ``sum_{v-(y,x)} prod_i ID(s_i, v - s_i)``.
5. ``C(G - X) = {S}`` and ``C(G) = {G}``: fail with the hedge ``(G, S)``.
6. ``S`` is a c-component of ``G``: ``sum_{s - y} prod_{v_i in S} P(v_i | v_pi^(i-1))``.
7. ``S`` lies inside a c-component ``S'`` of ``G``: recurse on ``G_{S'}`` with
   ``P' = prod_{v_i in S'} P(v_i | v_pi^(i-1))``.

Examples
--------
>>> from workbench.graphs import admg
>>> from workbench.identification import identify
>>> front_door = admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")])
>>> result = identify(front_door, "x", "y")
>>> print(result.estimand)
sum_{z} P(z | x) [sum_{x} P(x) P(y | x, z)]
>>> print(result.estimand.to_latex())   # the inner, bound x is primed
\\sum_{z} P(z \\mid x) \\, \\left(\\sum_{x'} P(x') \\, P(y \\mid x', z)\\right)
>>> result.derivation.lines
[4, 2, 6, 7, 2, 1]
>>> bow = admg([("x", "y")], bidirected=[("x", "y")])
>>> identify(bow, "x", "y").hedge
Hedge(F=['x', 'y'], F_prime=['y'])
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from workbench.errors import NotIdentifiableError
from workbench.graphs import ADMG, ancestors
from workbench.identification._inputs import check_query
from workbench.identification.derivation import Derivation, Step
from workbench.identification.tables import DiscreteTable
from workbench.identification.positivity import settle
from workbench.identification.expressions import DoProbability, Expression, Probability
from workbench.identification.simplify import conditional, marginalize, product
from workbench.identification.narration import latex_set

__all__ = ["identify", "Identification", "Hedge", "HedgeError"]


@dataclass(frozen=True)
class Hedge:
    """Two c-forests ``F' < F`` that witness non-identifiability (Shpitser & Pearl, Def. 4).

    ``F`` and ``F'`` share their root set (inside the ancestors of the outcome),
    ``F`` contains treatment nodes and ``F'`` does not; two models that agree on
    every observational probability yet differ on ``P(y | do(x))`` can be built on
    them.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> h = identify(admg([("x", "y")], bidirected=[("x", "y")]), "x", "y").hedge
    >>> sorted(h.F), sorted(h.F_prime)
    (['x', 'y'], ['y'])
    """

    F: frozenset
    F_prime: frozenset

    def to_markdown(self) -> str:
        """The hedge as a Markdown sentence with LaTeX sets."""
        return (f"Not identifiable: the hedge $F = {latex_set(self.F)}$, $F' = {latex_set(self.F_prime)}$. "
                "Both are single c-components; $F$ contains treatments, $F'$ does not.")

    def __repr__(self) -> str:
        return f"Hedge(F={sorted(self.F, key=str)}, F_prime={sorted(self.F_prime, key=str)})"


class HedgeError(NotIdentifiableError):
    """``P(y | do(x))`` is not identifiable; ``.hedge`` holds the proof.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> identify(admg([("x", "y")], bidirected=[("x", "y")]), "x", "y").estimand
    Traceback (most recent call last):
    ...
    workbench.identification.id_algorithm.HedgeError: P(y | do(x)) is not identifiable from observational data: ...
    """

    def __init__(self, query: str, hedge: Hedge):
        self.hedge = hedge
        super().__init__(
            f"{query} is not identifiable from observational data: {hedge!r} is a hedge "
            "(see .hedge, and the derivation). Measure a confounder, or use an experiment."
        )


@dataclass(frozen=True)
class Identification:
    """The answer of :func:`identify`: an estimand or a hedge, and the derivation.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> r = identify(admg([("z", "x"), ("z", "y"), ("x", "y")]), "x", "y")
    >>> r.identifiable, str(r.estimand)
    (True, 'sum_{z} P(z) P(y | x, z)')
    """

    query: DoProbability
    graph: ADMG
    derivation: Derivation
    expression: Expression | None = None
    hedge: Hedge | None = None

    @property
    def identifiable(self) -> bool:
        """Whether ``P(y | do(x))`` is identifiable (no hedge was found)."""
        return self.hedge is None

    @property
    def estimand(self) -> Expression:
        """The estimand; raises :class:`HedgeError` when the effect is not identifiable."""
        if self.hedge is not None:
            raise HedgeError(str(self.query), self.hedge)
        return self.expression

    def evaluate(self, table: DiscreteTable, *, on_undefined: str = "raise") -> DiscreteTable:
        """The estimand on ``table`` as a table over exactly the treatments and outcomes.

        An ID estimand can mention other variables on which, in the true
        distribution, it does not depend (the napkin's ``w2``, a Verma constraint).
        Those are averaged out under their marginal in ``table``: exact tables give
        the same value for every weighting, samples give a stable average.
        A positivity violation raises or gives NaN, as in :meth:`Expression.evaluate`.
        """
        est, evaluation = self.estimand.evaluate_raw(table, on_undefined)
        keep = set(self.query.outcomes) | set(self.query.treatments)
        extra = [v for v in est.variables if v not in keep]
        if extra:
            est = est.weighted_product(table.marginal(extra)).sum_out(extra)
        order = [v for v in self.graph.nodes if v in keep]
        cards = table.cardinalities
        est = est.expand({v: cards[v] for v in order}).permute(order)
        return settle(str(self.query), est, evaluation, on_undefined)

    def to_markdown(self) -> str:
        """The query, the estimand (or the hedge) and the derivation, in Markdown."""
        head = f"$${self.query.to_latex()}"
        head += f" = {self.expression.to_latex()}$$" if self.identifiable else r" \text{ is not identifiable}$$"
        tail = "" if self.identifiable else "\n\n" + self.hedge.to_markdown()
        return head + "\n\n" + self.derivation.to_markdown() + tail

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        answer = f" = {self.expression}" if self.identifiable else f": not identifiable, {self.hedge!r}"
        return f"<Identification {self.query}{answer}; {len(self.derivation)} steps>"


class _Hedged(Exception):
    """Internal: unwinds the recursion when line 5 fires."""

    def __init__(self, hedge: Hedge):
        self.hedge = hedge


class _ID:
    """One run of ID; holds the fixed topological order and the derivation (bare steps)."""

    def __init__(self, graph: ADMG):
        # check_query has validated the graph; topological_order would validate it again
        self.order = list(nx.lexicographical_topological_sort(graph.directed, key=str))
        self.rank = {v: i for i, v in enumerate(self.order)}
        self.derivation = Derivation()

    def sort(self, nodes) -> list:
        return sorted(nodes, key=self.rank.__getitem__)

    def step(self, line, depth, y, x, p, component=None, **facts) -> Step:
        joint = isinstance(p, Probability) and not p.given
        return self.derivation.add(Step(line, depth, frozenset(y), frozenset(x), joint,
                                        {k: frozenset(f) if isinstance(f, set) else f
                                         for k, f in facts.items()}, component))

    def run(self, y: set, x: set, p: Expression, g: ADMG, depth: int) -> Expression:
        v = set(g.nodes)
        if not x:  # line 1
            s = self.step(1, depth, y, x, p, summed=v - y)
            out = marginalize(p, v - y)
        elif v != (an_y := ancestors(g, y)):  # line 2
            s = self.step(2, depth, y, x, p, kept=an_y, dropped=v - an_y)
            out = self.run(y, x & an_y, marginalize(p, v - an_y), g.view(self.sort(an_y)), depth + 1)
        elif w := (v - x) - ancestors(_arrows_into_cut(g, x), y):  # line 3
            s = self.step(3, depth, y, x, p, w=w)
            out = self.run(y, x | w, p, g, depth + 1)
        else:
            return self.split(y, x, p, g, v, depth)
        s.returned = out
        return out

    def split(self, y, x, p, g: ADMG, v: set, depth: int) -> Expression:
        """Lines 4-7: the c-components of ``G \\ X`` against those of ``G``."""
        districts = sorted(g.view(self.sort(v - x)).c_components(), key=lambda c: self.rank[self.sort(c)[0]])
        if len(districts) > 1:  # line 4
            s = self.step(4, depth, y, x, p, districts=districts, summed=v - (y | x))
            factors = [self.run(set(c), v - set(c), p, g, depth + 1) for c in districts]
            out = marginalize(product(factors), v - (y | x))
            s.returned = out
            return out
        (district,) = districts
        components = g.c_components()
        if len(components) == 1:  # line 5
            self.step(5, depth, y, x, p, frozenset(v), graph=v, district=district)
            raise _Hedged(Hedge(frozenset(v), frozenset(district)))
        if district in components:  # line 6
            s = self.step(6, depth, y, x, p, frozenset(district), district=district, summed=district - y)
            out = marginalize(self.factor(p, v, district), district - y)
        else:  # line 7
            bigger = next(c for c in components if district < c)
            s = self.step(7, depth, y, x, p, frozenset(bigger), district=district, bigger=bigger)
            out = self.run(y, x & bigger, self.factor(p, v, bigger), g.view(self.sort(bigger)), depth + 1)
        s.returned = out
        return out

    def factor(self, p: Expression, scope: set, component) -> Expression:
        """``prod_{v_i in component} P(v_i | v_pi^(i-1))``, predecessors taken within ``scope``."""
        ordered = self.sort(scope)
        return product(conditional(p, scope, [vi], ordered[: ordered.index(vi)])
                       for vi in self.sort(component))


def _arrows_into_cut(g: ADMG, x: set) -> nx.DiGraph:
    """``G`` with the arrows into ``x`` cut, as a view (line 3's ``G_{\\overline{X}}``)."""
    return nx.subgraph_view(g.directed, filter_edge=lambda a, b: b not in x)


def identify(graph, treatments, outcomes) -> Identification:
    """Run ID for ``P(outcomes | do(treatments))`` on a DAG or ADMG.

    Parameters
    ----------
    graph : networkx.DiGraph or ADMG
        The causal graph; bidirected edges stand for hidden common causes.
    treatments, outcomes : node or iterable of nodes
        Disjoint sets ``x`` and ``y`` (a single name is a one-element set).

    Returns
    -------
    Identification
        ``.identifiable``, ``.estimand`` (an :class:`Expression` over ``x`` and ``y``),
        ``.hedge`` (when not identifiable) and ``.derivation``.

    Raises
    ------
    CycleError, UnknownVariableError, OverlappingVariablesError
        For a cyclic graph, a name not in the graph, or a variable in both roles.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> str(identify(admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")]), "x", "y").estimand)
    'sum_{z} P(z | x) [sum_{x} P(x) P(y | x, z)]'
    """
    g, x, y = check_query(graph, treatments, outcomes)
    run = _ID(g)
    query = DoProbability(tuple(y), tuple(x))
    try:
        expr = run.run(y, x, Probability(tuple(g.nodes)), g.view(g.nodes), 0)
    except _Hedged as hedged:
        return Identification(query, g, run.derivation, hedge=hedged.hedge)
    return Identification(query, g, run.derivation, expression=expr)
