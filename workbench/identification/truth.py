"""Ground truth by enumeration: discrete models with explicit latents, and their exact laws.

A :class:`DiscreteCPTModel` is a causal Bayesian network over the *canonical DAG* of
an ADMG: every bidirected edge ``a <-> b`` becomes an explicit latent parent
``U_a_b`` of both. Each node has a conditional probability table (CPT). From the
CPTs we compute, exactly and with no sampling:

- :meth:`DiscreteCPTModel.observational`: the joint table of the observed variables
  (latents summed out), the data an estimand is evaluated on;
- :meth:`DiscreteCPTModel.interventional`: ``P(y | do(x))`` for every value of ``x``,
  with the CPTs of ``x`` replaced by point masses: the truth an estimand must match.

Both use variable elimination in topological order (multiply a node's CPT in, sum
out a variable once all its children are in), so graphs of a dozen variables with
latents are instant.

Examples
--------
>>> from workbench.graphs import admg
>>> from workbench.identification.truth import random_discrete_model
>>> m = random_discrete_model(admg([("x", "y")], bidirected=[("x", "y")]), seed=0)
>>> m.observed, m.latents
(('x', 'y'), ('U_x_y',))
>>> float(m.observational().values.sum())
1.0
>>> truth = m.interventional(["x"], ["y"])         # axes (x, y); each row sums to 1
>>> [round(float(s), 6) for s in truth.values.sum(dim=1)]
[1.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import networkx as nx
import numpy as np
import torch

from workbench.errors import WorkbenchInputError
from workbench.graphs import ADMG, as_admg, topological_order
from workbench.identification._inputs import check_query
from workbench.identification.tables import DTYPE, DiscreteTable

__all__ = ["DiscreteCPTModel", "random_discrete_model"]


@dataclass(frozen=True)
class DiscreteCPTModel:
    """A discrete causal network: CPTs over a DAG whose latent nodes are marked ``latent=True``.

    The one encoding of a discrete causal model. Identification evaluates estimands on
    its exact tables (:meth:`observational`, :meth:`interventional`, as
    :class:`~workbench.identification.DiscreteTable`); string diagrams interpret its
    :attr:`tables` (``workbench.diagrams``: ``diagram_of``, ``joint_kernel``,
    ``interventional_kernel``); :meth:`to_scm` / :meth:`from_scm` go to and from a Pyro
    :class:`~workbench.scm.SCM`.

    Attributes
    ----------
    dag : networkx.DiGraph
        The canonical DAG (observed and latent nodes).
    parents : dict
        Node -> tuple of parents, in the axis order of its CPT.
    cpts : dict
        Node -> tensor of shape ``(*parent cardinalities, cardinality)`` whose last
        axis sums to 1.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> g = dag([("x", "y")])
    >>> m = DiscreteCPTModel(g, {"x": (), "y": ("x",)},
    ...                      {"x": torch.tensor([0.5, 0.5]), "y": torch.tensor([[0.9, 0.1], [0.2, 0.8]])})
    >>> m.observed, m.sizes
    (('x', 'y'), {'x': 2, 'y': 2})
    >>> m.observational().values
    tensor([[0.4500, 0.0500],
            [0.1000, 0.4000]], dtype=torch.float64)
    """

    dag: nx.DiGraph
    parents: dict
    cpts: dict

    @classmethod
    def from_tables(cls, graph: nx.DiGraph, sizes: Mapping, tables: Mapping) -> "DiscreteCPTModel":
        """A model from the diagrams' layout: each table's parent axes sorted by name.

        ``sizes`` gives every variable's number of values (checked against the tables).

        Examples
        --------
        >>> from workbench.graphs import dag
        >>> m = DiscreteCPTModel.from_tables(dag([("b", "c"), ("a", "c")]), {"a": 2, "b": 2, "c": 2},
        ...     {"a": [0.5, 0.5], "b": [0.5, 0.5], "c": [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]})
        >>> m.parents["c"]
        ('a', 'b')
        """
        parents = {v: tuple(sorted(graph.predecessors(v), key=str)) for v in graph.nodes}
        cpts = {}
        for v in graph.nodes:
            if v not in tables:
                raise WorkbenchInputError(f"No table for {v!r}; give one table per variable of the graph.")
            t = torch.as_tensor(tables[v], dtype=DTYPE)
            want = tuple(int(sizes[p]) for p in parents[v]) + (int(sizes[v]),)
            if tuple(t.shape) != want:
                raise WorkbenchInputError(
                    f"The table of {v!r} has shape {tuple(t.shape)}; with parents {list(parents[v])} "
                    f"(sorted by name) and these sizes it needs {want}.")
            cpts[v] = t
        return cls(graph, parents, cpts)

    @property
    def graph(self) -> nx.DiGraph:
        """:attr:`dag`, under the name the diagrams area uses."""
        return self.dag

    @property
    def sizes(self) -> dict:
        """:attr:`cardinalities`, under the name the diagrams area uses."""
        return self.cardinalities

    @property
    def hidden(self) -> list:
        """The latent nodes, sorted by name (the diagrams' hidden variables)."""
        return sorted(self.latents, key=str)

    @property
    def tables(self) -> dict:
        """The CPTs in the diagrams' layout: each table's parent axes sorted by name.

        Examples
        --------
        >>> from workbench.graphs import dag
        >>> m = DiscreteCPTModel(dag([("b", "c"), ("a", "c")]), {"a": (), "b": (), "c": ("b", "a")},
        ...                      {"a": torch.ones(2) / 2, "b": torch.ones(3) / 3, "c": torch.ones(3, 2, 2) / 2})
        >>> tuple(m.tables["c"].shape)                  # axes (a, b, c)
        (2, 3, 2)
        """
        out = {}
        for v, t in self.cpts.items():
            order = sorted(self.parents[v], key=str)
            out[v] = t.permute([self.parents[v].index(p) for p in order] + [len(order)])
        return out

    @property
    def order(self) -> list:
        """All nodes (latent ones too) in a deterministic topological order."""
        return topological_order(self.dag)

    @property
    def observed(self) -> tuple:
        """The observed nodes, in topological order."""
        return tuple(v for v in self.order if not self.dag.nodes[v].get("latent", False))

    @property
    def latents(self) -> tuple:
        """The latent nodes, in topological order."""
        return tuple(v for v in self.order if self.dag.nodes[v].get("latent", False))

    @property
    def cardinalities(self) -> dict:
        """``{node: number of values}``, read off the CPTs."""
        return {v: int(t.shape[-1]) for v, t in self.cpts.items()}

    def _factor(self, v) -> DiscreteTable:
        return DiscreteTable(self.parents[v] + (v,), self.cpts[v])

    def _eliminate(self, factors: Mapping, keep: Iterable) -> DiscreteTable:
        """Multiply ``factors`` (node -> table) in topological order, summing out early."""
        keep = set(keep)
        done, out = set(), DiscreteTable((), 1.0)
        for v in self.order:
            out = out * factors[v]
            done.add(v)
            drop = [u for u in out.variables if u not in keep
                    and all(c in done for c in self.dag.successors(u))]
            out = out.sum_out(drop)
        return out

    def observational(self) -> DiscreteTable:
        """The exact joint distribution of the observed variables."""
        factors = {v: self._factor(v) for v in self.order}
        return self._eliminate(factors, self.observed).permute(self.observed)

    def interventional(self, treatments, outcomes) -> DiscreteTable:
        """Exact ``P(outcomes | do(treatments))`` for every treatment value.

        The result has axes ``(*treatments, *outcomes)`` (each in topological order);
        fixing the treatment axes gives a distribution over the outcomes.
        """
        observed = ADMG(self.dag.subgraph(self.observed).copy())
        _, x, y = check_query(observed, treatments, outcomes, need_treatment=True)
        x, y = [v for v in self.observed if v in x], [v for v in self.observed if v in y]
        factors = {v: self._factor(v) for v in self.order}
        for v in x:  # do(v = a): v copies the value a of a new axis ("do", v)
            k = self.cardinalities[v]
            factors[v] = DiscreteTable((("do", v), v), torch.eye(k, dtype=DTYPE))
        table = self._eliminate(factors, [("do", v) for v in x] + y)
        table = table.permute([("do", v) for v in x] + y)
        return DiscreteTable(tuple(x) + tuple(y), table.values)

    def to_scm(self):
        """The same model as a :class:`workbench.scm.SCM` of ``DiscreteCPT`` mechanisms.

        Latent nodes stay latent; sampling it (with ChiRho's ``do`` through
        ``SCM.do``) draws from exactly the laws computed here.
        """
        from workbench.scm import SCM, DiscreteCPT

        bad = [v for v in self.order if not isinstance(v, str)]
        if bad:
            raise WorkbenchInputError(f"An SCM needs string variable names; got {bad}.")
        mechanisms = {v: DiscreteCPT(self.parents[v], self.cpts[v].float()) for v in self.order}
        return SCM(mechanisms, latent=self.latents)

    @classmethod
    def from_scm(cls, scm) -> "DiscreteCPTModel":
        """Read the CPTs of a :class:`workbench.scm.SCM` whose mechanisms are all ``DiscreteCPT``."""
        from workbench.scm import DiscreteCPT

        mechs = scm.mechanisms
        bad = [v for v, m in mechs.items() if not isinstance(m, DiscreteCPT)]
        if bad:
            raise WorkbenchInputError(
                f"Exact enumeration needs DiscreteCPT mechanisms; {bad} are not discrete tables."
            )
        cpts = {v: m.table.to(DTYPE) for v, m in mechs.items()}  # float32 rows, summed to 1 in float64
        return cls(scm.graph, {v: tuple(m.parents) for v, m in mechs.items()},
                   {v: t / t.sum(-1, keepdim=True) for v, t in cpts.items()})

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> dict:
        """``n`` ancestral samples of the observed variables (name -> long tensor)."""
        if not isinstance(n, int) or n < 1:
            raise WorkbenchInputError(f"n must be a positive integer, got {n!r}.")
        values = {}
        for v in self.order:
            probs = self.cpts[v]
            if self.parents[v]:
                probs = probs[tuple(values[p] for p in self.parents[v])]
            else:
                probs = probs.expand(n, -1)
            values[v] = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        return {v: values[v] for v in self.observed}


def random_discrete_model(graph, *, cardinality: int | Mapping = 2, seed: int = 0,
                          concentration: float = 1.0) -> DiscreteCPTModel:
    """A model with Dirichlet(``concentration``) random CPTs on ``graph``'s canonical DAG.

    Parameters
    ----------
    graph : networkx.DiGraph or ADMG
        Bidirected edges become latent parents ``U_a_b`` (binary unless
        ``cardinality`` names them).
    cardinality : int or mapping
        Number of values of every variable, or node -> number.
    seed : int
        Seed of a private generator (global random state is left alone).

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> m = random_discrete_model(admg([("x", "y")], bidirected=[("x", "y")]), seed=0, cardinality=3)
    >>> m.latents, m.cardinalities["x"]
    (('U_x_y',), 3)
    """
    if concentration <= 0:
        raise WorkbenchInputError(f"concentration must be positive, got {concentration}.")
    dag = as_admg(graph).to_canonical_dag()
    rng = np.random.default_rng(int(seed))
    parents, cpts = {}, {}
    for v in topological_order(dag):
        parents[v] = tuple(sorted(dag.predecessors(v), key=str))
        def card(u):
            return int(cardinality.get(u, 2)) if isinstance(cardinality, Mapping) else int(cardinality)
        shape = [card(p) for p in parents[v]] + [card(v)]
        if min(shape) < 1:
            raise WorkbenchInputError(f"Every variable needs at least one value; got {shape} at {v!r}.")
        rows = rng.dirichlet([float(concentration)] * shape[-1], size=shape[:-1])
        cpts[v] = torch.as_tensor(rows, dtype=DTYPE).reshape(shape)
    return DiscreteCPTModel(dag, parents, cpts)
