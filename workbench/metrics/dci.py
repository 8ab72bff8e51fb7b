"""DCI: Disentanglement, Completeness, Informativeness (Eastwood & Williams, 2018).

One classifier per factor predicts it from the whole code; its feature importances
fill an importance matrix ``R`` (n_latents x n_factors). *Disentanglement*: each
latent's importance should go to a single factor, ``1 - H_K(R[i, :])`` weighted by
the latent's share of importance. *Completeness*: each factor should be captured by a
single latent, ``1 - H_L(R[:, k])`` weighted likewise. *Informativeness*: the
classifiers' accuracy (train and test), as disentanglement_lib reports it.

Two modes, never mixed:

* ``mode="exact"``: disentanglement_lib's protocol, sklearn's
  ``GradientBoostingClassifier`` with its defaults (100 depth-3 trees per class),
  trained on 10,000 points and tested on 5,000.
* ``mode="fast"``: the same boosting algorithm with the same candidate thresholds
  (:mod:`workbench.metrics.boosting`), each latent sorted once, the split search
  compiled; it differs from exact mode only in which of equally good splits it takes.

How close and how fast, measured: ``benchmarks/REPORT.md``, "Design notes".

Invariances: permuting latents; monotone rescaling of a latent (tree splits only use
the order of values).
Defined results: a single latent has disentanglement ``1 - H_K`` of its importance
row and completeness 1; a constant factor raises :class:`ConstantFactorError`.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
>>> r = dci(codes, factors, mode="fast", max_iter=20)
>>> r.mode, r.score > 0.9, sorted(r.scores)
('fast', True, ['completeness', 'disentanglement', 'informativeness_test', 'informativeness_train'])
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.metrics.boosting import boosted_importance
from workbench.metrics.errors import ConstantFactorError, MetricInputError
from workbench.metrics.inputs import check_codes_factors, check_positive_int, check_real, split_train_test
from workbench.metrics.result import MetricResult

__all__ = ["dci", "disentanglement_completeness", "importance_exact", "compile_fast_mode", "PUBLISHED"]

PUBLISHED = {"num_train": 10_000, "num_test": 5_000, "max_iter": 100, "max_depth": 3,
             "learning_rate": 0.1}


def _normalised_entropy(p: torch.Tensor, dim: int, base: int) -> torch.Tensor:
    p = p + 1e-11  # as disentanglement_lib, so all-zero rows are uniform, not NaN
    p = p / p.sum(dim, keepdim=True)
    return -(p * torch.log(p)).sum(dim) / np.log(base) if base > 1 else torch.zeros(
        p.shape[1 - dim], dtype=p.dtype)


def disentanglement_completeness(importance: torch.Tensor) -> tuple[float, float]:
    """Disentanglement and completeness of an (n_latents, n_factors) importance matrix.

    Examples
    --------
    >>> import torch
    >>> d, c = disentanglement_completeness(torch.eye(3, dtype=torch.float64))
    >>> round(d, 6), round(c, 6)
    (1.0, 1.0)
    >>> d, c = disentanglement_completeness(torch.ones(3, 3, dtype=torch.float64))
    >>> round(d, 6), round(c, 6)
    (0.0, 0.0)
    """
    n_latents, n_factors = importance.shape
    weights = importance if importance.sum() > 0 else torch.ones_like(importance)
    per_code = 1.0 - _normalised_entropy(importance, 1, n_factors)
    per_factor = 1.0 - _normalised_entropy(importance, 0, n_latents)
    code_share = weights.sum(1) / weights.sum()
    factor_share = weights.sum(0) / weights.sum()
    return float((per_code * code_share).sum()), float((per_factor * factor_share).sum())


def importance_exact(x_train, y_train, x_test, y_test, *, max_iter=100, max_depth=3,
                     learning_rate=0.1, seed=0):
    """sklearn ``GradientBoostingClassifier``: (importances, train and test accuracy).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 60)[:, None].repeat(2, 1); x[:, 1] = np.random.default_rng(0).random(60)
    >>> y = (x[:, 0] > 0.5).astype(int)                  # one factor
    >>> importance, train, test = importance_exact(x, y, x, y, max_iter=5)
    >>> int(importance.argmax()), train
    (0, 1.0)
    """
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(n_estimators=max_iter, max_depth=max_depth,
                                       learning_rate=learning_rate, random_state=seed)
    model.fit(x_train, y_train)
    return (np.abs(model.feature_importances_), float(np.mean(model.predict(x_train) == y_train)),
            float(np.mean(model.predict(x_test) == y_test)))


def _relabel(y_train: np.ndarray, y_test: np.ndarray):
    """Labels 0..C-1 of the classes seen in training; unseen test classes get -1."""
    classes, y_train = np.unique(y_train, return_inverse=True)
    if len(classes) < 2:
        raise ConstantFactorError("A factor takes a single value in the DCI training "
                                  "points; use more points or drop the factor.")
    pos = np.searchsorted(classes, y_test).clip(0, len(classes) - 1)
    return y_train, np.where(classes[pos] == y_test, pos, -1)


def dci(codes, factors, *, mode: str = "exact", num_train: int = 10_000,
        num_test: int = 5_000, max_iter: int = 100, max_depth: int = 3,
        learning_rate: float = 0.1, seed: int = 0) -> MetricResult:
    """DCI scores of ``codes`` for ``factors``; ``score`` is the disentanglement.

    Parameters
    ----------
    mode : {"exact", "fast"}
        ``"exact"``: sklearn's gradient-boosted trees as published; ``"fast"``: the
        same algorithm on presorted latents, compiled (see the module docstring).
    num_train, num_test : int
        Train on the first ``num_train`` points, test on the next ``num_test``
        (published 10,000 and 5,000; fewer points are split 2:1).
    max_iter, max_depth, learning_rate : int, int, float
        Boosting iterations (trees per class), tree depth and step size
        (sklearn's defaults, which the published protocol uses).
    seed : int
        The trees' random state (the published code leaves it unset); in both modes
        it only breaks ties between equally good splits.

    Returns
    -------
    MetricResult
        ``scores`` has disentanglement, completeness, informativeness_train and
        informativeness_test (accuracies); ``details["importance"]`` the matrix.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> r = dci(codes, factors, mode="fast", num_train=400, num_test=200, max_iter=10)
    >>> r.name, r.mode, r.score > 0.8
    ('dci', 'fast', True)
    """
    if mode not in ("exact", "fast"):
        raise MetricInputError(f"mode must be 'exact' or 'fast', got {mode!r}.")
    for name, value in (("num_train", num_train), ("num_test", num_test),
                        ("max_iter", max_iter), ("max_depth", max_depth)):
        check_positive_int(value, name, 1)
    check_real(learning_rate, "learning_rate")
    check_positive_int(seed, "seed", 0)
    codes, labels = check_codes_factors(codes, factors)
    n_train, n_test = split_train_test(codes.shape[0], num_train, num_test)
    z, y = codes.cpu().numpy(), labels.cpu().numpy()
    train, test = slice(0, n_train), slice(n_train, n_train + n_test)
    labels_train, labels_test = zip(*(_relabel(y[train, k], y[test, k])
                                      for k in range(y.shape[1])))
    y_train, y_test = np.stack(labels_train, 1), np.stack(labels_test, 1)
    options = {"max_iter": max_iter, "max_depth": max_depth, "learning_rate": learning_rate}
    if mode == "fast":  # every factor's trees grow together
        fit = boosted_importance(z[train], y_train, z[test], y_test, seed=seed, **options)
        importance = fit.importance.numpy()
        acc_train, acc_test = fit.train_accuracy, fit.test_accuracy
    else:  # one sklearn classifier per factor
        importance = np.zeros((z.shape[1], y.shape[1]))
        acc_train, acc_test = [], []
        for k in range(y.shape[1]):
            importance[:, k], a_train, a_test = importance_exact(
                z[train], y_train[:, k], z[test], y_test[:, k], seed=seed, **options)
            acc_train.append(a_train)
            acc_test.append(a_test)
    matrix = torch.from_numpy(importance)
    d, c = disentanglement_completeness(matrix)
    scores = {"disentanglement": d, "completeness": c,
              "informativeness_train": float(np.mean(acc_train)),
              "informativeness_test": float(np.mean(acc_test))}
    choices = {"num_train": num_train, "num_test": num_test, "max_iter": max_iter,
               "max_depth": max_depth, "learning_rate": learning_rate, "seed": seed,
               "estimator": ("sklearn GradientBoostingClassifier" if mode == "exact"
                             else "workbench.metrics.boosting (presorted, every threshold)"),
               "num_train_used": n_train, "num_test_used": n_test}
    return MetricResult("dci", d, mode=mode, choices=choices, published=PUBLISHED,
                        scores=scores, details={"importance": matrix})


def compile_fast_mode() -> None:
    """Compile DCI's fast-mode loops now (numba caches them on disk for later processes).

    The first fast-mode call in a fresh install otherwise pays the compilation, about
    4 s and 200 MB, inside whatever notebook makes it; ``scripts/env.sh`` and
    ``binder/postBuild`` call this once at install time.

    Examples
    --------
    >>> compile_fast_mode()
    """
    rng = np.random.default_rng(0)
    codes = torch.as_tensor(rng.normal(size=(60, 2)))
    factors = torch.as_tensor(np.stack([np.arange(60) % 2, np.arange(60) % 3], axis=1))
    dci(codes, factors, mode="fast", num_train=40, num_test=20, max_iter=2)
