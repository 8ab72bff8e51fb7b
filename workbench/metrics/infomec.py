"""InfoMEC: InfoM, InfoE, InfoC (Hsu et al., "Disentanglement via Latent Quantization", 2023).

All three rest on the *normalised* mutual information ``NMI[k, j] = I(v_k; z_j) / H(v_k)``
between factor (source) ``v_k`` and latent ``z_j``, after pruning inactive latents
(a continuous latent is active when its range exceeds 1/20 of the largest range):

* **InfoM** (modularity): for each active latent, the share of its NMI that goes to
  its best factor, ``max_k NMI / sum_k NMI``, averaged and chance-corrected:
  ``(mean - 1/K) / (1 - 1/K)``, so a latent that spreads evenly over the K factors
  scores 0 and one that serves a single factor scores 1.
* **InfoC** (compactness): the same for each factor across the active latents,
  corrected with ``1/L_active``.
* **InfoE** (explicitness): how much of each factor's entropy a multinomial logistic
  regression recovers from the whole code, ``(H_null - CE) / H_null``, averaged.

Modes, never mixed: ``"exact"`` estimates ``I(v_k; z_j)`` with the k-nearest-neighbour
estimator the authors use (``sklearn.feature_selection.mutual_info_classif``,
``n_neighbors=10``, on standardised latents); ``"fast"`` uses the batched histogram
estimator of :mod:`workbench.metrics.information` (``bins`` per latent).

Defined results: with a single factor InfoM is 1 (nothing to leak into); with a single
active latent InfoC is 1; a latent or factor whose NMI is zero everywhere counts as
chance (0 after correction); no active latent raises :class:`MetricInputError`; a
constant factor raises :class:`ConstantFactorError`.

Invariances: permuting latents; rescaling latents (standardised; the activity test
compares ranges, so rescaling one latent far down can deactivate it).

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=1000, seed=0, noise=0.01)
>>> r = infomec(codes, factors, mode="fast")
>>> sorted(r.scores), r.score > 0.9
(['infoc', 'infoe', 'infom'], True)
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from workbench.metrics.errors import MetricInputError, TooFewPointsError
from workbench.metrics.information import entropy, histogram_discretize, mutual_information
from workbench.metrics.inputs import MAX_BINS, check_codes_factors, check_positive_int, check_real, first_points
from workbench.metrics.result import MetricResult

__all__ = ["infomec", "normalised_mi", "chance_corrected_concentration", "PUBLISHED"]

PUBLISHED = {"n_neighbors": 10, "active_fraction": 0.05, "nmi_estimator": "knn"}


def normalised_mi(codes: torch.Tensor, labels: torch.Tensor, *, mode: str = "exact",
                  n_neighbors: int = 10, bins: int = 20, seed: int = 0) -> torch.Tensor:
    """NMI matrix (n_factors, n_latents): ``I(v_k; z_j) / H(v_k)``.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> from workbench.metrics.inputs import check_codes_factors
    >>> z, labels = check_codes_factors(codes, factors)
    >>> nmi = normalised_mi(z, labels, mode="fast")
    >>> tuple(nmi.shape), bool(nmi.diagonal().min() > 0.5)
    ((5, 5), True)
    """
    h = entropy(labels)
    if mode == "fast":
        mi = mutual_information(histogram_discretize(codes, bins), labels).T
    else:
        from sklearn.feature_selection import mutual_info_classif

        z = codes.cpu().numpy()
        z = (z - z.mean(0)) / np.where(z.std(0) > 0, z.std(0), 1.0)
        y = labels.cpu().numpy()
        mi = torch.tensor(np.stack([
            mutual_info_classif(z, y[:, k], discrete_features=False,
                                n_neighbors=n_neighbors, random_state=seed)
            for k in range(y.shape[1])]), dtype=torch.float64, device=codes.device)
    return mi / h[:, None]


def chance_corrected_concentration(nmi: torch.Tensor, dim: int) -> float:
    """Mean of ``max / sum`` along ``dim`` of ``nmi``, chance-corrected to [0, 1].

    Examples
    --------
    >>> import torch
    >>> chance_corrected_concentration(torch.eye(3, dtype=torch.float64), dim=0)
    1.0
    >>> chance_corrected_concentration(torch.ones(3, 4, dtype=torch.float64), dim=0)
    0.0
    """
    n = nmi.shape[dim]
    if n == 1:
        return 1.0
    total = nmi.sum(dim)
    share = torch.where(total > 0, nmi.max(dim).values / torch.where(total > 0, total, 1.0),
                        torch.full_like(total, 1.0 / n))
    return float((share.mean() - 1.0 / n) / (1.0 - 1.0 / n))


def _info_e(z: np.ndarray, y: np.ndarray, max_iter: int) -> list[float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    def cross_entropy(x, target):
        model = LogisticRegression(C=np.inf, class_weight="balanced", max_iter=max_iter)
        with warnings.catch_warnings():  # unpenalised fits on separable data do not converge
            warnings.simplefilter("ignore")
            model.fit(x, target)
        return log_loss(target, model.predict_proba(x), labels=model.classes_)

    out = []
    for k in range(y.shape[1]):
        null = cross_entropy(np.zeros_like(z), y[:, k])
        out.append((null - cross_entropy(z, y[:, k])) / null)
    return out


def infomec(codes, factors, *, mode: str = "exact", num_points: int | None = 10_000,
            n_neighbors: int = 10, bins: int = 20, active_fraction: float = 0.05,
            max_iter: int = 100, seed: int = 0) -> MetricResult:
    """InfoM, InfoE and InfoC of ``codes`` for ``factors``; ``score`` is InfoM.

    Parameters
    ----------
    mode : {"exact", "fast"}
        Mutual-information estimator: k-NN (``"exact"``) or histogram (``"fast"``).
    num_points : int or None, default 10_000
        Use the first ``num_points`` points.
    n_neighbors : int, default 10
        Neighbours of the k-NN estimator (exact mode).
    bins : int, default 20
        Histogram bins per latent (fast mode).
    active_fraction : float, default 0.05
        A latent is active if its range exceeds this fraction of the largest range.
    max_iter : int, default 100
        Iterations of the logistic regressions behind InfoE.
    seed : int
        Random state of the k-NN estimator's jitter.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> r = infomec(codes, factors, mode="fast", num_points=600)
    >>> r.name, sorted(r.scores)[:2]
    ('infomec', ['infoc', 'infoe'])
    """
    if mode not in ("exact", "fast"):
        raise MetricInputError(f"mode must be 'exact' or 'fast', got {mode!r}.")
    check_positive_int(n_neighbors, "n_neighbors")
    check_positive_int(bins, "bins", 2, MAX_BINS)
    if num_points is not None:
        check_positive_int(num_points, "num_points", 2)
    check_real(active_fraction, "active_fraction", 0.0, 1.0, low_open=False)
    check_positive_int(max_iter, "max_iter")
    check_positive_int(seed, "seed", 0)
    codes, labels = check_codes_factors(codes, factors)
    codes, labels = first_points(num_points, codes, labels)
    ranges = codes.max(0).values - codes.min(0).values
    active = ranges > ranges.max() * active_fraction
    if not active.any():
        raise MetricInputError("Every latent is constant: InfoMEC needs at least one "
                               "active latent (a collapsed encoder gives this).")
    if mode == "exact":
        for k in range(labels.shape[1]):
            if int(torch.bincount(labels[:, k]).max()) < 2:
                raise TooFewPointsError(
                    f"infomec: factor {k} never takes the same value twice in "
                    f"{labels.shape[0]} points, so the k-NN mutual information (exact mode) has "
                    "no neighbours within a class. Discretise a continuous factor, pass more "
                    "points, or use mode='fast'.")
    nmi = normalised_mi(codes, labels, mode=mode, n_neighbors=n_neighbors, bins=bins,
                        seed=seed)
    pruned = nmi[:, active]
    info_m = chance_corrected_concentration(pruned, dim=0)
    info_c = chance_corrected_concentration(pruned, dim=1)
    z = codes.cpu().numpy()
    z = (z - z.mean(0)) / np.where(z.std(0) > 0, z.std(0), 1.0)
    per_factor_e = _info_e(z, labels.cpu().numpy(), max_iter)
    info_e = float(np.mean(per_factor_e))
    choices = {"num_points": num_points, "nmi_estimator": "knn" if mode == "exact" else
               "histogram", "n_neighbors": n_neighbors, "bins": bins,
               "active_fraction": active_fraction, "max_iter": max_iter, "seed": seed,
               "num_points_used": int(codes.shape[0]), "num_active": int(active.sum())}
    return MetricResult("infomec", info_m, mode=mode, choices=choices,
                        published=PUBLISHED,
                        scores={"infom": info_m, "infoe": info_e, "infoc": info_c},
                        details={"nmi": nmi, "active": active, "infoe_per_factor": per_factor_e})
