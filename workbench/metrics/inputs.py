"""Checking and preparing the two inputs every metric takes: codes and factors.

``codes`` are the learned representation, an ``(n_points, n_latents)`` tensor;
``factors`` the ground-truth factors of variation, ``(n_points, n_factors)``. NumPy
arrays are accepted and turned into tensors. Bad input gets a typed error:

* a 1-D array, or different numbers of rows: :class:`~workbench.errors.ShapeError`;
* NaN or infinite codes or factors: :class:`~workbench.errors.NonFiniteValueError`
  (a NaN code would otherwise fall into no histogram bin and quietly bias the score);
* a factor with a single value: :class:`ConstantFactorError` (its entropy is zero).

Examples
--------
>>> import torch
>>> codes, labels = check_codes_factors(torch.randn(6, 2), torch.tensor([[0, 5]] * 3 + [[1, 7]] * 3))
>>> codes.dtype, labels.tolist()[:4]
(torch.float64, [[0, 0], [0, 0], [0, 0], [1, 1]])
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.errors import NonFiniteValueError, ShapeError
from workbench.metrics.errors import ConstantFactorError, MetricInputError, TooFewPointsError

__all__ = ["as_matrix", "check_codes_factors", "encode_labels", "first_points",
           "check_positive_int", "check_classes"]


def as_matrix(x, what: str) -> torch.Tensor:
    """Return ``x`` as a 2-D float64 tensor with finite entries, or raise.

    Examples
    --------
    >>> as_matrix(torch.tensor([[1, 2], [3, 4]]), "codes").dtype
    torch.float64
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise MetricInputError(f"{what} must be a torch.Tensor or numpy array, got "
                               f"{type(x).__name__}.")
    if x.ndim != 2:
        raise ShapeError(f"{what} must be 2-D (n_points, n_columns), got shape "
                         f"{tuple(x.shape)}. For a single column use x.reshape(-1, 1).")
    if x.shape[0] < 2 or x.shape[1] < 1:
        raise ShapeError(f"{what} needs at least 2 points and 1 column, got shape "
                         f"{tuple(x.shape)}.")
    x = x.to(torch.float64)
    bad = ~torch.isfinite(x)
    if bad.any():
        cols = torch.nonzero(bad.any(0)).flatten().tolist()
        raise NonFiniteValueError(
            f"{what} contain {int(bad.sum())} NaN or infinite value(s), in column(s) "
            f"{cols}. Metrics need finite numbers: remove those points or fix the "
            "encoder (a diverged VAE often produces NaN codes).")
    return x


def encode_labels(factors: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """Relabel each factor column as 0..n_values-1; return labels and value counts.

    Raises :class:`ConstantFactorError` for a column with a single value.

    Examples
    --------
    >>> labels, counts = encode_labels(torch.tensor([[10.0], [30.0], [10.0]]))
    >>> labels.T, counts
    (tensor([[0, 1, 0]]), [2])
    """
    labels, sizes = [], []
    for j in range(factors.shape[1]):
        inverse = _relabel(factors[:, j])
        n_values = int(inverse.max()) + 1
        if n_values < 2:
            raise ConstantFactorError(
                f"Factor {j} takes the single value {float(factors[0, j])!r} in all "
                f"{factors.shape[0]} points, so its entropy is zero and the metric is "
                "undefined for it. Drop that column, e.g. factors[:, keep].")
        labels.append(inverse)
        sizes.append(n_values)
    return torch.stack(labels, dim=1), sizes


def _relabel(column: torch.Tensor) -> torch.Tensor:
    """Rank of each value among the column's distinct values (0, 1, ...)."""
    lo, hi = column.min(), column.max()
    if hi - lo < 4 * len(column) and bool((column == column.round()).all()):
        shifted = (column - lo).long()  # small integer codes: counting, no sort
        present = torch.bincount(shifted) > 0
        return (torch.cumsum(present, 0) - 1)[shifted]
    return torch.unique(column, return_inverse=True)[1]


def check_codes_factors(codes, factors, factor_bins: int | None = None,
                        return_values: bool = False):
    """Validate codes and factors; return float64 codes and integer factor labels.

    With ``factor_bins`` the factors are histogram-discretised first (for continuous
    factors); otherwise each distinct value is a category. With ``return_values``
    the float64 factor values are returned as a third item.

    Examples
    --------
    >>> codes, labels = check_codes_factors(torch.zeros(3, 2), torch.tensor([[0], [1], [1]]))
    >>> codes.dtype, labels.T
    (torch.float64, tensor([[0, 1, 1]]))
    """
    codes = as_matrix(codes, "codes")
    values = as_matrix(factors, "factors").to(codes.device)
    if codes.shape[0] != values.shape[0]:
        raise ShapeError(f"codes have {codes.shape[0]} points but factors have "
                         f"{values.shape[0]}: pass the factors of the same points.")
    if factor_bins is not None:
        from workbench.metrics.information import histogram_discretize

        check_positive_int(factor_bins, "factor_bins", 2, MAX_BINS)
        labels, _ = encode_labels(values)  # a constant factor raises before binning
        labels, _ = encode_labels(histogram_discretize(values, factor_bins))
    else:
        labels, _ = encode_labels(values)
    return (codes, labels, values) if return_values else (codes, labels)


def check_classes(labels, metric: str, part: str = "training points") -> None:
    """Raise :class:`TooFewPointsError` if a factor column of ``labels`` has a single class.

    A classifier (SAP's SVMs, explicitness's logistic regressions) cannot be fit on one
    class, and a ROC-AUC is undefined on one; this says so instead of sklearn's error.

    Examples
    --------
    >>> import numpy as np
    >>> check_classes(np.array([[0, 1], [0, 0]]), "sap")
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.TooFewPointsError: sap: factor 0 takes one value in all 2 training points...
    """
    labels = np.asarray(labels)
    for k in range(labels.shape[1]):
        if len(np.unique(labels[:, k])) < 2:
            raise TooFewPointsError(
                f"{metric}: factor {k} takes one value in all {labels.shape[0]} {part}, so nothing can "
                "be predicted about it (no classifier fit, no correlation). Pass more points (thousands for a "
                "stable score), or drop that factor.")


def first_points(n: int | None, *tensors: torch.Tensor):
    """Keep the first ``n`` rows of each tensor (all rows when ``n`` is None).

    Examples
    --------
    >>> [t.shape[0] for t in first_points(2, torch.zeros(5, 1), torch.zeros(5))]
    [2, 2]
    """
    if n is None:
        return tensors
    return tuple(t[:n] for t in tensors)


MAX_BINS = 100_000   # more histogram bins than this are empty at any realistic sample size


def check_positive_int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int, raising if it is not an integer in ``[minimum, maximum]``.

    Examples
    --------
    >>> check_positive_int(3, "bins")
    3
    >>> check_positive_int(0, "bins")
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.MetricInputError: ...
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise MetricInputError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if maximum is not None and value > maximum:
        raise MetricInputError(f"{name} must be at most {maximum:,}, got {value!r}.")
    return int(value)


def check_real(value, name: str, low: float = 0.0, high: float = float("inf"), *,
               low_open: bool = True) -> float:
    """Return ``value`` as a float, raising unless it is a finite number in its range.

    The range is ``(low, high]`` (``[low, high]`` with ``low_open=False``); ``high`` may be
    infinite, the value never.

    Examples
    --------
    >>> check_real(0.5, "C"), check_real(0.0, "q", low_open=False)
    (0.5, 0.0)
    >>> check_real(float("nan"), "C")
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.MetricInputError: C must be a finite number in (0, inf], got nan.
    """
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and np.isfinite(value) and (value > low if low_open else value >= low) and value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise MetricInputError(f"{name} must be a finite number in {interval}, got {value!r}.")
    return float(value)


def split_train_test(n_points: int, num_train: int, num_test: int) -> tuple[int, int]:
    """Sizes of the train and test parts taken from ``n_points`` given points.

    The first ``num_train`` points train and the next ``num_test`` test. With fewer
    points than ``num_train + num_test`` they are split in the same proportion (the
    sizes actually used are recorded in the metric's result).

    Examples
    --------
    >>> split_train_test(20000, 10000, 5000), split_train_test(300, 10000, 5000)
    ((10000, 5000), (200, 100))
    """
    if n_points >= num_train + num_test:
        return num_train, num_test
    n_train = round(n_points * num_train / (num_train + num_test))
    n_train = min(max(n_train, 2), n_points - 2)
    if n_train < 2 or n_points - n_train < 2:
        raise MetricInputError(f"{n_points} points are too few to split into train and "
                               "test parts; pass at least 4 (thousands for a stable score).")
    return n_train, n_points - n_train
