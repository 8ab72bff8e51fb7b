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
from workbench.graphs import ADMG
from workbench.identification._inputs import check_query
from workbench.identification.derivation import Derivation, Step
from workbench.identification.tables import DiscreteTable
from workbench.identification.positivity import settle
from workbench.identification.expressions import (
    DoProbability, Expression, Probability, conditional, latex_name, marginalize, product,
)

__all__ = ["identify", "Identification", "Hedge", "HedgeError"]


def _names(nodes) -> str:
    return ", ".join(latex_name(v) for v in sorted(nodes, key=str))


def _set(nodes) -> str:
    return r"\{" + _names(nodes) + r"\}" if nodes else r"\emptyset"


@dataclass(frozen=True)
class Hedge:
    """Two c-forests ``F' < F`` that witness non-identifiability (Shpitser & Pearl, Def. 4).

    ``F`` and ``F'`` share their root set (inside the ancestors of the outcome),
    ``F`` contains treatment nodes and ``F'`` does not; two models that agree on
    every observational probability yet differ on ``P(y | do(x))`` can be built on
    them.
    """

    F: frozenset
    F_prime: frozenset

    def to_markdown(self) -> str:
        return (f"Not identifiable: the hedge $F = {_set(self.F)}$, $F' = {_set(self.F_prime)}$. "
                "Both are single c-components; $F$ contains treatments, $F'$ does not.")

    def __repr__(self) -> str:
        return f"Hedge(F={sorted(self.F, key=str)}, F_prime={sorted(self.F_prime, key=str)})"


class HedgeError(NotIdentifiableError):
    """``P(y | do(x))`` is not identifiable; ``.hedge`` holds the proof."""

    def __init__(self, query: str, hedge: Hedge):
        self.hedge = hedge
        super().__init__(
            f"{query} is not identifiable from observational data: {hedge!r} is a hedge "
            "(see .hedge, and the derivation). Measure a confounder, or use an experiment."
        )


@dataclass(frozen=True)
class Identification:
    """The answer of :func:`identify`: an estimand or a hedge, and the derivation."""

    query: DoProbability
    graph: ADMG
    derivation: Derivation
    expression: Expression | None = None
    hedge: Hedge | None = None

    @property
    def identifiable(self) -> bool:
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


class _Sub:
    """A read-only induced subgraph (NetworkX views, no copies): what ID recurses on."""

    def __init__(self, directed, bidirected):
        self.directed, self.bidirected = directed, bidirected
        self.nodes = list(directed.nodes)

    def subgraph(self, nodes) -> "_Sub":
        return _Sub(self.directed.subgraph(nodes), self.bidirected.subgraph(nodes))

    def c_components(self) -> list[frozenset]:
        return [frozenset(c) for c in nx.connected_components(self.bidirected)]


class _ID:
    """One run of ID; holds the fixed topological order and the derivation."""

    def __init__(self, graph: ADMG):
        self.order = list(nx.lexicographical_topological_sort(graph.directed, key=str))
        self.rank = {v: i for i, v in enumerate(self.order)}
        self.derivation = Derivation()

    def sort(self, nodes) -> list:
        return sorted(nodes, key=self.rank.__getitem__)

    def step(self, line, depth, y, x, p_is_joint, action, why, component=None) -> Step:
        sub = "_{" + _names(x) + "}" if x else ""
        query = f"P{sub}({_names(y)})" if p_is_joint else f"Q{sub}({_names(y)})"
        return self.derivation.add(Step(line, depth, query, action, why, component))

    def run(self, y: set, x: set, p: Expression, g: _Sub, depth: int) -> Expression:
        v = set(g.nodes)
        joint = isinstance(p, Probability) and not p.given
        # line 1
        if not x:
            what = f"sum ${_set(v - y)}$ out of the distribution." if v - y else "nothing to sum out."
            s = self.step(1, depth, y, x, joint, what,
                          "marginalisation (no intervention is left).")
            out = marginalize(p, v - y)
            s.result = out.to_latex()
            return out
        # line 2
        an_y = _ancestors(g.directed, y)
        if v != an_y:
            s = self.step(2, depth, y, x, joint,
                          f"keep only the ancestors ${_set(an_y)}$ of the outcome; "
                          f"sum out ${_set(v - an_y)}$.",
                          "non-ancestors of $Y$ cannot influence it: removing them (and the "
                          "treatments among them) leaves $P_x(y)$ unchanged.")
            out = self.run(y, x & an_y, marginalize(p, v - an_y), g.subgraph(self.sort(an_y)), depth + 1)
            s.result = out.to_latex()
            return out
        # line 3
        cut = nx.subgraph_view(g.directed, filter_edge=lambda a, b: b not in x)  # G with arrows into X cut
        w = (v - x) - _ancestors(cut, y)
        if w:
            s = self.step(3, depth, y, x, joint,
                          f"add $W = {_set(w)}$ to the treatments: in $G_{{\\overline{{X}}}}$ they "
                          "are not ancestors of $Y$.",
                          f"rule 3 of do-calculus: $(Y \\perp W \\mid X)$ in "
                          f"$G_{{\\overline{{X}}, \\overline{{W}}}}$.")
            out = self.run(y, x | w, p, g, depth + 1)
            s.result = out.to_latex()
            return out
        # line 4
        rest = g.subgraph(self.sort(v - x))
        districts = sorted(rest.c_components(), key=lambda c: self.rank[self.sort(c)[0]])
        if len(districts) > 1:
            names = ", ".join(f"${_set(c)}$" for c in districts)
            s = self.step(4, depth, y, x, joint,
                          f"$G \\setminus X$ has c-components {names}; multiply their "
                          f"interventional factors and sum out ${_set(v - (y | x))}$.",
                          "c-component factorisation (Tian & Pearl 2002).")
            factors = [self.run(set(c), v - set(c), p, g, depth + 1) for c in districts]
            out = marginalize(product(factors), v - (y | x))
            s.result = out.to_latex()
            return out
        (district,) = districts
        components = g.c_components()
        # line 5
        if len(components) == 1:
            hedge = Hedge(frozenset(v), frozenset(district))
            self.step(5, depth, y, x, joint,
                      f"$G$ is a single c-component ${_set(v)}$ and so is $G \\setminus X = "
                      f"{_set(district)}$.", "these two c-forests form a hedge.", frozenset(v))
            raise _Hedged(hedge)
        # line 6
        if district in components:
            s = self.step(6, depth, y, x, joint,
                          f"$S = {_set(district)}$ is a c-component of $G$: multiply "
                          "$P(v_i \\mid v_\\pi^{(i-1)})$ over $S$"
                          + (f" and sum out ${_set(district - y)}$." if district - y else "."),
                          "c-component factorisation; rule 2 turns each $do$ into conditioning.",
                          frozenset(district))
            out = marginalize(self.factor(p, v, district), district - y)
            s.result = out.to_latex()
            return out
        # line 7
        bigger = next(c for c in components if district < c)
        s = self.step(7, depth, y, x, joint,
                      f"$S = {_set(district)}$ lies inside the c-component $S' = {_set(bigger)}$: "
                      "recurse on $G_{S'}$ with "
                      "$Q = \\prod_{v_i \\in S'} P(v_i \\mid v_\\pi^{(i-1)})$.",
                      "c-component factorisation: $Q$ is the distribution of $S'$ under "
                      "$do(V \\setminus S')$.", frozenset(bigger))
        q = self.factor(p, v, bigger)
        out = self.run(y, x & bigger, q, g.subgraph(self.sort(bigger)), depth + 1)
        s.result = out.to_latex()
        return out

    def factor(self, p: Expression, scope: set, component) -> Expression:
        """``prod_{v_i in component} P(v_i | v_pi^(i-1))``, predecessors taken within ``scope``."""
        ordered = self.sort(scope)
        return product(conditional(p, scope, [vi], ordered[: ordered.index(vi)])
                       for vi in self.sort(component))


def _ancestors(directed: nx.DiGraph, nodes) -> set:
    out = set(nodes)
    for n in nodes:
        out |= nx.ancestors(directed, n)
    return out


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
    """
    g, x, y = check_query(graph, treatments, outcomes)
    run = _ID(g)
    query = DoProbability(tuple(y), tuple(x))
    try:
        expr = run.run(y, x, Probability(tuple(g.nodes)), _Sub(g.directed, g.bidirected), 0)
    except _Hedged as hedged:
        return Identification(query, g, run.derivation, hedge=hedged.hedge)
    return Identification(query, g, run.derivation, expression=expr)
