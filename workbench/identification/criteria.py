"""Back-door and front-door criteria, adjustment-set search, and their estimands.

Back-door (Pearl 1993): a set ``Z`` of observed variables is admissible for the
effect of ``X`` on ``Y`` when (i) no ``Z``-node is a descendant of an ``X``-node and
(ii) ``Z`` blocks every path between ``X`` and ``Y`` that starts with an arrow *into*
``X``, i.e. ``(X _||_ Y | Z)`` in ``G_{underline X}`` (arrows out of ``X`` cut). Then
``P(y | do(x)) = sum_z P(y | x, z) P(z)``.

Front-door (Pearl 1995): ``Z`` is admissible when (i) ``Z`` intercepts every directed
path from ``X`` to ``Y``, (ii) there is no unblocked back-door path from ``X`` to ``Z``
and (iii) every back-door path from ``Z`` to ``Y`` is blocked by ``X``. Then
``P(y | do(x)) = sum_z P(z | x) sum_{x'} P(y | x', z) P(x')``.

Examples
--------
>>> from workbench.identification.fixtures import FIXTURES
>>> from workbench.identification.criteria import backdoor_sets, frontdoor_effect, check_frontdoor
>>> backdoor_sets(FIXTURES["backdoor"].graph, "x", "y")
[frozenset({'z'})]
>>> check_frontdoor(FIXTURES["frontdoor"].graph, "x", "y", "z").holds
True
>>> import torch
>>> joint = torch.full((2, 2, 2), 1 / 8)          # axes (x, z, y), uniform
>>> frontdoor_effect(joint, "x", "z", "y")
tensor([[0.5000, 0.5000],
        [0.5000, 0.5000]], dtype=torch.float64)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import torch

from workbench.errors import WorkbenchInputError
from workbench.graphs import check_nodes, d_separated, descendants
from workbench.graphs.separators import minimal_d_separators
from workbench.identification._inputs import OverlappingVariablesError, as_set, check_query
from workbench.identification.docalculus import cut_outgoing
from workbench.identification.expressions import Expression, Probability, Sum
from workbench.identification.simplify import marginalize, product
from workbench.identification.tables import DiscreteTable

__all__ = [
    "CriterionCheck", "check_backdoor", "backdoor_sets", "minimal_backdoor_set",
    "backdoor_estimand", "check_frontdoor", "frontdoor_estimand", "frontdoor_effect",
]


@dataclass(frozen=True)
class CriterionCheck:
    """Whether a set satisfies a criterion, condition by condition.

    ``conditions`` is a list of ``(description, satisfied)`` pairs; ``holds`` is
    their conjunction.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> check = check_frontdoor(fd, "x", "y", "z")
    >>> check.holds, len(check.conditions) > 0
    (True, True)
    """

    criterion: str
    adjustment: frozenset
    conditions: list = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Whether every condition of the criterion is met."""
        return all(ok for _, ok in self.conditions)

    def to_markdown(self) -> str:
        """The verdict and each condition, as a Markdown list."""
        z = ", ".join(sorted(map(str, self.adjustment), key=str))
        lines = [f"**{self.criterion}** with Z = {{{z}}}" if z else f"**{self.criterion}** with Z = ∅"]
        lines[0] += f": {'holds' if self.holds else 'fails'}"
        lines += [f"- {'✓' if ok else '✗'} {text}" for text, ok in self.conditions]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        z = ", ".join(sorted(map(str, self.adjustment)))
        return f"<CriterionCheck {self.criterion} with Z = {{{z}}}: {'holds' if self.holds else 'fails'}>"


def _query(graph, x, y, z, role: str = "adjustment variable"):
    g, x, y = check_query(graph, x, y, need_treatment=True)
    z = as_set(z)
    check_nodes(g, sorted(z, key=str), what=role)
    if z & (x | y):
        raise OverlappingVariablesError(
            f"The {role}s share {sorted(z & (x | y), key=str)} with the treatment or "
            f"outcome; {role}s must be disjoint from both."
        )
    return g, x, y, z


def check_backdoor(graph, treatments, outcomes, adjustment) -> CriterionCheck:
    """Check the back-door criterion for ``adjustment`` relative to ``(treatments, outcomes)``.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> check_backdoor(FIXTURES["m_bias"].graph, "x", "y", {"m"}).holds       # conditioning opens a collider
    False
    """
    g, x, y, z = _query(graph, treatments, outcomes, adjustment)
    desc = descendants(g, x, inclusive=False)
    return CriterionCheck("back-door", frozenset(z), [
        ("no adjustment variable is a descendant of the treatment", not (z & desc)),
        ("Z blocks every back-door path: (X ⊥ Y | Z) in G with the arrows out of X cut",
         d_separated(cut_outgoing(g, x), x, y, z)),
    ])


def _backdoor_candidates(g, x, y) -> list:
    desc = descendants(g, x, inclusive=False)
    return sorted(set(g.nodes) - x - y - desc, key=str)


def backdoor_sets(graph, treatments, outcomes, *, max_size: int | None = None,
                  max_sets: int = 10_000) -> list[frozenset]:
    """All *minimal* back-door adjustment sets (no proper subset is admissible).

    They are the minimal d-separators of treatment and outcome in the graph with the
    arrows out of the treatment cut, restricted to observed non-descendants of the
    treatment, listed by :func:`workbench.graphs.separators.minimal_d_separators` at
    polynomial cost per set (not by trying every subset). Sorted by size, then names;
    ``max_size`` keeps only sets of at most that size. More than ``max_sets`` sets
    raise :class:`~workbench.graphs.separators.SearchLimitError`.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> backdoor_sets(FIXTURES["backdoor"].graph, "x", "y")
    [frozenset({'z'})]
    """
    g, x, y, _ = _query(graph, treatments, outcomes, ())
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0):
        raise WorkbenchInputError(f"max_size must be a non-negative integer or None, got {max_size!r}.")
    found = minimal_d_separators(cut_outgoing(g, x), x, y, restricted=set(_backdoor_candidates(g, x, y)),
                                 max_sets=max_sets)
    return found if max_size is None else [s for s in found if len(s) <= max_size]


def minimal_backdoor_set(graph, treatments, outcomes) -> frozenset | None:
    """One minimal back-door set (NetworkX's ``find_minimal_d_separator``), or ``None``.

    Polynomial time, so fine for large graphs. Latent confounders (bidirected
    edges) are never chosen.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> minimal_backdoor_set(FIXTURES["backdoor"].graph, "x", "y")
    frozenset({'z'})
    """
    g, x, y, _ = _query(graph, treatments, outcomes, ())
    dag = cut_outgoing(g, x).to_canonical_dag()
    found = nx.find_minimal_d_separator(dag, x, y, restricted=set(_backdoor_candidates(g, x, y)))
    return None if found is None else frozenset(found)


def backdoor_estimand(treatments, outcomes, adjustment) -> Expression:
    """``sum_z P(y | x, z) P(z)`` (``P(y | x)`` when ``Z`` is empty).

    Examples
    --------
    >>> print(backdoor_estimand("x", "y", {"z"}))
    sum_{z} P(y | x, z) P(z)
    """
    x, y, z = as_set(treatments), as_set(outcomes), as_set(adjustment)
    if not z:
        return Probability(y, x)
    return marginalize(product([Probability(y, x | z), Probability(z)]), z)


def check_frontdoor(graph, treatments, outcomes, mediators) -> CriterionCheck:
    """Check the front-door criterion for ``mediators`` relative to ``(treatments, outcomes)``.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> check_frontdoor(fd, "x", "y", "z").holds
    True
    """
    g, x, y, z = _query(graph, treatments, outcomes, mediators, role="mediator")
    without_z = g.directed.subgraph(set(g.nodes) - z)
    no_path = not any(nx.has_path(without_z, a, b) for a in x for b in y)
    return CriterionCheck("front-door", frozenset(z), [
        ("Z intercepts every directed path from X to Y", no_path and bool(z)),
        ("no unblocked back-door path from X to Z: (X ⊥ Z) in G with the arrows out of X cut",
         bool(z) and d_separated(cut_outgoing(g, x), x, z, ())),
        ("X blocks every back-door path from Z to Y: (Z ⊥ Y | X) in G with the arrows out of Z cut",
         bool(z) and d_separated(cut_outgoing(g, z), z, y, x)),
    ])


def frontdoor_estimand(treatments, outcomes, mediators) -> Expression:
    """``sum_z P(z | x) sum_{x'} P(y | x', z) P(x')``.

    Examples
    --------
    >>> print(frontdoor_estimand("x", "y", "z"))
    sum_{z} P(z | x) [sum_{x} P(y | x, z) P(x)]
    """
    x, y, z = as_set(treatments), as_set(outcomes), as_set(mediators)
    if not (x and y and z):
        raise WorkbenchInputError("The front-door estimand needs non-empty treatment, outcome and mediator sets.")
    inner = Sum(tuple(x), product([Probability(y, x | z), Probability(x)]))
    return marginalize(product([Probability(z, x), inner]), z)


def frontdoor_effect(joint, treatment="x", mediator="z", outcome="y") -> torch.Tensor:
    """``P(outcome | do(treatment))`` by the front-door formula, from a joint table.

    Parameters
    ----------
    joint : DiscreteTable or torch.Tensor
        The observational joint. A plain tensor must have axes
        ``(treatment, mediator, outcome)`` in that order.
    treatment, mediator, outcome : str
        Variable names (axis names of a :class:`DiscreteTable`).

    Returns
    -------
    torch.Tensor
        Shape ``(|treatment|, |outcome|)``; row ``a`` is ``P(outcome | do(treatment = a))``.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> fd = FIXTURES["frontdoor"].graph
    >>> from workbench.identification import random_discrete_model
    >>> m = random_discrete_model(fd, seed=0)
    >>> effect = frontdoor_effect(m.observational())
    >>> bool((effect - m.interventional("x", "y").permute(("x", "y")).values).abs().max() < 1e-10)
    True
    """
    if not isinstance(joint, DiscreteTable):
        joint = DiscreteTable((treatment, mediator, outcome), joint)
    effect = frontdoor_estimand(treatment, outcome, mediator).evaluate(joint)
    return effect.permute((treatment, outcome)).values
