"""Three estimators of the front-door formula
``E[y | do(x)] = sum_m P(m | x) sum_x' P(x') E[y | m, x']`` (``x -> m -> y``, ``x <-> y``).

For a binary treatment each returns ``E[y | do(x=1)] - E[y | do(x=0)]``, one value per
row of the weights ``w``.

* ``plug_in_frontdoor``: frequencies and cell means of a discrete mediator ``m``.
* ``regression_frontdoor``: ``model="linear"`` is the two-stage regression (the effect of
  ``x`` on ``m``, times the effect of ``m`` on ``y`` adjusting for ``x``, as DoWhy's
  ``frontdoor.two_stage_regression``); ``"saturated"`` is the plug-in.
* ``ipw_frontdoor``: ``E[y | do(x*)] = E[y P(m | x*) / P(m | x)]``: reweight every unit as
  if its mediator had been drawn under ``x*``; ``P(m | x)`` from frequencies.

On discrete data the three (saturated) estimators are the same number.

Examples
--------
>>> import torch
>>> x = torch.tensor([0, 0, 1, 1, 0, 1, 1, 0])
>>> m = torch.tensor([0, 1, 1, 1, 0, 0, 1, 0])
>>> y = torch.tensor([0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0])
>>> data = {"x": x, "m": m, "y": y}
>>> a, b = float(plug_in_frontdoor(data, "x", "m", "y")), float(ipw_frontdoor(data, "x", "m", "y"))
>>> round(a, 6) == round(b, 6)
True
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from workbench.errors import WorkbenchInputError
from workbench.estimation._data import PositivityError, binary, column, features, strata
from workbench.estimation.backdoor import _weights, cell_sums
from workbench.estimation.fitting import least_squares

__all__ = ["plug_in_frontdoor", "regression_frontdoor", "ipw_frontdoor"]


def _mediators(mediator) -> list[str]:
    return [mediator] if isinstance(mediator, str) else list(mediator)


def _cells(data, treatment, mediator, outcome, w):
    x, y = binary(data, treatment), column(data, outcome)
    s, n_m = strata(data, _mediators(mediator))
    ww = _weights(w, len(x))
    count, total = cell_sums(2 * s + x.long(), 2 * n_m, y, ww)
    return x, y, s, ww, count.view(-1, n_m, 2), total.view(-1, n_m, 2)


def _check(bad: torch.Tensor, w) -> None:
    if w is None and bool(bad.any()):
        raise PositivityError(
            "Some value of the mediator is seen under one treatment and never under the other, "
            "so P(m | x) or E[y | m, x] is unknown there (positivity fails). Collect more data "
            "or coarsen the mediator.")


def plug_in_frontdoor(data: Mapping, treatment: str, mediator: str | Sequence[str], outcome: str,
                      w: torch.Tensor | None = None) -> torch.Tensor:
    """The front-door formula from frequencies and cell means; ``m`` discrete.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([0., 1., 0., 1., 0., 1., 0., 1.] * 25)
    >>> m = torch.tensor([0., 1., 0., 1., 0., 1., 1., 0.] * 25)       # P(m=1 | x): 0.25, 0.75
    >>> data = {"x": x, "m": m, "y": 3 * m}                            # ATE 0.5 * 3 = 1.5
    >>> float(plug_in_frontdoor(data, "x", "m", "y"))
    1.5
    """
    _, _, _, ww, count, total = _cells(data, treatment, mediator, outcome, w)
    p_x = count.sum(1) / ww.sum(1, keepdim=True)                     # (B, 2)
    p_m_given_x = count / count.sum(1, keepdim=True)                 # (B, M, 2)
    seen = count.sum(2) > 0
    bad = (count == 0).any(2) & seen
    _check(bad, w)
    inner = ((total / count).nan_to_num(0.0) * p_x[:, None, :]).sum(2)  # sum_x' P(x') E[y | m, x']
    effect = ((p_m_given_x[..., 1] - p_m_given_x[..., 0]) * inner).sum(1)
    return torch.where(bad.any(1), torch.nan, effect)


def regression_frontdoor(data: Mapping, treatment: str, mediator: str | Sequence[str], outcome: str,
                         w: torch.Tensor | None = None, *, model: str = "linear") -> torch.Tensor:
    """Two-stage linear regression (``model="linear"``) or the plug-in (``"saturated"``).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([0., 1., 0., 1., 0., 1., 0., 1.] * 25)
    >>> m = torch.tensor([0., 1., 0., 1., 0., 1., 1., 0.] * 25)       # P(m=1 | x): 0.25, 0.75
    >>> data = {"x": x, "m": m, "y": 3 * m}                            # ATE 0.5 * 3 = 1.5
    >>> round(float(regression_frontdoor(data, "x", "m", "y")), 6)
    1.5
    """
    if model == "saturated":
        return plug_in_frontdoor(data, treatment, mediator, outcome, w)
    if model != "linear":
        raise WorkbenchInputError(f"model must be 'linear' or 'saturated', got {model!r}.")
    ms = _mediators(mediator)
    x, y = binary(data, treatment), column(data, outcome)
    ww = _weights(w, len(x))
    first = torch.stack([least_squares(features(data, [treatment]), column(data, m), ww)[:, 1]
                         for m in ms], 1)                            # effect of x on each m
    second = least_squares(features(data, [*ms, treatment]), y, ww)[:, 1:1 + len(ms)]
    return (first * second).sum(1)


def ipw_frontdoor(data: Mapping, treatment: str, mediator: str | Sequence[str], outcome: str,
                  w: torch.Tensor | None = None) -> torch.Tensor:
    """Reweight units by ``P(m | x*) / P(m | x)`` (normalised), for ``x* = 1`` and ``0``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([0., 1., 0., 1., 0., 1., 0., 1.] * 25)
    >>> m = torch.tensor([0., 1., 0., 1., 0., 1., 1., 0.] * 25)       # P(m=1 | x): 0.25, 0.75
    >>> data = {"x": x, "m": m, "y": 3 * m}                            # ATE 0.5 * 3 = 1.5
    >>> round(float(ipw_frontdoor(data, "x", "m", "y")), 6)
    1.5
    """
    x, y, s, ww, count, _ = _cells(data, treatment, mediator, outcome, w)
    p_m_given_x = count / count.sum(1, keepdim=True)                 # (B, M, 2)
    bad = (count == 0).any(2) & (count.sum(2) > 0)
    _check(bad, w)
    own = p_m_given_x[:, s, x.long()]                                # P(m_i | x_i), (B, n)
    means = []
    for arm in (0, 1):
        ratio = (p_m_given_x[:, s, arm] / own).nan_to_num(0.0) * ww
        means.append((ratio * y).sum(1) / ratio.sum(1))
    return torch.where(bad.any(1), torch.nan, means[1] - means[0])
