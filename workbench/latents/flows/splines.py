"""zuko's one-dimensional monotonic transforms as plain functions, with a hand-written backward (a speed path).

:class:`~workbench.latents.flows.StackedFlows` evaluates many one-feature flows at once;
it needs the univariate transforms of zuko's ``MonotonicRQSTransform`` (the neural
spline) and ``MonotonicAffineTransform`` (MAF's layer) as functions of a parameter
tensor, with the same constants and formulas.

What differs from zuko, and only in speed:

* Each element needs only its own bin: the knots' cumulative widths and heights are
  computed for every bin (the bin search needs them), the derivatives and every formula
  only at the two knots of the element's bin; an element's bin facts (which knots, inside
  the bound or not) are rows of small lookup tables (:func:`_tables`).
* The forward spline is a ``torch.autograd.Function`` whose backward is written out
  (:func:`_spline_backward`): autograd's own graph of the same formulas has about 250
  small operations, many over the ``(..., 3 * bins - 1)`` parameters; the analytic
  gradient needs ten over the parameters and a few dozen over the elements.
* The softmax over the bins is ``exp(w) / sum`` (safe: zuko squashes ``|w|`` below
  ``-log(slope) / 2`` first) with the sum and the cumulative sum from one matrix product,
  and the bin search is ``torch.searchsorted``: on the CPU, torch's softmax and cumsum
  over a last axis of 8 are several times slower than these.

``tests/test_flows_stacked.py`` pins both functions to zuko's transforms and the
backward to autograd through zuko's spline (and to ``torch.autograd.gradcheck``).

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

import functools
import math

import torch
from torch.autograd.function import once_differentiable

__all__ = ["spline", "affine", "UNIVARIATE"]


@functools.lru_cache(maxsize=16)
def _tables(bins: int, dtype: torch.dtype, device: torch.device) -> dict:
    """Per-bin lookup tables, indexed by the bin search's result ``i`` (``k = i - 1``, in ``[-1, bins]``).

    Reading an element's bin facts from a table row replaces half a dozen comparisons,
    a modulo and casts over every element (integer and boolean operations are slow on the CPU)."""
    k = torch.arange(-1, bins + 1) % bins                     # outside the bound: any bin, masked
    knots = torch.stack([k, k + 1], -1)                         # the bin's left and right knot
    where = (2 * bins - 1 + knots).clamp(max=3 * bins - 2)      # the raw derivatives of those knots
    valid = ((knots >= 1) & (knots <= bins - 1)).to(dtype)      # the end knots' derivative is 1
    inside = ((torch.arange(bins + 2) >= 1) & (torch.arange(bins + 2) <= bins)).to(dtype)
    j = torch.arange(bins)
    below, at = (j < k[:, None]).to(dtype), (j == k[:, None]).to(dtype)
    onehot = torch.eye(bins + 1, dtype=dtype)[knots][..., 1:bins] * valid[..., None]   # (..., 2, bins - 1)
    return {name: t.to(device) for name, t in {
        "steps": torch.ones(bins, bins + 1, dtype=dtype).triu(1),       # p @ steps = pad(p, (1, 0)).cumsum
        "index": torch.cat([knots, where], -1),                          # long (bins + 2, 4)
        "facts": torch.cat([inside[:, None], valid], -1),                # m, valid d0, valid d1
        "below_at": torch.stack([below, at], 1),                         # (bins + 2, 2, bins)
        "derivative": onehot}.items()}


def _bin(v: torch.Tensor, phi: torch.Tensor, row: int, bound: float, slope: float, keep: bool = False) -> dict:
    """Locate each element of ``v`` among the knots (``row`` 0: the ``x`` knots, 1: the ``y``
    knots) and read off its bin's two knots: everything the formulas (and the backward) need."""
    bins = (phi.shape[-1] + 1) // 3
    log_slope = math.log(slope)
    tables = _tables(bins, phi.dtype, phi.device)
    raw = phi[..., :2 * bins].unflatten(-1, (2, bins))           # widths and heights at once
    squash = (raw * (2 / log_slope)).abs_().add_(1)              # zuko: r / (1 + |2 r / log slope|)
    e = (raw / squash).exp_()                                    # softmax numerators (|r / squash| < 3.5)
    cumulative = e @ tables["steps"]                             # (..., 2, bins + 1): 0, ..., sum of e
    total = cumulative[..., bins]
    # how many knots lie strictly below v (the knots' scale, not v's, is mapped)
    at = ((v / bound + 1) * (total[..., row] / 2)).unsqueeze(-1).contiguous()
    i = torch.searchsorted(cumulative[..., row, :].contiguous(), at).squeeze(-1)
    flat = i.reshape(-1)
    index = tables["index"].index_select(0, flat).view(*i.shape, 4)
    facts = tables["facts"].index_select(0, flat).view(*i.shape, 3)
    ends = cumulative.gather(-1, index[..., None, :2].expand(*i.shape, 2, 2)) / total[..., None]
    start, width = ends[..., 0], ends[..., 1] - ends[..., 0]     # C_k and p_k, (..., 2): x and y
    rd = phi.gather(-1, index[..., 2:]) * facts[..., 1:]          # knot j's derivative: exp(squash(raw))
    rd_squash = (rd * (1 / log_slope)).abs_().add_(1)
    out = {"bins": bins, "m": facts[..., 0], "d": (rd / rd_squash).exp_(), "start": start, "width": width,
           "x0": bound * (2 * start[..., 0] - 1), "dx": 2 * bound * width[..., 0],
           "y0": bound * (2 * start[..., 1] - 1), "dy": 2 * bound * width[..., 1]}
    if keep:                                                     # what the backward needs besides
        out.update(i=flat, shape=i.shape, tables=tables, rd_squash=rd_squash,
                   e_scaled=e / (total[..., None] * squash ** 2))
    return out


def _forward_values(x, b, with_ladj=True):
    """``y``, ``log f'(x)`` (``None`` unless ``with_ladj``) and the intermediate terms of the
    forward formula (inside the bound)."""
    m = b["m"]
    d0, d1 = b["d"][..., 0], b["d"][..., 1]
    dx, dy = b["dx"], b["dy"]
    s = dy / dx
    z = m * (x - b["x0"]) / dx
    t = z * (1 - z)
    c = d0 + d1 - 2 * s
    den = s + c * t
    ratio = (s * z ** 2 + d0 * t) / den
    y = torch.where(m > 0, b["y0"] + dy * ratio, x)
    if not with_ladj:
        return y, None, {}
    slope_num = 2 * s * t + d0 * (1 - z) ** 2 + d1 * z ** 2
    ladj = m * (s ** 2 * slope_num / den ** 2).log()
    return y, ladj, {"s": s, "z": z, "t": t, "c": c, "den": den, "ratio": ratio, "slope_num": slope_num}


class _Spline(torch.autograd.Function):
    """The forward spline ``(x, phi) -> (y, log f'(x))`` with its gradient written out."""

    @staticmethod
    def forward(ctx, x, phi, bound, slope):
        b = _bin(x, phi, 0, bound, slope, keep=True)
        y, ladj, terms = _forward_values(x, b)
        ctx.bound, ctx.b, ctx.terms = bound, b, terms
        return y, ladj

    @staticmethod
    @once_differentiable
    def backward(ctx, gy, gl):
        g_x, g_phi = _spline_backward(gy, gl, ctx.b, ctx.terms, ctx.bound)
        return g_x, g_phi, None, None


def _spline_backward(gy, gl, b, terms, bound):
    """The gradients of ``(y, ladj)`` with respect to ``x`` and ``phi`` (the chain rule by hand)."""
    s, z, t, c, den, ratio, num = (terms[k] for k in ("s", "z", "t", "c", "den", "ratio", "slope_num"))
    m, d0, d1, dx, dy = b["m"], b["d"][..., 0], b["d"][..., 1], b["dx"], b["dy"]
    gy_in, gl = gy * m, gl * m                     # outside the bound, y = x: nothing reaches phi
    # y = y0 + dy N / D and ladj = 2 log s + log M - 2 log D, as functions of z, s, d0, d1
    u, v, w = gy_in * dy / den, gl / num, 2 * gl / den
    lin = 1 - 2 * z
    g_z = u * (2 * s * z + d0 * lin - ratio * c * lin) + v * 2 * (s * lin - d0 * (1 - z) + d1 * z) - w * c * lin
    g_s = u * (z ** 2 - ratio * (1 - 2 * t)) + v * 2 * t - w * (1 - 2 * t) + 2 * gl / s
    g_d = torch.stack([u * (1 - ratio) * t + v * (1 - z) ** 2 - w * t, v * z ** 2 - (u * ratio + w) * t], -1)
    # z = (x - x0) / dx and s = dy / dx
    g_x = g_z / dx + gy * (1 - m)
    g_start = torch.stack([-g_z / dx, gy_in], -1) * (2 * bound)                            # x0, y0 -> C_k
    g_width = torch.stack([-(g_z * z + g_s * s) / dx, gy_in * ratio + g_s / dx], -1) * (2 * bound)  # -> p_k
    # C_k = sum_{j<k} p_j and p_k, with p = softmax(r / squash): the softmax's and the squash's chain rule
    bins, shape, tables = b["bins"], b["shape"], b["tables"]
    below_at = tables["below_at"].index_select(0, b["i"]).view(*shape, 2, bins)
    g_p = g_start[..., None] * below_at[..., :1, :] + g_width[..., None] * below_at[..., 1:, :]
    dot = (g_start * b["start"] + g_width * b["width"])[..., None]
    g_raw = (g_p - dot) * b["e_scaled"]
    # d = exp(r / (1 + |r / log slope|)): d' = d / (1 + |r / log slope|)^2, at the bin's two knots
    onehot = tables["derivative"].index_select(0, b["i"]).view(*shape, 2, bins - 1)
    g_rd = g_d * b["d"] / b["rd_squash"] ** 2
    g_phi = torch.cat([g_raw.flatten(-2), onehot[..., 0, :] * g_rd[..., :1] + onehot[..., 1, :] * g_rd[..., 1:]], -1)
    return g_x, g_phi


def _inverse(y: torch.Tensor, phi: torch.Tensor, bound: float, slope: float, with_ladj: bool = True):
    """``x = f^{-1}(y)`` and ``log f'(x)`` (``None`` unless ``with_ladj``; zuko's quadratic root)."""
    b = _bin(y, phi, 1, bound, slope)
    m = b["m"]
    d0, d1, dy = b["d"][..., 0], b["d"][..., 1], b["dy"]
    s = dy / b["dx"]
    curve = d0 + d1 - 2 * s
    y_ = m * (y - b["y0"])
    qa = dy * (s - d0) + y_ * curve
    qb = dy * d0 - y_ * curve
    qc = -s * y_
    z = 2 * qc / (-qb - (qb ** 2 - 4 * qa * qc).sqrt())
    x = torch.where(m > 0, b["x0"] + z * b["dx"], y)
    if not with_ladj:
        return x, None
    t = z * (1 - z)
    jacobian = s ** 2 * (2 * s * t + d0 * (1 - z) ** 2 + d1 * z ** 2) / (s + curve * t) ** 2
    return x, m * jacobian.log()


def spline(x: torch.Tensor, phi: torch.Tensor, *, inverse: bool = False, bound: float = 5.0,
           slope: float = 1e-3, with_ladj: bool = True):
    """zuko's rational-quadratic spline ``y = f(x)`` (or ``x = f^-1(y)``) and ``log |f'(x)|``.

    ``phi`` holds each element's unconstrained ``widths, heights, derivatives`` side by
    side, shape ``x.shape + (3 * bins - 1,)``. Outside ``[-bound, bound]`` the map is the
    identity. With ``inverse=True`` it returns ``(x, log |f'(x)|)`` for the given ``y``;
    ``with_ladj=False`` skips the log-slope (``None`` in its place).
    The forward map's gradient is hand-written; the inverse is differentiated by autograd.

    Examples
    --------
    >>> import torch
    >>> y, ladj = spline(torch.tensor([7.0]), torch.zeros(1, 23))   # outside the bound: identity
    >>> y.tolist(), ladj.tolist()
    ([7.0], [0.0])
    """
    x = x.expand(phi.shape[:-1])
    if inverse:
        return _inverse(x, phi, bound, slope, with_ladj)
    if torch.is_grad_enabled() and (x.requires_grad or phi.requires_grad):
        return _Spline.apply(x, phi, bound, slope)
    return _forward_values(x, _bin(x, phi, 0, bound, slope), with_ladj)[:2]


def affine(x: torch.Tensor, phi: torch.Tensor, *, inverse: bool = False, slope: float = 1e-3,
           with_ladj: bool = True):
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
    return out, (log_scale if with_ladj else None)


#: the univariate map of each flow kind of :data:`~workbench.latents.flows.FLOW_KINDS`
UNIVARIATE = {"nsf": spline, "maf": affine}
