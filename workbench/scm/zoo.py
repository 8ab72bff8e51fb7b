"""Ready-made structural causal models, and random ones of any size (seeded).

* :func:`smoking_front_door`: smoking -> tar -> cancer with a hidden confounder
  (the latent ``genotype``) of smoking and cancer; the front-door example.
* :func:`backdoor_example`: a linear-Gaussian confounded treatment effect.
* :func:`asia`: the discrete Asia network (Lauritzen & Spiegelhalter, 1988).
* :func:`discrete_scm`: any discrete SCM from probability tables.
* :func:`random_linear_scm`, :func:`random_nonlinear_scm`, :func:`random_discrete_scm`:
  random DAGs with a seed of their own (the global random state is not touched).

A discrete SCM with a hidden confounder, sampled and intervened on with Pyro / ChiRho:

>>> import pyro
>>> from chirho.interventional.handlers import do
>>> m = random_discrete_scm(4, n_latent=1, seed=3)
>>> sorted(m.latent), m.observed
(['u0'], ['x0', 'x1', 'x2', 'x3'])
>>> with do(actions={"x0": torch.tensor(1)}):
...     values = m.model(1000)                  # a plain Pyro program: any handler applies
>>> bool((values["x0"] == 1).all())
True
>>> trace = pyro.poutine.trace(m.do(x0=1).model).get_trace(10)
>>> sorted(name for name in trace.nodes if name.startswith("x"))
['x0', 'x1', 'x2', 'x3']
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch

from workbench.errors import WorkbenchInputError
from workbench.scm.mechanisms import AdditiveNoise, DiscreteCPT, LinearGaussian, mlp
from workbench.scm.model import SCM

__all__ = [
    "smoking_front_door", "backdoor_example", "asia", "discrete_scm",
    "random_dag_edges", "random_linear_scm", "random_nonlinear_scm", "random_discrete_scm",
]


def discrete_scm(tables: Mapping[str, tuple[Sequence[str], object]], *, latent=(),
                 name: str = "discrete") -> SCM:
    """A discrete SCM from ``{variable: (parents, table)}``.

    ``table`` has shape ``(*parent_cardinalities, K)`` and rows summing to one.

    Examples
    --------
    >>> m = discrete_scm({"rain": ([], [0.8, 0.2]),
    ...                   "wet": (["rain"], [[0.9, 0.1], [0.05, 0.95]])})
    >>> m.mechanisms["wet"].cardinality
    2
    """
    return SCM({v: DiscreteCPT(pa, t) for v, (pa, t) in tables.items()}, latent=latent, name=name)


def smoking_front_door() -> SCM:
    """Binary smoking / tar / cancer with a latent ``genotype`` confounding smoking and cancer.

    Its observed graph is the front-door ADMG ``smoking -> tar -> cancer``,
    ``smoking <-> cancer``; ``P(cancer | do(smoking))`` is identified by the
    front-door formula and differs from ``P(cancer | smoking)``.

    Examples
    --------
    >>> g = smoking_front_door().observed_graph()
    >>> sorted(g.directed.edges()), list(g.bidirected.edges())
    ([('smoking', 'tar'), ('tar', 'cancer')], [('smoking', 'cancer')])
    """
    return discrete_scm({
        "genotype": ([], [0.7, 0.3]),
        "smoking": (["genotype"], [[0.8, 0.2], [0.3, 0.7]]),
        "tar": (["smoking"], [[0.9, 0.1], [0.15, 0.85]]),
        "cancer": (["tar", "genotype"], [[[0.95, 0.05], [0.7, 0.3]],
                                         [[0.8, 0.2], [0.45, 0.55]]]),
    }, latent=["genotype"], name="smoking_front_door")


def backdoor_example() -> SCM:
    """Linear-Gaussian ``z -> x -> y`` and ``z -> y``: adjust for ``z``.

    The causal effect of ``x`` on ``y`` is 1.5, but regressing ``y`` on ``x``
    alone gives more, because ``z`` drives both.

    Examples
    --------
    >>> backdoor_example().variables
    ['z', 'x', 'y']
    """
    return SCM({
        "z": LinearGaussian(noise_scale=1.0),
        "x": LinearGaussian({"z": 1.0}, noise_scale=1.0),
        "y": LinearGaussian({"x": 1.5, "z": 2.0}, noise_scale=1.0),
    }, name="backdoor_example")


def asia() -> SCM:
    """The Asia network; every variable is binary with 1 meaning "yes".

    Variables: asia (visit to Asia), smoke, tub, lung, bronc, either (tub or
    lung), xray (positive), dysp (dyspnoea).

    Examples
    --------
    >>> len(asia().variables), asia().mechanisms["smoke"].cardinality
    (8, 2)
    """
    yes = lambda p: [1 - p, p]  # noqa: E731
    return discrete_scm({
        "asia": ([], yes(0.01)),
        "smoke": ([], yes(0.5)),
        "tub": (["asia"], [yes(0.01), yes(0.05)]),
        "lung": (["smoke"], [yes(0.01), yes(0.1)]),
        "bronc": (["smoke"], [yes(0.3), yes(0.6)]),
        "either": (["tub", "lung"], [[yes(0.0), yes(1.0)], [yes(1.0), yes(1.0)]]),
        "xray": (["either"], [yes(0.05), yes(0.98)]),
        "dysp": (["bronc", "either"], [[yes(0.1), yes(0.7)], [yes(0.8), yes(0.9)]]),
    }, name="asia")


def random_dag_edges(n_nodes: int, edge_prob: float, generator: torch.Generator,
                     max_parents: int | None = None, prefix: str = "x") -> list[tuple[str, str]]:
    """Edges ``x_i -> x_j`` (``i < j``) each present with probability ``edge_prob``.

    Examples
    --------
    >>> import torch
    >>> edges = random_dag_edges(4, 0.5, torch.Generator().manual_seed(0))
    >>> all(i < j for i, j in edges)                     # edges go forward: acyclic
    True
    """
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, int) or n_nodes < 1:
        raise WorkbenchInputError(f"n_nodes must be a positive integer, got {n_nodes!r}.")
    if not 0.0 <= float(edge_prob) <= 1.0:
        raise WorkbenchInputError(f"edge_prob must lie in [0, 1], got {edge_prob!r}.")
    edges = []
    for j in range(1, n_nodes):
        pa = [i for i in range(j) if torch.rand((), generator=generator) < edge_prob]
        if max_parents is not None and len(pa) > max_parents:
            keep = torch.randperm(len(pa), generator=generator)[:max_parents].sort().values
            pa = [pa[k] for k in keep]
        edges += [(f"{prefix}{i}", f"{prefix}{j}") for i in pa]
    return edges


def _parents(edges, j_name):
    return [a for a, b in edges if b == j_name]


def random_linear_scm(n_nodes: int, *, edge_prob: float = 0.3, seed: int = 0,
                      weight_range: tuple[float, float] = (0.5, 1.5), noise_scale: float = 1.0,
                      max_parents: int | None = 4) -> SCM:
    """A random linear-Gaussian SCM on ``x0 .. x{n-1}`` (weights of random sign).

    Examples
    --------
    >>> m = random_linear_scm(10, seed=1)
    >>> m.variables[:3], len(m.sample(100)["x9"])
    (['x0', 'x1', 'x2'], 100)
    """
    g = torch.Generator().manual_seed(int(seed))
    edges = random_dag_edges(n_nodes, edge_prob, g, max_parents)
    lo, hi = weight_range
    mechs = {}
    for j in range(n_nodes):
        pa = _parents(edges, f"x{j}")
        w = lo + (hi - lo) * torch.rand(len(pa), generator=g)
        sign = torch.where(torch.rand(len(pa), generator=g) < 0.5, -1.0, 1.0)
        mechs[f"x{j}"] = LinearGaussian(dict(zip(pa, (w * sign).tolist())), noise_scale=noise_scale)
    return SCM(mechs, name=f"random_linear_{n_nodes}")


def random_nonlinear_scm(n_nodes: int, *, edge_prob: float = 0.3, seed: int = 0,
                         hidden: int = 8, noise_scale: float = 0.5,
                         max_parents: int | None = 4) -> SCM:
    """A random additive-noise SCM: each ``x_j = MLP_j(parents) + noise`` (fixed random MLPs).

    Examples
    --------
    >>> m = random_nonlinear_scm(3, seed=0)
    >>> m.variables, type(m.mechanisms["x0"]).__name__
    (['x0', 'x1', 'x2'], 'AdditiveNoise')
    """
    g = torch.Generator().manual_seed(int(seed))
    edges = random_dag_edges(n_nodes, edge_prob, g, max_parents)
    mechs = {}
    for j in range(n_nodes):
        pa = _parents(edges, f"x{j}")
        f = mlp(len(pa), hidden, seed=int(seed) * 100003 + j, scale=1.5)
        mechs[f"x{j}"] = AdditiveNoise(pa, f, noise_scale=noise_scale)
    return SCM(mechs, name=f"random_nonlinear_{n_nodes}")


def random_discrete_scm(n_nodes: int, *, n_categories: int = 2, edge_prob: float = 0.4,
                        n_latent: int = 1, seed: int = 0, concentration: float = 1.0,
                        max_parents: int | None = 3) -> SCM:
    """A random discrete SCM with ``n_latent`` hidden confounders ``u0, u1, ...``.

    Observed variables ``x0 .. x{n-1}`` form a random DAG; each latent ``u_k`` is
    a root with two distinct observed children chosen at random (a bidirected
    edge in :meth:`SCM.observed_graph`). Tables are drawn from a Dirichlet with
    the given ``concentration``. Latent variables are hidden from ``sample()``.

    Examples
    --------
    >>> m = random_discrete_scm(3, n_latent=1, seed=0)
    >>> m.observed, sorted(m.latent)
    (['x0', 'x1', 'x2'], ['u0'])
    """
    if n_latent and n_nodes < 2:
        raise WorkbenchInputError("A latent confounder needs at least two observed variables.")
    g = torch.Generator().manual_seed(int(seed))
    edges = random_dag_edges(n_nodes, edge_prob, g, max_parents)
    for k in range(n_latent):
        a, b = torch.randperm(n_nodes, generator=g)[:2].tolist()
        edges += [(f"u{k}", f"x{a}"), (f"u{k}", f"x{b}")]
    rng = np.random.default_rng(int(seed))
    tables = {}
    for v in [f"u{k}" for k in range(n_latent)] + [f"x{j}" for j in range(n_nodes)]:
        pa = _parents(edges, v)
        shape = (n_categories,) * (len(pa) + 1)
        draws = rng.dirichlet([float(concentration)] * n_categories, size=shape[:-1])
        table = torch.as_tensor(draws, dtype=torch.get_default_dtype()).clamp_min(1e-6)
        tables[v] = (pa, table / table.sum(-1, keepdim=True))
    return discrete_scm(tables, latent=[f"u{k}" for k in range(n_latent)],
                        name=f"random_discrete_{n_nodes}")
