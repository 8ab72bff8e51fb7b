"""Histogram discretisation and discrete mutual information, batched in torch.

These are the building blocks of MIG, Modularity, IRS and the fast InfoMEC. The
histogram follows ``numpy.histogram`` exactly (equal-width bins between each
column's minimum and maximum, edges computed as numpy computes them) and the bin of a
value follows ``numpy.digitize`` against the left edges, so a discretised code is
identical to disentanglement_lib's. Mutual information is in nats, as
``sklearn.metrics.mutual_info_score`` computes it, from a contingency table built with
one ``bincount`` per factor instead of a Python double loop over latents and factors.

Examples
--------
>>> import torch
>>> x = torch.tensor([[0.0], [0.4], [0.6], [1.0]])
>>> histogram_discretize(x, bins=2).flatten().tolist()
[0, 0, 1, 1]
>>> a = torch.tensor([[0], [0], [1], [1]])
>>> round(float(mutual_information(a, a)[0, 0]), 6)  # log 2
0.693147
"""

from __future__ import annotations

import torch

__all__ = ["histogram_discretize", "mutual_information", "entropy"]


def histogram_discretize(x: torch.Tensor, bins: int = 20) -> torch.Tensor:
    """Bin each column of ``x`` into ``bins`` equal-width bins; labels 0..bins-1.

    Parameters
    ----------
    x : Tensor, shape (n_points, n_columns)
        Finite values (float64 recommended: edges are computed in ``x``'s dtype).
    bins : int
        Number of bins per column (disentanglement_lib uses 20).

    Returns
    -------
    LongTensor, shape (n_points, n_columns)
        ``numpy.digitize(x[:, j], numpy.histogram(x[:, j], bins)[1][:-1]) - 1``.

    Examples
    --------
    >>> import torch
    >>> histogram_discretize(torch.tensor([[0.0], [0.5], [1.0]]), bins=2).T
    tensor([[0, 1, 1]])
    """
    lo, hi = x.min(dim=0).values, x.max(dim=0).values
    same = lo == hi  # numpy widens a degenerate range by 0.5 either side
    lo, hi = torch.where(same, lo - 0.5, lo), torch.where(same, hi + 0.5, hi)
    step = (hi - lo) / bins
    steps = torch.arange(bins + 1, dtype=x.dtype, device=x.device)
    edges = steps[None, :] * step[:, None] + lo[:, None]  # numpy.linspace's formula
    edges[:, -1] = hi
    left = edges[:, :-1].contiguous()  # (n_columns, bins): numpy.digitize's edges
    xt = x.T
    # the bin is the last left edge <= x; arithmetic gives it up to one bin of round-off,
    # and one comparison with the exact edges on either side settles it
    guess = ((xt - lo[:, None]) / step[:, None]).floor().long().clamp(0, bins - 1)
    guess = guess - (xt < left.gather(1, guess)).long()
    up = (guess + 1).clamp(max=bins - 1)
    guess = guess + ((guess + 1 < bins) & (xt >= left.gather(1, up))).long()
    return guess.T


def _label_counts(labels: torch.Tensor) -> int:
    return int(labels.max()) + 1


def mutual_information(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mutual information (nats) between every column of ``a`` and every column of ``b``.

    Parameters
    ----------
    a : LongTensor, shape (n_points, n_a)
        Non-negative integer labels (e.g. from :func:`histogram_discretize`).
    b : LongTensor, shape (n_points, n_b)
        Non-negative integer labels.

    Returns
    -------
    Tensor, shape (n_a, n_b), float64
        ``I(a_i; b_j)`` computed from the empirical joint distribution.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[0], [1], [0], [1]])
    >>> round(float(mutual_information(a, a)), 4)                   # = H(a) = log 2
    0.6931
    """
    n, n_a = a.shape
    size_a, size_b = _label_counts(a), _label_counts(b)
    cells = size_a * size_b
    offsets = torch.arange(n_a, device=a.device) * cells
    out = torch.empty(n_a, b.shape[1], dtype=torch.float64, device=a.device)
    for j in range(b.shape[1]):  # one bincount per column of b, all columns of a at once
        index = offsets[None, :] + a * size_b + b[:, j:j + 1]
        joint = torch.bincount(index.flatten(), minlength=n_a * cells)
        joint = joint.reshape(n_a, size_a, size_b).to(torch.float64) / n
        pa, pb = joint.sum(2, keepdim=True), joint.sum(1, keepdim=True)
        ratio = torch.where(joint > 0, joint / (pa * pb), torch.ones_like(joint))
        terms = joint * torch.log(ratio)
        eps = torch.finfo(terms.dtype).eps  # as sklearn: round-off terms count as zero
        out[:, j] = torch.where(terms.abs() < eps, 0.0, terms).sum((1, 2))
    return out.clamp_min(0.0)


def entropy(labels: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of each column of integer ``labels``; shape (n_columns,).

    Examples
    --------
    >>> import torch
    >>> entropy(torch.tensor([[0, 0], [1, 0], [2, 0], [3, 0]])).tolist()
    [1.3862943611198906, 0.0]
    """
    n, k = labels.shape
    size = _label_counts(labels)
    index = labels + torch.arange(k, device=labels.device) * size
    p = torch.bincount(index.flatten(), minlength=k * size).reshape(k, size).to(torch.float64) / n
    return -(torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))).sum(1)
