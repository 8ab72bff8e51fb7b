"""Interventions from observational data: when surgery is sound, and how to compute it.

Surgery on the generating model (:func:`workbench.diagrams.surgery.interventional`)
needs every table, hidden ones included. From the observational joint of the observed
variables alone, two shapes of causal graph are covered here:

``"no hidden"``
    Every variable is observed. Each box's table is the observational conditional
    ``P(v | parents(v))`` (a disintegration of the joint), and surgery on the diagram
    with those tables gives ``P(rest | do(X))``.
``"front door"``
    The sufficient condition of Jacobs, Kissinger & Zanasi (2019), whose instance is
    smoking -> tar -> cancer with a hidden genotype behind smoking and cancer. With
    ``Z`` the children of ``X`` and ``Y`` the other observed variables, the graph must
    satisfy

    1. ``X`` has no observed parents (its causes are hidden);
    2. every child of ``X`` is observed (``Z`` is not empty);
    3. each variable in ``Z`` has parents only in ``{X} ∪ Z`` (no hidden cause, no cause in ``Y``);
    4. hidden variables have no observed parents (together they are one hidden state).

    Then the joint is a comb ``(ω_X, ω_{Y|X,Z})`` around the channel ``X -> Z`` and
    ``P(Z, Y | do(X)) = ω(z|x) Σ_{x'} ω(x') ω(y|x', z)`` — when ``ω`` has full support on
    ``X ⊗ Z`` (else :class:`~workbench.diagrams.errors.SupportError`).

Any other shape raises :class:`~workbench.diagrams.errors.SurgeryConditionsError`
naming the condition that fails. These conditions are sufficient, not necessary, so the
message also says what the ID algorithm (:mod:`workbench.identification`) finds on the
latent projection: the estimand when the effect is identifiable after all, or that no
method can compute it (a hedge) when it is not.

Examples
--------
>>> from workbench.graphs import dag
>>> g = dag([("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")])
>>> surgery_conditions(g, "x", hidden=["h"])
SurgeryShape(kind='front door', treatment='x', mediators=('z',), rest=('y',), hidden=('h',))
>>> surgery_conditions(dag([("h", "x"), ("h", "y"), ("x", "y")]), "x", hidden=["h"])
Traceback (most recent call last):
...
workbench.diagrams.errors.SurgeryConditionsError: Cannot compute do(x) from observational data by surgery: ... not identifiable ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import networkx as nx

from workbench.diagrams.causal import hidden_nodes
from workbench.diagrams.comb import comb_disintegrate
from workbench.diagrams.errors import SupportError, SurgeryConditionsError, WireMismatchError
from workbench.diagrams.kernels import Kernel
from workbench.diagrams.surgery import interventional
from workbench.errors import UnknownVariableError
from workbench.graphs import ADMG, check_nodes, topological_order
from workbench.graphs.projection import latent_projection

__all__ = ["SurgeryShape", "surgery_conditions", "from_observational", "observational_tables"]


@dataclass(frozen=True)
class SurgeryShape:
    """Which sufficient condition holds, and the roles of the variables.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> surgery_conditions(dag([("x", "y")]), "x").kind
    'no hidden'
    """

    kind: str
    treatment: str
    mediators: tuple
    rest: tuple
    hidden: tuple


def _as_dag(graph, hidden):
    if isinstance(graph, ADMG):
        g = graph.to_canonical_dag()
        return g, hidden_nodes(g, hidden)
    return graph, hidden_nodes(graph, hidden)


def _verdict(g, hid, x, outcome) -> str:
    """What the ID algorithm says about ``P(outcome | do(x))`` on the latent projection."""
    from workbench.identification import identify   # the area above: imported when needed

    if x in hid:
        return ""
    observed = [v for v in topological_order(g) if v not in hid and v != x]
    outcome = [v for v in (outcome if outcome is not None else observed) if v in observed]
    if not outcome:
        return ""
    result = identify(latent_projection(g, hid), [x], outcome)
    if result.identifiable:
        return (f" These conditions are sufficient, not necessary: the do-calculus does identify "
                f"{result.query} = {result.estimand} (workbench.identification.identify).")
    hedge = result.hedge
    return (f" No method can: {result.query} is not identifiable from observational data (the ID "
            f"algorithm finds a hedge, F = {sorted(hedge.F, key=str)}, F' = {sorted(hedge.F_prime, key=str)}).")


def surgery_conditions(graph, treatment: str, *, hidden: Iterable[str] | None = None,
                       outcome: Sequence[str] | None = None) -> SurgeryShape:
    """Check which sufficient condition covers ``do(treatment)``; raise if none does.

    ``graph`` is a DAG whose hidden nodes are marked (``latent=True`` or ``hidden=``), or
    an ADMG (each bidirected edge becomes a hidden common cause). ``outcome`` (default:
    every other observed variable) only shapes the refusal's verdict on identifiability.

    Examples
    --------
    >>> from workbench.diagrams.models import smoking_example
    >>> surgery_conditions(smoking_example().graph, "smoking").kind
    'front door'
    """
    g, hid = _as_dag(graph, hidden)
    check_nodes(g, [treatment])
    x = treatment

    def _fail(x: str, why: str) -> SurgeryConditionsError:
        return SurgeryConditionsError(
            f"Cannot compute do({x}) from observational data by surgery: {why}"
            + _verdict(g, hid, x, outcome))
    if x in hid:
        raise _fail(x, f"{x!r} is hidden; only an observed variable can be intervened on here.")
    observed = [v for v in topological_order(g) if v not in hid]
    if not hid:
        return SurgeryShape("no hidden", x, (), tuple(v for v in observed if v != x), ())
    pa_x = [p for p in g.predecessors(x) if p not in hid]
    if pa_x:
        raise _fail(x, f"condition 1 fails: {x!r} has observed parents {sorted(pa_x)}; its "
                       "causes must all be hidden.")
    z = sorted(g.successors(x), key=str)
    if not z or any(c in hid for c in z):
        raise _fail(x, f"condition 2 fails: every child of {x!r} must be observed and there must "
                       f"be at least one (children: {z}, hidden: {hid}).")
    for m in z:
        bad = [p for p in g.predecessors(m) if p != x and p not in z]
        if bad:
            raise _fail(x, f"condition 3 fails: {m!r}, a child of {x!r}, has parents "
                           f"{sorted(bad, key=str)} outside {{{x}}} ∪ {z}; every child of {x!r} "
                           "must be a mediator that nothing else (hidden or not) causes.")
    for h in hid:
        bad = [p for p in g.predecessors(h) if p not in hid]
        if bad:
            raise _fail(x, f"condition 4 fails: hidden {h!r} has observed parents {sorted(bad)}.")
    rest = tuple(v for v in observed if v != x and v not in z)
    return SurgeryShape("front door", x, tuple(m for m in observed if m in z), rest, tuple(hid))


def observational_tables(graph: nx.DiGraph, joint: Kernel) -> dict[str, Kernel]:
    """``P(v | parents(v))`` for every variable of a fully observed DAG, from the joint.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> from workbench.diagrams.kernels import Wire
    >>> from workbench.diagrams.structural import state
    >>> x, y = Wire("x", 2), Wire("y", 2)
    >>> tables = observational_tables(dag([("x", "y")]), state([x, y], [[0.4, 0.1], [0.1, 0.4]]))
    >>> tables["y"].table
    tensor([[0.8000, 0.2000],
            [0.2000, 0.8000]], dtype=torch.float64)
    """
    tables = {}
    for v in topological_order(graph):
        pas = sorted(graph.predecessors(v), key=str)
        try:
            tables[v] = joint.marginal(pas + [v]).disintegrate(pas)
        except SupportError as exc:
            raise SupportError(f"P({v} | {', '.join(pas)}) is not determined: some parent values "
                               "never occur in the joint (it needs full support).") from exc
    return tables


def from_observational(graph, joint: Kernel, treatment: str, *, hidden: Iterable[str] | None = None,
                       outcome: Sequence[str] | None = None) -> Kernel:
    """``P(outcome | do(treatment))`` from the observational joint, by surgery or comb.

    Parameters
    ----------
    graph : networkx.DiGraph or ADMG
        The causal structure, hidden variables marked.
    joint : Kernel
        A state over exactly the observed variables.
    treatment : str
    outcome : sequence of str, optional
        Default: every other observed variable, in the joint's order.

    Raises
    ------
    SurgeryConditionsError, SupportError, UnknownVariableError, WireMismatchError

    Examples
    --------
    >>> from workbench.diagrams.models import interventional_kernel, joint_kernel, smoking_example
    >>> m = smoking_example()
    >>> est = from_observational(m.graph, joint_kernel(m), "smoking", outcome=["cancer"])
    >>> est.allclose(interventional_kernel(m, "smoking", ["cancer"]))
    True
    """
    shape = surgery_conditions(graph, treatment, hidden=hidden, outcome=outcome)
    g, _ = _as_dag(graph, hidden)
    observed = {treatment, *shape.mediators, *shape.rest}
    if joint.inputs or set(joint.output_names) != observed:
        raise WireMismatchError(f"The joint must be a state over the observed variables "
                                f"{sorted(observed)}; got {joint}.")
    others = [n for n in joint.output_names if n != treatment]
    outcome = others if outcome is None else list(outcome)
    for name in outcome:
        if name not in others:
            raise UnknownVariableError(name, others, what="outcome")
    if shape.kind == "no hidden":
        sizes = {w.name: w.size for w in joint.outputs}
        tables = observational_tables(g, joint)
        return interventional(g, sizes, tables, treatment).marginal(outcome)
    comb, f = comb_disintegrate(joint, [treatment], list(shape.mediators), list(shape.rest))
    return comb.plug_cut(f).marginal(outcome)
