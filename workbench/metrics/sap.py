"""Separated Attribute Predictability (Kumar et al., 2018), disentanglement_lib protocol.

For each (latent, factor) pair, a score of how well that single latent predicts the
factor; for each factor, the gap between its best and second-best latent; SAP is the
mean gap. For discrete factors (the published default) the score is the test
accuracy of a linear SVM (``LinearSVC(C=0.01, class_weight="balanced")``) trained on
the one latent; for continuous factors it is the squared correlation, computed for
all pairs at once.

Invariances: permuting latents; rescaling a latent by a positive or negative factor
(up to the SVM's regularisation, which depends on scale; squared correlation is exact).
Defined results: fewer than two latents raises :class:`TooFewLatentsError`; a
constant factor raises :class:`ConstantFactorError`; a constant latent scores 0.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=1500, seed=0)
>>> r = sap(codes, factors, continuous_factors=True)
>>> r.score > 0.8, r.choices["continuous_factors"]
(True, True)
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.metrics.errors import TooFewLatentsError
from workbench.metrics.errors import MetricInputError
from workbench.metrics.inputs import (check_classes, check_codes_factors, check_positive_int, check_real,
                                      split_train_test)
from workbench.metrics.result import MetricResult

__all__ = ["sap", "PUBLISHED"]

PUBLISHED = {"num_train": 10_000, "num_test": 5_000, "continuous_factors": False,
             "svm_C": 0.01}


def _squared_correlation(codes: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    zc, vc = codes - codes.mean(0), values - values.mean(0)
    cov = zc.T @ vc / (codes.shape[0] - 1)
    var_z = (zc ** 2).sum(0) / (codes.shape[0] - 1)
    var_v = (vc ** 2).sum(0) / (codes.shape[0] - 1)
    score = cov ** 2 / (var_z[:, None] * var_v[None, :])
    return torch.where(var_z[:, None] > 1e-12, score, torch.zeros_like(score))


def _svm_accuracy(train_z, train_y, test_z, test_y, C: float, seed: int) -> np.ndarray:
    from sklearn.svm import LinearSVC

    n_latents, n_factors = train_z.shape[1], train_y.shape[1]
    out = np.zeros((n_latents, n_factors))
    for i in range(n_latents):
        for j in range(n_factors):  # one 1-D classifier per pair: the published protocol
            clf = LinearSVC(C=C, class_weight="balanced", random_state=seed)
            clf.fit(train_z[:, i:i + 1], train_y[:, j])
            out[i, j] = np.mean(clf.predict(test_z[:, i:i + 1]) == test_y[:, j])
    return out


def sap(codes, factors, *, num_train: int = 10_000, num_test: int = 5_000,
        continuous_factors: bool = False, svm_C: float = 0.01, seed: int = 0) -> MetricResult:
    """SAP score of ``codes`` with respect to ``factors``.

    Parameters
    ----------
    codes, factors : Tensor (n_points, n_latents), (n_points, n_factors)
    num_train, num_test : int
        The first ``num_train`` points fit the classifiers and the next ``num_test``
        score them (published: 10,000 and 5,000; with fewer points they are split
        2:1). Continuous factors use all training points and no test split.
    continuous_factors : bool, default False
        Score pairs by squared correlation instead of SVM accuracy.
    svm_C : float, default 0.01
        Regularisation of the linear SVM.
    seed : int
        Random state of the SVM solver.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> sap(codes, factors, num_train=400, num_test=200).name
    'sap'
    """
    check_positive_int(num_train, "num_train", 2)
    check_positive_int(num_test, "num_test", 2)
    check_real(svm_C, "svm_C")
    check_positive_int(seed, "seed", 0)
    if not isinstance(continuous_factors, (bool, np.bool_)):
        raise MetricInputError(f"continuous_factors must be True or False, got {continuous_factors!r}.")
    codes, labels, values = check_codes_factors(codes, factors, return_values=True)
    if codes.shape[1] < 2:
        raise TooFewLatentsError(f"SAP is a gap between the two best latents and needs at "
                                 f"least 2 latents, got {codes.shape[1]}.")
    n_train, n_test = split_train_test(codes.shape[0], num_train, num_test)
    check_classes(labels[:n_train].cpu().numpy(), "sap")
    if continuous_factors:
        matrix = _squared_correlation(codes[:n_train], values[:n_train])
    else:
        z, y = codes.cpu().numpy(), labels.cpu().numpy()
        matrix = torch.from_numpy(_svm_accuracy(z[:n_train], y[:n_train],
                                                z[n_train:n_train + n_test],
                                                y[n_train:n_train + n_test], svm_C, seed))
    top2 = torch.topk(matrix, 2, dim=0).values
    choices = {"num_train": num_train, "num_test": num_test,
               "continuous_factors": continuous_factors, "svm_C": svm_C, "seed": seed,
               "num_train_used": n_train, "num_test_used": 0 if continuous_factors else n_test}
    return MetricResult("sap", float((top2[0] - top2[1]).mean()), mode="exact",
                        choices=choices, published=PUBLISHED,
                        details={"score_matrix": matrix})
