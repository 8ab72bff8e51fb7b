"""Linear latent causal models with one perfect intervention per latent (Squires et al. 2023).

The model of "Linear Causal Disentanglement via Interventions" (Squires, Seigal,
Bhate & Uhler, ICML 2023). ``p`` latents ``Z`` follow a linear SEM written through its
*precision factor* ``B``: ``B Z = eps`` with ``eps ~ N(0, I)``, where
``B = Omega^(1/2) (I - W)`` is upper triangular with a positive diagonal (the paper's
convention: a latent's parents come *after* it, ``W[i, j] != 0`` only for ``j > i``).
The ``d >= p`` observed variables are a linear mixture ``X = G Z`` with ``G = pinv(H)``,
so ``H`` (``p x d``) is the unmixing matrix, and the precision of ``X`` (on the
row space of ``H``) is

.. math:: \\Theta = H^\\top B^\\top B H.

A perfect intervention on latent ``i`` replaces row ``i`` of ``B`` by ``c e_i``: the
latent loses its parents and gets a new noise scale. Every context ``k`` gives one
``Theta_k``; the algorithm in :mod:`workbench.crl.linear` reads ``H`` and ``B`` back
from them, up to a permutation of the latents (and with ``H``'s rows scaled so that the
entry of largest magnitude is +1, the paper's normalisation).

:func:`random_linear_model` follows the authors' generator (``src/rand.py``): a DAG
with edge probability ``density`` over a fixed order, weights uniform on
``+-[0.25, 1]``, ``Omega^(1/2)`` uniform on ``[2, 4]``, ``H`` uniform on ``[-2, 2]``
and row-normalised, intervened rows ``c e_i`` with ``c`` uniform on ``[6, 8]``, the
contexts' targets in a random order. :meth:`LinearLatentModel.sample_precisions` draws
sample precision matrices of ``n`` points the way the authors' protocol does: the
latent sample precision is ``n`` times an inverse-Wishart draw with ``n`` degrees of
freedom, mapped to ``X`` by ``H``.

Examples
--------
>>> model = random_linear_model(num_latents=3, num_observed=4, seed=0)
>>> model.H.shape, len(model.B_contexts), sorted(model.targets)
((3, 4), 3, [0, 1, 2])
>>> import numpy as np
>>> bool(np.allclose(model.precision(), model.H.T @ model.B0.T @ model.B0 @ model.H))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from workbench.errors import ShapeError, WorkbenchInputError

__all__ = ["LinearLatentModel", "random_linear_model", "normalize_rows", "sample_precision_from_data"]


def normalize_rows(H: np.ndarray) -> np.ndarray:
    """Scale each row so that its entry of largest magnitude is exactly +1.

    This is the paper's normalisation of ``H``: a latent is only known up to scale,
    so each row is fixed by its largest entry.

    Raises
    ------
    WorkbenchInputError
        If a row is all zeros (a latent that reaches no observed variable).

    Examples
    --------
    >>> normalize_rows([[2.0, -4.0], [0.5, 0.25]]).tolist()
    [[-0.5, 1.0], [1.0, 0.5]]
    >>> normalize_rows([[0.0, 0.0]])
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: H has a zero row: every latent must reach some observed variable.
    """
    H = np.asarray(H, dtype=float)
    peak = H[np.arange(len(H)), np.abs(H).argmax(axis=1)]
    if np.any(peak == 0):
        raise WorkbenchInputError("H has a zero row: every latent must reach some observed variable.")
    return H / peak[:, None]


@dataclass(frozen=True)
class LinearLatentModel:
    """``B Z = eps``, ``X = pinv(H) Z``, with one context per intervened latent.

    Attributes
    ----------
    B0 : (p, p) array
        Observational precision factor, upper triangular, positive diagonal.
    H : (p, d) array
        Unmixing matrix (rows normalised, largest entry +1).
    B_contexts : tuple of (p, p) arrays
        ``B`` in each interventional context.
    targets : tuple of int
        ``targets[k]`` is the latent intervened on in context ``k``.

    Examples
    --------
    Two latents, ``Z_1 -> Z_0`` (a parent comes after its child), observed directly:

    >>> B0 = np.array([[1.0, -0.5], [0.0, 1.0]])
    >>> do_z0 = np.array([[3.0, 0.0], [0.0, 1.0]])          # Z_0 loses its parent
    >>> model = LinearLatentModel(B0, np.eye(2), (do_z0,), (0,))
    >>> model.num_latents, list(model.latent_graph().edges)
    (2, [(1, 0)])
    >>> model.precision().tolist()                          # B0^T B0
    [[1.0, -0.5], [-0.5, 1.25]]
    >>> model.precision(0).tolist()
    [[9.0, 0.0], [0.0, 1.0]]
    >>> model.sample(3, rng=0).shape
    (3, 2)
    """

    B0: np.ndarray
    H: np.ndarray
    B_contexts: tuple
    targets: tuple

    @property
    def num_latents(self) -> int:
        """How many latents ``p`` the model has."""
        return self.B0.shape[0]

    def precision(self, context: int | None = None) -> np.ndarray:
        """Population precision ``H^T B^T B H`` of ``X`` (``context=None``: observational)."""
        B = self.B0 if context is None else self.B_contexts[context]
        return self.H.T @ B.T @ B @ self.H

    def latent_graph(self) -> nx.DiGraph:
        """The latent DAG: an edge ``j -> i`` wherever ``B0[i, j] != 0`` (``j > i``)."""
        return graph_from_B(self.B0)

    def sample_precisions(self, n: int, rng) -> tuple[np.ndarray, list[np.ndarray]]:
        """Sample precisions of ``n`` points per context, as in the authors' protocol."""
        from scipy.stats import invwishart

        rng = np.random.default_rng(rng)

        def one(B):
            latent = invwishart(df=n, scale=B.T @ B).rvs(random_state=rng) * n
            return self.H.T @ latent @ self.H

        return one(self.B0), [one(B) for B in self.B_contexts]

    def sample(self, n: int, context: int | None = None, rng=None) -> np.ndarray:
        """``n`` observations ``X = pinv(H) Z`` (rows) from one context."""
        rng = np.random.default_rng(rng)
        B = self.B0 if context is None else self.B_contexts[context]
        Z = np.linalg.solve(B, rng.standard_normal((self.num_latents, n)))
        return (np.linalg.pinv(self.H) @ Z).T


def graph_from_B(B: np.ndarray, tol: float = 0.0) -> nx.DiGraph:
    """Edges ``j -> i`` for the off-diagonal entries ``|B[i, j]| > tol`` (latents ``0..p-1``).

    Examples
    --------
    >>> B = np.array([[2.0, -0.8, 0.05], [0.0, 3.0, 0.6], [0.0, 0.0, 2.5]])
    >>> sorted(graph_from_B(B).edges)
    [(1, 0), (2, 0), (2, 1)]
    >>> sorted(graph_from_B(B, tol=0.1).edges)            # drop the small estimate
    [(1, 0), (2, 1)]
    """
    B = np.asarray(B)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(B.shape[0]))
    graph.add_edges_from((j, i) for i in range(B.shape[0]) for j in range(B.shape[1])
                         if i != j and abs(B[i, j]) > tol)
    return graph


def sample_precision_from_data(X: np.ndarray, rank: int) -> np.ndarray:
    """The precision of data ``X`` (rows) on its top-``rank`` principal subspace.

    ``X = pinv(H) Z`` has a rank-``p`` covariance; its pseudo-inverse is
    ``H^T Cov(Z)^-1 H``, the ``Theta`` the algorithm reads.

    Raises
    ------
    ShapeError
        If ``X`` is not 2-D or ``rank`` is not in ``1..d``.

    Examples
    --------
    With many points it approaches the population precision:

    >>> model = random_linear_model(num_latents=2, num_observed=3, seed=0)
    >>> theta = sample_precision_from_data(model.sample(200_000, rng=1), rank=2)
    >>> gap = np.abs(theta - model.precision()).max() / np.abs(model.precision()).max()
    >>> bool(gap < 0.02)
    True
    >>> sample_precision_from_data(model.sample(5, rng=1), rank=4)
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: X must be (n, d) with 0 < rank <= d; got shape (5, 3) and rank 4.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not 0 < rank <= X.shape[1]:
        raise ShapeError(f"X must be (n, d) with 0 < rank <= d; got shape {X.shape} and rank {rank}.")
    values, vectors = np.linalg.eigh(np.cov(X, rowvar=False))
    top = vectors[:, -rank:]
    return top @ np.diag(1.0 / values[-rank:]) @ top.T


def random_linear_model(num_latents: int = 5, num_observed: int = 10, density: float = 0.75,
                        seed=None) -> LinearLatentModel:
    """A random model drawn like Squires et al.'s ``rand_model`` (see the module docstring).

    Parameters
    ----------
    num_latents, num_observed
        ``p`` and ``d``, with ``1 <= p <= d``.
    density
        Probability of each possible latent edge.
    seed
        Anything :func:`numpy.random.default_rng` takes.

    Returns
    -------
    LinearLatentModel
        With one context per latent, the targets in a random order.

    Raises
    ------
    WorkbenchInputError
        If ``p > d`` or ``density`` is not in ``[0, 1]``.

    Examples
    --------
    >>> model = random_linear_model(num_latents=3, num_observed=5, density=1.0, seed=0)
    >>> model.latent_graph().number_of_edges()              # density 1: every edge
    3
    >>> bool(np.allclose(np.abs(model.H).max(axis=1), 1.0)), sorted(model.targets)
    (True, [0, 1, 2])
    >>> random_linear_model(num_latents=4, num_observed=2)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Need integers 1 <= num_latents <= num_observed, got 4 and 2.
    """
    if not (isinstance(num_latents, int) and isinstance(num_observed, int)
            and 1 <= num_latents <= num_observed):
        raise WorkbenchInputError(
            f"Need integers 1 <= num_latents <= num_observed, got {num_latents!r} and {num_observed!r}.")
    if not 0.0 <= density <= 1.0:
        raise WorkbenchInputError(f"density is an edge probability in [0, 1], got {density!r}.")
    rng = np.random.default_rng(seed)
    p = num_latents
    upper = np.triu(np.ones((p, p), dtype=bool), k=1)
    edges = upper & (rng.random((p, p)) < density)
    weights = rng.uniform(0.25, 1.0, (p, p)) * rng.choice([-1.0, 1.0], (p, p))
    W = np.where(edges, weights, 0.0)
    B0 = np.round(np.diag(rng.uniform(2.0, 4.0, p)) @ (np.eye(p) - W), 3)
    H = normalize_rows(rng.uniform(-2.0, 2.0, (p, num_observed)))
    targets = tuple(int(t) for t in rng.permutation(p))
    contexts = []
    for target in targets:
        B = B0.copy()
        B[target] = 0.0
        B[target, target] = np.round(rng.uniform(6.0, 8.0), 2)
        contexts.append(B)
    return LinearLatentModel(B0, H, tuple(contexts), targets)
