"""Discrete causal models as diagrams plus tables, and the bridge to ``workbench.scm``.

A :class:`CausalTables` is everything the interpretation functor needs: a DAG (hidden
variables marked), the number of values of each variable and one conditional
probability table per variable, with the parents' axes in sorted order (the order of
the boxes built by :func:`~workbench.diagrams.causal.causal_diagram`).
:func:`from_scm` reads one from a discrete :class:`workbench.scm.SCM` (the generating
model) and :meth:`CausalTables.to_scm` goes back, so the same model can be intervened
on by surgery and by Pyro / ChiRho ``do``.

Examples
--------
>>> m = smoking_example()
>>> m.hidden, m.observed
(['genotype'], ['smoking', 'tar', 'cancer'])
>>> truth = m.interventional("smoking", ["cancer"])      # surgery on the generating model
>>> [round(v, 4) for v in truth.table[:, 1].tolist()]     # P(cancer=1 | do(smoking=s))
[0.143, 0.278]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import networkx as nx
import torch

from workbench.diagrams.causal import causal_diagram, hidden_nodes, joint_of
from workbench.diagrams.errors import DiagramError
from workbench.diagrams.kernels import Kernel
from workbench.diagrams.surgery import interventional
from workbench.diagrams.syntax import Diagram
from workbench.graphs import dag, topological_order

__all__ = ["CausalTables", "from_scm", "smoking_example", "random_front_door"]


@dataclass(frozen=True)
class CausalTables:
    """A discrete causal Bayesian network: graph, sizes, and a CPT per variable."""

    graph: nx.DiGraph
    sizes: Mapping[str, int]
    tables: Mapping[str, torch.Tensor]

    @property
    def hidden(self) -> list[str]:
        return hidden_nodes(self.graph)

    @property
    def observed(self) -> list[str]:
        return [v for v in topological_order(self.graph) if v not in set(self.hidden)]

    def diagram(self) -> Diagram:
        """The string diagram of the model (hidden variables inside, not output)."""
        return causal_diagram(self.graph, self.sizes)

    def joint(self) -> Kernel:
        """The observational distribution of the observed variables."""
        return joint_of(self.graph, self.sizes, self.tables)

    def interventional(self, treatment: str, outcome: Sequence[str] | None = None) -> Kernel:
        """``P(outcome | do(treatment))`` by surgery on this generating model."""
        return interventional(self.graph, self.sizes, self.tables, treatment, outcome=outcome)

    def to_scm(self):
        """The same model as a :class:`workbench.scm.SCM` (Pyro program, ChiRho ``do``)."""
        from workbench.scm import discrete_scm

        spec = {v: (sorted(self.graph.predecessors(v), key=str), self.tables[v].to(torch.float64))
                for v in topological_order(self.graph)}
        return discrete_scm(spec, latent=self.hidden, name="causal_tables")


def from_scm(scm) -> CausalTables:
    """Read a discrete :class:`workbench.scm.SCM` (all ``DiscreteCPT`` mechanisms)."""
    from workbench.scm import DiscreteCPT

    g = scm.graph.copy()
    sizes, tables = {}, {}
    for v, mech in scm.mechanisms.items():
        if not isinstance(mech, DiscreteCPT):
            raise DiagramError(f"Variable {v!r} has a {type(mech).__name__} mechanism; string "
                               "diagrams here need discrete tables (DiscreteCPT) for every variable.")
        order = sorted(mech.parents, key=str)
        perm = [mech.parents.index(p) for p in order] + [len(order)]
        table = mech.table.to(torch.float64).permute(perm)
        tables[v] = table / table.sum(-1, keepdim=True)
        sizes[v] = mech.cardinality
    return CausalTables(g, sizes, tables)


def smoking_example() -> CausalTables:
    """Smoking -> tar -> cancer with a hidden genotype (``workbench.scm.smoking_front_door``)."""
    from workbench.scm import smoking_front_door

    return from_scm(smoking_front_door())


def _random_table(shape, g: torch.Generator) -> torch.Tensor:
    e = -torch.log1p(-torch.rand(shape, generator=g, dtype=torch.float64))
    return e / e.sum(-1, keepdim=True)


def random_front_door(seed: int = 0, *, sizes: Mapping[str, int] | None = None,
                      extra: bool = False) -> CausalTables:
    """A random model with the front-door shape: ``h -> x, h -> y, x -> z -> y``.

    With ``extra=True`` a second mediator ``z2`` (``x -> z2``, ``z -> z2``, ``z2 -> y``)
    and a further outcome ``w`` (``y -> w``, ``h -> w``) are added; the paper's
    sufficient condition still holds. Tables are uniform on the simplex (full support).
    """
    edges = [("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")]
    if extra:
        edges += [("x", "z2"), ("z", "z2"), ("z2", "y"), ("y", "w"), ("h", "w")]
    g = dag(edges)
    g.nodes["h"]["latent"] = True
    sizes = dict(sizes or {})
    for v in g.nodes:
        sizes.setdefault(v, 2)
    gen = torch.Generator().manual_seed(int(seed))
    tables = {v: _random_table([sizes[p] for p in sorted(g.predecessors(v))] + [sizes[v]], gen)
              for v in topological_order(g)}
    return CausalTables(g, sizes, tables)
