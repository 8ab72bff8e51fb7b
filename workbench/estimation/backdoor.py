"""Three estimators of the back-door formula ``E[y | do(x)] = sum_z E[y | x, z] P(z)``.

For a binary treatment each returns the average treatment effect
``ATE = E[y | do(x=1)] - E[y | do(x=0)]``, one value per row of the weights ``w``
(``None``: the data as they are; see ``workbench.estimation._data``).

* ``plug_in_backdoor``: frequencies and cell means of discrete ``z``, as the formula reads.
* ``regression_backdoor``: fit ``E[y | x, z]`` with a model, predict both arms for every
  unit, average the difference (g-computation). ``model="linear"`` fits a linear model
  per arm, ``"additive"`` one model ``y ~ x + z`` (the effect is the coefficient of x,
  as DoWhy's ``backdoor.linear_regression``), ``"saturated"`` a mean per cell.
* ``ipw_backdoor``: weight each unit by one over the probability of its own treatment
  given ``z`` (the propensity), then compare weighted means (Hajek's normalised form).

On discrete data the saturated versions of all three are the same number.

Examples
--------
>>> import torch
>>> z = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
>>> x = torch.tensor([0, 1, 1, 1, 0, 0, 0, 1])
>>> y = 2.0 * x + 3.0 * z
>>> data = {"z": z, "x": x, "y": y}
>>> float(plug_in_backdoor(data, "x", "y", ["z"]))
2.0
>>> float(ipw_backdoor(data, "x", "y", ["z"], propensity="saturated"))
2.0
>>> round(float(regression_backdoor(data, "x", "y", ["z"], model="additive")), 6)
2.0
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from workbench.errors import WorkbenchInputError
from workbench.estimation._data import PositivityError, binary, column, features, strata
from workbench.estimation.fitting import least_squares, logistic

__all__ = ["plug_in_backdoor", "regression_backdoor", "ipw_backdoor", "cell_sums"]


def _weights(w, n: int) -> torch.Tensor:
    return torch.ones(1, n, dtype=torch.float64) if w is None else w


def cell_sums(cell: torch.Tensor, cells: int, y: torch.Tensor, w: torch.Tensor):
    """Weighted counts and weighted sums of ``y`` per cell: two ``(B, cells)`` tensors.

    Examples
    --------
    >>> import torch
    >>> count, total = cell_sums(torch.tensor([0, 1, 1]), 2, torch.tensor([1., 2., 4.]), torch.ones(1, 3, dtype=torch.float64))
    >>> count, total
    (tensor([[1., 2.]], dtype=torch.float64), tensor([[1., 6.]], dtype=torch.float64))
    """
    count = torch.zeros(w.shape[0], cells, dtype=torch.float64).index_add_(1, cell, w)
    total = torch.zeros(w.shape[0], cells, dtype=torch.float64).index_add_(1, cell, w * y)
    return count, total


def _positivity(bad: torch.Tensor, w) -> None:
    if w is None and bool(bad.any()):
        raise PositivityError(
            "Some stratum of the adjustment set has no treated or no untreated unit, so "
            "E[y | x, z] is unknown there (positivity fails). Collect more data, or adjust "
            "for fewer or coarser variables.")


def plug_in_backdoor(data: Mapping, treatment: str, outcome: str, adjustment: Sequence[str],
                     w: torch.Tensor | None = None) -> torch.Tensor:
    """``sum_z P(z) (E[y | x=1, z] - E[y | x=0, z])`` from frequencies; ``z`` discrete.

    Examples
    --------
    >>> import torch
    >>> data = {"z": torch.tensor([0., 0., 1., 1.] * 25), "x": torch.tensor([0., 1., 0., 1.] * 25)}
    >>> data["y"] = 2 * data["x"] + data["z"]                               # ATE 2
    >>> float(plug_in_backdoor(data, "x", "y", ["z"]))
    2.0
    """
    x, y = binary(data, treatment), column(data, outcome)
    s, n_strata = strata(data, list(adjustment))
    ww = _weights(w, len(x))
    count, total = cell_sums(2 * s + x.long(), 2 * n_strata, y, ww)
    count, total = count.view(-1, n_strata, 2), total.view(-1, n_strata, 2)
    p_z = count.sum(2) / ww.sum(1, keepdim=True)
    bad = (count == 0).any(2) & (p_z > 0)
    _positivity(bad, w)
    means = total / count
    effect = (p_z * (means[..., 1] - means[..., 0])).nan_to_num(0.0).sum(1)
    return torch.where(bad.any(1), torch.nan, effect)


def regression_backdoor(data: Mapping, treatment: str, outcome: str, adjustment: Sequence[str],
                        w: torch.Tensor | None = None, *, model: str = "linear") -> torch.Tensor:
    """Regression adjustment (g-computation) with an outcome ``model`` (see module doc).

    Examples
    --------
    >>> import torch
    >>> data = {"z": torch.tensor([0., 0., 1., 1.] * 25), "x": torch.tensor([0., 1., 0., 1.] * 25)}
    >>> data["y"] = 2 * data["x"] + data["z"]                               # ATE 2
    >>> round(float(regression_backdoor(data, "x", "y", ["z"])), 6)
    2.0
    """
    if model == "saturated":
        return plug_in_backdoor(data, treatment, outcome, adjustment, w)
    x, y = binary(data, treatment), column(data, outcome)
    ww = _weights(w, len(x))
    Z = features(data, list(adjustment))
    if model == "additive":
        beta = least_squares(torch.cat([Z, x[:, None]], 1), y, ww)
        return beta[:, -1]
    if model != "linear":
        raise WorkbenchInputError(f"model must be 'linear', 'additive' or 'saturated', got {model!r}.")
    treated, control = least_squares(Z, y, ww * x), least_squares(Z, y, ww * (1 - x))
    difference = (treated - control) @ Z.T                          # (B, n) predicted effects
    return (ww * difference).sum(1) / ww.sum(1)


def ipw_backdoor(data: Mapping, treatment: str, outcome: str, adjustment: Sequence[str],
                 w: torch.Tensor | None = None, *, propensity: str = "logistic",
                 clip: float | None = None) -> torch.Tensor:
    """Inverse probability weighting with a ``logistic`` or ``saturated`` propensity model.

    ``clip`` (e.g. 0.05, DoWhy's default) bounds the propensities to ``[clip, 1 - clip]``.

    Examples
    --------
    >>> import torch
    >>> data = {"z": torch.tensor([0., 0., 1., 1.] * 25), "x": torch.tensor([0., 1., 0., 1.] * 25)}
    >>> data["y"] = 2 * data["x"] + data["z"]                               # ATE 2
    >>> round(float(ipw_backdoor(data, "x", "y", ["z"], propensity="saturated")), 6)
    2.0
    """
    x, y = binary(data, treatment), column(data, outcome)
    ww = _weights(w, len(x))
    if propensity == "logistic":
        e = torch.sigmoid(logistic(features(data, list(adjustment)), x, ww) @ features(data, list(adjustment)).T)
    elif propensity == "saturated":
        s, n_strata = strata(data, list(adjustment))
        count, treated = cell_sums(s, n_strata, x, ww)
        e = (treated / count)[:, s]
    else:
        raise WorkbenchInputError(f"propensity must be 'logistic' or 'saturated', got {propensity!r}.")
    if clip is not None:
        e = e.clamp(clip, 1 - clip)
    bad = ((e <= 0) | (e >= 1) | e.isnan()) & (ww > 0)
    _positivity(bad, w)
    e = e.clamp(1e-12, 1 - 1e-12)
    w1, w0 = ww * x / e, ww * (1 - x) / (1 - e)
    effect = (w1 * y).sum(1) / w1.sum(1) - (w0 * y).sum(1) / w0.sum(1)
    return torch.where(bad.any(1), torch.nan, effect)
