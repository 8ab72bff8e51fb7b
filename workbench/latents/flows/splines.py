"""zuko's one-dimensional monotonic transforms, written out as plain functions (a speed path).

:class:`~workbench.latents.flows.StackedFlows` evaluates many one-feature flows at once;
it needs the univariate transforms of zuko's ``MonotonicRQSTransform`` (the neural
spline) and ``MonotonicAffineTransform`` (MAF's layer) as functions of a parameter
tensor, with the same constants and formulas. One thing differs, and only in speed:
the softmax over the bins is written out (``exp(w) / sum``, safe since zuko squashes
``w`` below ``-log(slope) / 2`` first), the cumulative sum is a matrix product, and the
bin search is ``torch.searchsorted``: on the CPU, torch's softmax and cumsum over a last
axis of 8 are several times slower than these.
``tests/test_flows_stacked.py`` pins both functions to zuko's transforms.

Examples
--------
>>> import torch, zuko
>>> phi = torch.randn(5, 23)                       # 8 bins: widths, heights, 7 derivatives
>>> x = torch.randn(5)
>>> y, ladj = spline(x, phi)
>>> t = zuko.transforms.MonotonicRQSTransform(phi[:, :8], phi[:, 8:16], phi[:, 16:])
>>> bool(torch.allclose(y, t(x), atol=1e-6)), bool(torch.allclose(spline(y, phi, inverse=True)[0], x, atol=1e-5))
(True, True)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["spline", "affine", "UNIVARIATE"]


def _softmax(w: torch.Tensor) -> torch.Tensor:
    """Softmax without the max-shift: safe here, the squashed ``|w| < -log(slope) / 2``."""
    e = w.exp()
    return e / e.sum(-1, keepdim=True)


def _cumulative(bins: int, like: torch.Tensor) -> torch.Tensor:
    """``p @ C = pad(p, (1, 0)).cumsum(-1)``: a matrix product beats cumsum on short axes."""
    return torch.ones(bins, bins + 1, dtype=like.dtype, device=like.device).triu(1)


def _knots(phi: torch.Tensor, bound: float, slope: float) -> torch.Tensor:
    """The knots' ``x``, ``y`` and derivatives, side by side: ``(..., 3, bins + 1)``."""
    bins = (phi.shape[-1] + 1) // 3
    log_slope = math.log(slope)
    wh = phi[..., :2 * bins].unflatten(-1, (2, bins))          # widths and heights at once
    wh = wh / (1 + (2 * wh / log_slope).abs())
    xy = bound * (2 * (_softmax(wh) @ _cumulative(bins, wh)) - 1)
    d = phi[..., 2 * bins:]
    d = F.pad(d / (1 + (d / log_slope).abs()), (1, 1)).exp()
    return torch.cat([xy, d.unsqueeze(-2)], -2)


def spline(x: torch.Tensor, phi: torch.Tensor, *, inverse: bool = False, bound: float = 5.0,
           slope: float = 1e-3):
    """zuko's rational-quadratic spline ``y = f(x)`` (or ``x = f^-1(y)``) and ``log |f'(x)|``.

    ``phi`` holds each element's unconstrained ``widths, heights, derivatives`` side by
    side, shape ``x.shape + (3 * bins - 1,)``. Outside ``[-bound, bound]`` the map is the
    identity. With ``inverse=True`` it returns ``(x, log |f'(x)|)`` for the given ``y``.

    Examples
    --------
    >>> import torch
    >>> y, ladj = spline(torch.tensor([7.0]), torch.zeros(1, 23))   # outside the bound: identity
    >>> y.tolist(), ladj.tolist()
    ([7.0], [0.0])
    """
    table = _knots(phi, bound, slope)
    bins = table.shape[-1] - 1
    # the bin of each element: how many knots lie strictly below it, minus one
    k = torch.searchsorted(table[..., int(inverse), :].contiguous(), x.unsqueeze(-1).contiguous()).squeeze(-1) - 1
    inside = (k >= 0) & (k < bins)
    k = (k % bins)[..., None, None]
    ends = table.gather(-1, torch.cat([k, k + 1], -1).expand(*k.shape[:-2], 3, 2))   # (..., 3, 2)
    (x0, x1), (y0, y1), (d0, d1) = ends.unbind(-2)[0].unbind(-1), ends.unbind(-2)[1].unbind(-1), \
        ends.unbind(-2)[2].unbind(-1)
    dx, dy = x1 - x0, y1 - y0
    s = dy / dx
    curve = d0 + d1 - 2 * s
    if inverse:
        y_ = inside * (x - y0)
        a = dy * (s - d0) + y_ * curve
        b = dy * d0 - y_ * curve
        c = -s * y_
        z = 2 * c / (-b - (b ** 2 - 4 * a * c).sqrt())
        zz = z * (1 - z)
        out = x0 + z * dx
    else:
        z = inside * (x - x0) / dx
        zz = z * (1 - z)
        out = y0 + dy * (s * z ** 2 + d0 * zz) / (s + curve * zz)
    jacobian = s ** 2 * (2 * s * zz + d0 * (1 - z) ** 2 + d1 * z ** 2) / (s + curve * zz) ** 2
    return torch.where(inside, out, x), inside * jacobian.log()


def affine(x: torch.Tensor, phi: torch.Tensor, *, inverse: bool = False, slope: float = 1e-3):
    """zuko's monotonic affine map ``y = x * exp(s') + shift`` (``phi = [shift, s]``) and its log-slope.

    Examples
    --------
    >>> import torch
    >>> y, ladj = affine(torch.tensor([1.0]), torch.tensor([[2.0, 0.0]]))   # shift 2, scale 1
    >>> y.tolist(), ladj.tolist()
    ([3.0], [0.0])
    """
    shift, raw = phi[..., 0], phi[..., 1]
    log_scale = raw / (1 + (raw / math.log(slope)).abs())
    out = (x - shift) / log_scale.exp() if inverse else x * log_scale.exp() + shift
    return out, log_scale


#: the univariate map of each flow kind of :data:`~workbench.latents.flows.FLOW_KINDS`
UNIVARIATE = {"nsf": spline, "maf": affine}
