"""A structural causal model over a VAE's latents: the prior of CausalVAE / DEAR.

``k`` scalar latents ("concepts") ``z_1..z_k`` with an adjacency ``A`` (``A[i, j]``: the
weight of the edge ``i -> j``). Each concept is its parents' *linear SCM layer* plus a
*mask layer*, a small nonlinear mechanism that sees only the concepts ``A`` lets through,
plus its own noise:

.. math::

    z_j = \\underbrace{\\textstyle\\sum_i A_{ij} z_i}_{\\text{linear SCM layer}}
          + \\underbrace{g_j(A_{:,j} \\odot z)}_{\\text{mask layer}} + \\sigma_j e_j,
    \\qquad e_j \\sim N(0, 1).

With ``mechanism="linear"`` the mask layer is off and this is CausalVAE's linear layer
``z = A^T z + e``. Where ``A[i, j] = 0`` concept ``j`` cannot depend on ``i`` at all (the
mask multiplies its input), so the graph is the support of ``A``.

Which edges may exist is set by ``structure``:

* ``"learn"``: every off-diagonal edge; acyclicity is encouraged by NOTEARS's penalty
  ``h(A) = tr(exp(A * A)) - k`` (Zheng et al. 2018), zero exactly for DAGs;
* ``"order"``: edges only from an earlier concept to a later one (a fixed causal order,
  acyclic by construction);
* a ``(k, k)`` 0/1 array: exactly those edges (a given graph; weights still learned).

Sampling and interventions solve the SCM by ``k`` sweeps ``z <- mean(z) + sigma e``:
for a DAG, after sweep ``t`` every concept with at most ``t - 1`` ancestors in a chain
above it is exact, so ``k`` sweeps are an ancestral pass in no particular order.

Examples
--------
>>> import torch
>>> prior = LatentSCM(3, structure=[[0, 1, 0], [0, 0, 1], [0, 0, 0]], mechanism="linear")
>>> with torch.no_grad():
...     _ = prior.weight.copy_(torch.tensor([[0., 2., 0.], [0., 0., -1.], [0., 0., 0.]]))
>>> z = prior.sample(4, generator=torch.Generator().manual_seed(0), interventions={0: 1.0})
>>> z[:, 0].tolist()
[1.0, 1.0, 1.0, 1.0]
>>> float(prior.acyclicity().detach())
0.0
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import torch
from torch import nn

from workbench.datasets._random import check_count
from workbench.errors import CycleError, NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError

__all__ = ["LatentSCM", "STRUCTURES"]

STRUCTURES = ("learn", "order")


def _allowed_edges(k: int, structure) -> torch.Tensor:
    if isinstance(structure, str):
        if structure not in STRUCTURES:
            raise UnknownVariableError(structure, STRUCTURES, what="structure")
        full = torch.ones(k, k) - torch.eye(k)
        return full if structure == "learn" else torch.triu(full, diagonal=1)
    mask = torch.as_tensor(np.asarray(structure, dtype=np.float32))
    if mask.shape != (k, k) or not torch.isin(mask, torch.tensor([0.0, 1.0])).all():
        raise ShapeError(f"A given structure must be a ({k}, {k}) array of 0/1, got shape {tuple(mask.shape)}.")
    if mask.diagonal().any():
        raise WorkbenchInputError("A given structure cannot have self-loops (a 1 on its diagonal).")
    if not nx.is_directed_acyclic_graph(nx.from_numpy_array(mask.numpy(), create_using=nx.DiGraph)):
        raise CycleError("The given structure has a directed cycle; give a DAG, or structure='learn'.")
    return mask


class LatentSCM(nn.Module):
    """Linear SCM layer plus masked nonlinear mechanisms over ``num_concepts`` scalars.

    Parameters
    ----------
    num_concepts : int
    structure : "learn", "order" or a (k, k) 0/1 array
        Which edges may exist (see the module docstring).
    mechanism : "mlp" or "linear"
        Whether the mask layer (one tanh hidden layer per concept) is on.
    hidden : int
        Hidden units of each concept's mechanism.

    Raises
    ------
    WorkbenchInputError
        If ``num_concepts`` is not a positive integer.
    UnknownVariableError
        If ``mechanism`` or ``structure`` is not a known name.
    CycleError
        If a given structure has a directed cycle.

    Examples
    --------
    A fixed order allows only forward edges; a counterfactual keeps the noise of each
    unit, so a concept that is not downstream of the intervention keeps its value:

    >>> prior = LatentSCM(3, structure="order")
    >>> prior.allowed.tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    >>> z = prior.sample(5, generator=torch.Generator().manual_seed(0))
    >>> with torch.no_grad():
    ...     twin = prior.counterfactual(z, {1: 2.0})
    >>> torch.equal(twin[:, 0], z[:, 0]), twin[:, 1].tolist()
    (True, [2.0, 2.0, 2.0, 2.0, 2.0])
    >>> LatentSCM(2, structure=[[0, 1], [1, 0]])
    Traceback (most recent call last):
    ...
    workbench.errors.CycleError: The given structure has a directed cycle; give a DAG, or structure='learn'.
    """

    def __init__(self, num_concepts: int, structure="learn", mechanism: str = "mlp", hidden: int = 16):
        super().__init__()
        if isinstance(num_concepts, bool) or not isinstance(num_concepts, int) or num_concepts < 1:
            raise WorkbenchInputError(f"num_concepts must be a positive integer, got {num_concepts!r}.")
        if mechanism not in ("mlp", "linear"):
            raise UnknownVariableError(mechanism, ("mlp", "linear"), what="mechanism")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise WorkbenchInputError(f"hidden must be a positive integer (units of each mechanism's layer), "
                                      f"got {hidden!r}.")
        k = num_concepts
        self.num_concepts, self.mechanism = k, mechanism
        self.register_buffer("allowed", _allowed_edges(k, structure))
        self.weight = nn.Parameter(torch.zeros(k, k))
        self.log_scale = nn.Parameter(torch.zeros(k))
        self.bias = nn.Parameter(torch.zeros(k))
        self.w1 = nn.Parameter(torch.randn(k, k, hidden) / math.sqrt(hidden))    # (concept, input, hidden)
        self.b1 = nn.Parameter(torch.zeros(k, hidden))
        self.w2 = nn.Parameter(torch.randn(k, hidden) / math.sqrt(hidden) * (mechanism == "mlp"))

    @property
    def adjacency(self) -> torch.Tensor:
        """``A[i, j]``: how strongly ``j``'s mechanism reads ``i`` (0: not at all).

        The length of the vector of every weight from input ``i`` into concept ``j``
        (the linear weight and the mask layer's first-layer weights), so it is zero
        exactly when ``j`` cannot depend on ``i``; masked to the allowed edges.
        """
        first = self.w1 * self.allowed.T[:, :, None] if self.mechanism == "mlp" else 0 * self.w1
        return torch.sqrt((self.weight * self.allowed) ** 2 + (first ** 2).sum(dim=2).T + 1e-12) * self.allowed

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """Each concept's structural mean given all concepts ``z`` (``(n, k)``)."""
        out = z @ (self.weight * self.allowed) + self.bias
        if self.mechanism == "mlp":
            w1 = self.w1 * self.allowed.T[:, :, None]                            # (j, i, hidden)
            hidden = torch.tanh(torch.einsum("ni,jih->njh", z, w1) + self.b1)
            out = out + torch.einsum("njh,jh->nj", hidden, self.w2)
        return out

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``sum_j log N(z_j; mean_j(z), sigma_j^2)`` per row: the SCM's density for a DAG."""
        self._check_concepts(z, finite=False)   # in the training loss: no device sync here
        scale = self.log_scale.exp()
        residual = (z - self.mean(z)) / scale
        return (-0.5 * residual ** 2 - self.log_scale - 0.5 * math.log(2 * math.pi)).sum(dim=1)

    def noise_of(self, z: torch.Tensor) -> torch.Tensor:
        """Abduction: the exogenous ``e`` that gives ``z`` (``(z - mean(z)) / sigma``)."""
        self._check_concepts(z)
        return (z - self.mean(z)) / self.log_scale.exp()

    def solve(self, noise: torch.Tensor, interventions: dict | None = None) -> torch.Tensor:
        """Concepts from exogenous noise ``(n, k)``, with ``do(z_i = value)`` for each item."""
        interventions = self._check_interventions(interventions, len(noise))
        scale = self.log_scale.exp()
        z = torch.zeros_like(noise)
        for _ in range(self.num_concepts):
            z = self.mean(z) + scale * noise
            for index, value in interventions.items():
                z = z.clone()
                z[:, index] = value
        return z

    def sample(self, n: int, generator=None, interventions: dict | None = None) -> torch.Tensor:
        """``n`` draws of the concepts, observational or under ``do`` interventions."""
        n = check_count(n, "n")
        noise = torch.randn(n, self.num_concepts, generator=generator, device=self.weight.device)
        return self.solve(noise, interventions)

    def counterfactual(self, z: torch.Tensor, interventions: dict) -> torch.Tensor:
        """The same units (their noise abducted from ``z``) under ``interventions``."""
        return self.solve(self.noise_of(z), interventions)

    def acyclicity(self) -> torch.Tensor:
        """NOTEARS's ``h(A) = tr(exp(A * A)) - k``: zero if and only if ``A`` is acyclic."""
        A = self.adjacency
        return torch.matrix_exp(A * A).diagonal().sum() - self.num_concepts

    def graph(self, threshold: float = 0.1, names=None) -> nx.DiGraph:
        """The edges with ``|A[i, j]| > threshold``, made a DAG, over ``names``.

        The penalty only *encourages* acyclicity, so a learned ``A`` can keep a weak
        cycle. As NOTEARS's own post-processing does, cycles are then cut at their
        weakest edge, one at a time; the edges cut are in ``graph.graph["cut"]``.
        """
        names = list(names) if names is not None else list(range(self.num_concepts))
        if len(names) != self.num_concepts:
            raise ShapeError(f"names must name each of the {self.num_concepts} concepts, got {len(names)}: {names}.")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < math.inf:
            raise WorkbenchInputError(f"threshold must be a finite number >= 0 (e.g. 0.1), got {threshold!r}.")
        A = self.adjacency.detach().abs().cpu()
        graph = nx.DiGraph(cut=[])
        graph.add_nodes_from(names)
        graph.add_weighted_edges_from((names[i], names[j], float(A[i, j])) for i in range(len(names))
                                      for j in range(len(names)) if A[i, j] > threshold)
        while not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            weakest = min(cycle, key=lambda edge: graph.edges[edge[0], edge[1]]["weight"])
            graph.remove_edge(weakest[0], weakest[1])
            graph.graph["cut"].append((weakest[0], weakest[1]))
        return graph

    def _check_concepts(self, z, finite: bool = True) -> None:
        if not torch.is_tensor(z) or z.dim() != 2 or z.shape[1] != self.num_concepts:
            got = tuple(z.shape) if torch.is_tensor(z) else type(z).__name__
            raise ShapeError(f"z must be concepts of shape (n, {self.num_concepts}), got {got}.")
        if finite and not torch.isfinite(z).all():
            raise NonFiniteValueError("z contains NaN or infinite values; drop or fix those rows.")

    def _check_interventions(self, interventions, n: int) -> dict:
        out = {}
        for index, value in (interventions or {}).items():
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.num_concepts:
                raise UnknownVariableError(str(index), [str(i) for i in range(self.num_concepts)],
                                           what="concept index")
            try:
                value = torch.as_tensor(value, dtype=torch.float32, device=self.weight.device)
            except (TypeError, ValueError, RuntimeError):
                raise WorkbenchInputError(f"do(z_{index} = ...) must be a number or a tensor of numbers, "
                                          f"got {value!r}.") from None
            if value.dim() > 1 or (value.dim() == 1 and len(value) not in (1, n)):
                raise ShapeError(f"do(z_{index} = ...) needs a number or one value per unit ({n}), "
                                 f"got shape {tuple(value.shape)}.")
            if not torch.isfinite(value).all():
                raise NonFiniteValueError(f"do(z_{index} = ...) is not finite; give a finite value.")
            out[index] = value
        return out
