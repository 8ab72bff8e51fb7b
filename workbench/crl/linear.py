"""Linear causal disentanglement from one perfect intervention per latent, without Gurobi.

The algorithm of Squires et al. (ICML 2023), written as three readable steps on the
precision matrices ``Theta_0`` (observational) and ``Theta_k`` (context ``k``) of
:mod:`workbench.crl.linear_model`:

1. **Row space.** Every ``Theta`` lives on the ``p``-dimensional row space of ``H``;
   project onto it (the top ``p`` eigenvectors of ``Theta_0``), so all matrices are
   ``p x p``.
2. **Order, from rank one.** ``Theta_k - Theta_0 = H^T (c^2 e_i e_i^T - b_i b_i^T) H``
   where ``b_i`` is row ``i`` of ``B0``. For a *source* latent ``b_i`` is a multiple of
   ``e_i`` and the difference has rank one; for any other latent it has rank two, but
   becomes rank one once the directions found for its ancestors are projected out.
   So peel latents off one at a time: project out the directions found so far, take the
   context whose difference is closest to rank one (largest share of the top squared
   singular value), record its top singular vector ``q``, and keep as its ancestors only
   the found contexts it cannot do without. Latents are numbered from ``p - 1`` down, so
   a latent's parents get larger numbers (the model's convention).
3. **Scales, by Cholesky.** With ``Q`` the found directions, ``Q^-T Theta Q^-1 = C^T C``
   with ``C`` upper triangular, and ``C_k`` differs from ``C_0`` only in the target's
   row, which is ``c`` times row ``i`` of ``R`` in ``H = R Q``. Rebuild ``H = R Q``,
   normalise its rows, and read ``B0`` as the Cholesky factor of ``H^-T Theta_0 H^-1``.

Noise enters through the rank-one score; ``rank_gamma = 0.99`` is the authors' setting
(a found context is dropped from the ancestors when the difference without it still
scores above ``rank_gamma``).

Examples
--------
>>> from workbench.crl.linear_model import random_linear_model
>>> model = random_linear_model(num_latents=4, num_observed=6, seed=1)
>>> fit = linear_causal_disentanglement(model.precision(),
...                                     [model.precision(k) for k in range(4)])
>>> errors = compare_to_truth(fit, model)
>>> errors.correct_order, errors.H_error < 1e-8, errors.B0_error < 1e-8
(True, True, True)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from workbench.crl.linear_model import LinearLatentModel, graph_from_B, normalize_rows
from workbench.errors import NonFiniteValueError, ShapeError

__all__ = ["LinearDisentanglement", "linear_causal_disentanglement", "rank_one_score",
           "RecoveryErrors", "compare_to_truth"]


@dataclass(frozen=True)
class LinearDisentanglement:
    """What :func:`linear_causal_disentanglement` recovers (latents numbered as found).

    Examples
    --------
    >>> from workbench.crl.linear_model import random_linear_model
    >>> model = random_linear_model(num_latents=3, num_observed=4, density=1.0, seed=0)
    >>> fit = linear_causal_disentanglement(model.precision(), [model.precision(k) for k in range(3)])
    >>> fit.H.shape, fit.B0.shape, len(fit.B_contexts)
    ((3, 4), (3, 3), 3)
    >>> fit.ancestors[2]                            # found first: a source, no ancestors
    set()
    >>> fit.latent_graph().number_of_edges()
    3
    """

    H: np.ndarray            # (p, d) unmixing, rows normalised
    B0: np.ndarray           # (p, p) observational precision factor, upper triangular
    B_contexts: tuple        # (p, p) per context
    targets: tuple           # targets[k]: the latent context k intervened on
    ancestors: dict          # latent -> set of latents found to be its ancestors

    def latent_graph(self, tol: float = 0.1):
        """Edges ``j -> i`` where ``|B0[i, j]| > tol`` (a threshold for noisy estimates)."""
        return graph_from_B(self.B0, tol)


def rank_one_score(M: np.ndarray) -> float:
    """Share of the largest squared singular value: 1 exactly when ``M`` has rank one.

    Examples
    --------
    >>> v = np.array([1.0, 2.0])
    >>> rank_one_score(np.outer(v, v))
    1.0
    >>> rank_one_score(np.eye(2))                   # rank two, equal singular values
    0.5
    >>> rank_one_score(np.zeros((2, 2)))
    0.0
    """
    s2 = np.linalg.svd(M, compute_uv=False) ** 2
    return float(s2[0] / s2.sum()) if s2.sum() > 0 else 0.0


def _complement_projector(vectors, dim: int) -> np.ndarray:
    if not vectors:
        return np.eye(dim)
    basis, _ = np.linalg.qr(np.array(vectors).T)
    return np.eye(dim) - basis @ basis.T


def _check(theta_obs, thetas):
    theta_obs = np.asarray(theta_obs, dtype=float)
    thetas = [np.asarray(t, dtype=float) for t in thetas]
    d = theta_obs.shape[0] if theta_obs.ndim == 2 else -1
    if d < 1 or theta_obs.shape != (d, d) or any(t.shape != (d, d) for t in thetas):
        raise ShapeError("theta_obs and every matrix in thetas must be square and of one size (d, d).")
    if not 1 <= len(thetas) <= d:
        raise ShapeError(f"Give one precision per latent (1..{d} of them), got {len(thetas)}.")
    if not all(np.isfinite(t).all() for t in [theta_obs, *thetas]):
        raise NonFiniteValueError("A precision matrix contains NaN or infinite values.")
    return theta_obs, thetas


def _find_order(diffs: list[np.ndarray], rank_gamma: float):
    """Step 2: the target of each context, its direction ``q`` and its ancestors."""
    p = len(diffs)
    remaining, found = set(range(p)), {}              # found: context -> q
    targets, ancestors = {}, {}
    for latent in range(p - 1, -1, -1):
        P = _complement_projector(list(found.values()), p)
        context = max(sorted(remaining), key=lambda k: rank_one_score(P @ diffs[k] @ P))
        kept = set(found)
        for other in sorted(found):
            P_without = _complement_projector([q for c, q in found.items() if c != other], p)
            if rank_one_score(P_without @ diffs[context] @ P_without) > rank_gamma:
                kept.discard(other)
        P_kept = _complement_projector([found[c] for c in sorted(kept)], p)
        u, _, _ = np.linalg.svd(P_kept @ diffs[context] @ P_kept)
        found[context], targets[context] = u[:, 0], latent
        ancestors[latent] = {targets[c] for c in kept}
        remaining.discard(context)
    return targets, found, ancestors


def _upper_cholesky(M: np.ndarray) -> np.ndarray:
    """``U`` upper triangular, positive diagonal, with ``U^T U = M`` (symmetrised first)."""
    return np.linalg.cholesky((M + M.T) / 2).T


def linear_causal_disentanglement(theta_obs, thetas, *, rank_gamma: float = 0.99) -> LinearDisentanglement:
    """Recover ``H``, ``B0`` and the targets from one observational and ``p`` interventional precisions.

    Parameters
    ----------
    theta_obs : (d, d) array
        Precision of ``X`` in the observational context (rank ``p``).
    thetas : list of ``p`` (d, d) arrays
        Precision in each context; each context intervenes on a different latent.
    rank_gamma : float
        Rank-one threshold for pruning ancestors (0.99 is Squires et al.'s setting).

    Returns
    -------
    LinearDisentanglement
        Its latents are numbered in the order they were found; match them to the truth
        with :func:`compare_to_truth`.

    Raises
    ------
    ShapeError
        If the matrices are not all square of one size, or there are more contexts
        than observed variables.
    NonFiniteValueError
        If a matrix holds NaN or infinity.

    Examples
    --------
    From exact precisions the recovery is exact, up to the order of the latents:

    >>> from workbench.crl.linear_model import random_linear_model
    >>> model = random_linear_model(num_latents=3, num_observed=5, seed=2)
    >>> fit = linear_causal_disentanglement(model.precision(), [model.precision(k) for k in range(3)])
    >>> errors = compare_to_truth(fit, model)
    >>> errors.correct_order, round(errors.H_error, 8), round(errors.B0_error, 8)
    (True, 0.0, 0.0)
    >>> linear_causal_disentanglement(np.eye(3), [np.eye(2)])
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: theta_obs and every matrix in thetas must be square and of one size (d, d).
    """
    theta_obs, thetas = _check(theta_obs, thetas)
    p = len(thetas)
    basis = np.linalg.eigh((theta_obs + theta_obs.T) / 2)[1][:, -p:]      # (d, p)
    reduce = lambda T: basis.T @ T @ basis                                 # noqa: E731
    T0, Ts = reduce(theta_obs), [reduce(T) for T in thetas]
    targets, directions, ancestors = _find_order([T - T0 for T in Ts], rank_gamma)
    Q = np.zeros((p, p))
    for context, q in directions.items():
        Q[targets[context]] = q
    Q_inv = np.linalg.inv(Q)
    R = np.zeros((p, p))
    for context, T in enumerate(Ts):
        R[targets[context]] = _upper_cholesky(Q_inv.T @ T @ Q_inv)[targets[context]]
    H = normalize_rows(R @ Q @ basis.T)
    H_inv = np.linalg.inv(H @ basis)
    factor = lambda T: _upper_cholesky(H_inv.T @ T @ H_inv)                # noqa: E731
    return LinearDisentanglement(
        H=H, B0=factor(T0), B_contexts=tuple(factor(T) for T in Ts),
        targets=tuple(targets[k] for k in range(p)), ancestors=ancestors)


@dataclass(frozen=True)
class RecoveryErrors:
    """Squires et al.'s metrics, under the latent matching that minimises the ``B0`` error.

    Examples
    --------
    >>> errors = RecoveryErrors(H_error=0.0, B0_error=0.1, correct_order=True, matching=(1, 0))
    >>> errors.matching[0]                          # estimated latent 0 is true latent 1
    1
    """

    H_error: float            # Frobenius norm of H_true - H_est (matched)
    B0_error: float           # Frobenius norm of B0_true - B0_est (matched)
    correct_order: bool       # every context's target matched to the true target
    matching: tuple           # matching[i]: the true latent that estimated latent i is


def compare_to_truth(fit: LinearDisentanglement, model: LinearLatentModel) -> RecoveryErrors:
    """Errors of ``fit`` against ``model``, searching all ``p!`` matchings (fine for p <= 7).

    Raises
    ------
    ShapeError
        If the fit and the model differ in the number of latents or observed variables.

    Examples
    --------
    A fit from sample precisions (10 000 points a context) recovers the order with a
    small error:

    >>> from workbench.crl.linear_model import random_linear_model
    >>> model = random_linear_model(num_latents=3, num_observed=5, seed=2)
    >>> theta_obs, thetas = model.sample_precisions(10_000, rng=0)
    >>> errors = compare_to_truth(linear_causal_disentanglement(theta_obs, thetas), model)
    >>> errors.correct_order, errors.H_error < 0.1, errors.B0_error < 0.5
    (True, True, True)
    >>> compare_to_truth(linear_causal_disentanglement(theta_obs[:4, :4], [t[:4, :4] for t in thetas]), model)
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: The fit has 3 latents and 4 observed variables; the model 3 and 5.
    """
    p = model.num_latents
    if fit.B0.shape != model.B0.shape or fit.H.shape != model.H.shape:
        raise ShapeError(f"The fit has {fit.B0.shape[0]} latents and {fit.H.shape[1]} observed "
                         f"variables; the model {p} and {model.H.shape[1]}.")
    perms = np.array(list(itertools.permutations(range(p))))              # (m, p): est i -> true perm[i]
    inverse = np.argsort(perms, axis=1)                                    # true j -> est
    B0_matched = fit.B0[inverse[:, :, None], inverse[:, None, :]]          # (m, p, p)
    b0_errors = np.linalg.norm(B0_matched - model.B0, axis=(1, 2))
    best = int(np.argmin(b0_errors))
    H_matched = fit.H[inverse[best]]
    matched_targets = perms[best][list(fit.targets)]
    return RecoveryErrors(
        H_error=float(np.linalg.norm(H_matched - model.H)), B0_error=float(b0_errors[best]),
        correct_order=bool(np.array_equal(matched_targets, model.targets)),
        matching=tuple(int(j) for j in perms[best]))
