"""Modularity and Explicitness (Ridgeway & Mozer, 2018), disentanglement_lib protocol.

*Modularity*: each latent should carry information about one factor only. From the
mutual information ``m[i, k]`` of latent ``i`` (histogram-discretised) and factor
``k``, a latent's deviation from an ideal template is
``(sum_k m_ik^2 - max_k m_ik^2) / (max_k m_ik^2 (K - 1))``; modularity is one minus
it, averaged over latents. *Explicitness*: how linearly decodable each factor is from
the whole code, as the ROC-AUC (one-vs-rest, macro average) of a logistic regression
trained on standardised codes.

Invariances: permuting latents (both); monotone rescaling (modularity, up to binning);
affine rescaling (explicitness, codes are standardised).
Defined results: a latent with zero information about every factor has modularity 0
(as published); with a single factor every informative latent has modularity 1 (there
is nothing to leak into); a constant latent is left at zero after standardising
instead of dividing by a zero standard deviation; a constant factor raises
:class:`ConstantFactorError`.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=1500, seed=0, noise=0.01)
>>> round(modularity(codes, factors).score, 3)
1.0
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.metrics.information import histogram_discretize, mutual_information
from workbench.metrics.errors import TooFewPointsError
from workbench.metrics.inputs import (MAX_BINS, check_classes, check_codes_factors,
                                      check_positive_int, check_real, first_points, split_train_test)
from workbench.metrics.result import MetricResult

__all__ = ["modularity", "explicitness", "modularity_from_mi", "PUBLISHED"]

PUBLISHED = {"bins": 20, "num_points": 10_000, "num_train": 10_000, "num_test": 5_000}


def modularity_from_mi(mi: torch.Tensor) -> torch.Tensor:
    """Per-latent modularity from an (n_latents, n_factors) mutual-information matrix.

    Examples
    --------
    >>> import torch
    >>> modularity_from_mi(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    tensor([1., 1.])
    """
    sq = mi ** 2
    top = sq.max(dim=1).values
    if mi.shape[1] == 1:
        return (top > 0).to(mi.dtype)
    safe = torch.where(top > 0, top, torch.ones_like(top))
    delta = (sq.sum(1) - top) / (safe * (mi.shape[1] - 1))
    return torch.where(top > 0, 1.0 - delta, torch.zeros_like(delta))


def modularity(codes, factors, *, bins: int = 20, num_points: int | None = 10_000
               ) -> MetricResult:
    """Modularity score (Ridgeway & Mozer) of ``codes`` for ``factors``.

    Parameters
    ----------
    bins : int, default 20
        Histogram bins per latent for the mutual information.
    num_points : int or None, default 10_000
        Use the first ``num_points`` points (the published training set size).

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> modularity(codes, factors).score > 0.9
    True
    """
    bins = check_positive_int(bins, "bins", 2, MAX_BINS)
    if num_points is not None:
        check_positive_int(num_points, "num_points", 2)
    codes, labels = check_codes_factors(codes, factors)
    codes, labels = first_points(num_points, codes, labels)
    mi = mutual_information(histogram_discretize(codes, bins), labels)
    per_latent = modularity_from_mi(mi)
    return MetricResult("modularity", float(per_latent.mean()), mode="exact",
                        choices={"bins": bins, "num_points": num_points,
                                 "num_points_used": int(codes.shape[0])},
                        published={k: PUBLISHED[k] for k in ("bins", "num_points")},
                        details={"mutual_information": mi, "per_latent": per_latent})


def _macro_auc(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    onehot = (y_true[:, None] == classes[None, :]).astype(int)
    keep = (onehot.sum(0) > 0) & (onehot.sum(0) < len(y_true))  # classes AUC is defined for
    if not keep.any():
        raise TooFewPointsError(
            f"explicitness: no class of this factor has a defined ROC-AUC on these {len(y_true)} "
            "points (each needs points in and out of it, of a class seen in training). Pass "
            "more points (thousands for a stable score).")
    return float(roc_auc_score(onehot[:, keep], proba[:, keep], average="macro"))


def explicitness(codes, factors, *, num_train: int = 10_000, num_test: int = 5_000,
                 C: float = 1.0, max_iter: int = 100) -> MetricResult:
    """Explicitness: mean test ROC-AUC of a logistic regression per factor.

    Parameters
    ----------
    num_train, num_test : int
        Train on the first ``num_train`` points, test on the next ``num_test``.
    C, max_iter : float, int
        sklearn ``LogisticRegression`` settings (published: its defaults, 1.0 and 100).

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> explicitness(codes, factors, num_train=400, num_test=200).name
    'explicitness'
    """
    from sklearn.linear_model import LogisticRegression

    check_positive_int(num_train, "num_train", 2)
    check_positive_int(num_test, "num_test", 2)
    check_real(C, "C")
    check_positive_int(max_iter, "max_iter")
    codes, labels = check_codes_factors(codes, factors)
    n_train, n_test = split_train_test(codes.shape[0], num_train, num_test)
    z = codes.cpu().numpy()
    y = labels.cpu().numpy()
    mean, std = z[:n_train].mean(0), z[:n_train].std(0)
    std = np.where(std > 0, std, 1.0)
    z = (z - mean) / std
    train, test = slice(0, n_train), slice(n_train, n_train + n_test)
    check_classes(y[train], "explicitness")
    check_classes(y[test], "explicitness", "test points")
    auc_train, auc_test = [], []
    for k in range(y.shape[1]):
        clf = LogisticRegression(C=C, max_iter=max_iter).fit(z[train], y[train, k])
        auc_train.append(_macro_auc(y[train, k], clf.predict_proba(z[train]), clf.classes_))
        auc_test.append(_macro_auc(y[test, k], clf.predict_proba(z[test]), clf.classes_))
    score = float(np.mean(auc_test))
    return MetricResult("explicitness", score, mode="exact",
                        choices={"num_train": num_train, "num_test": num_test, "C": C,
                                 "max_iter": max_iter, "num_train_used": n_train,
                                 "num_test_used": n_test},
                        published={"num_train": 10_000, "num_test": 5_000, "C": 1.0,
                                   "max_iter": 100},
                        scores={"explicitness": score,
                                "explicitness_train": float(np.mean(auc_train))},
                        details={"per_factor_test": auc_test})
