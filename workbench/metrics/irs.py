"""Interventional Robustness Score (Suter et al., 2019), disentanglement_lib protocol.

A latent is robust to nuisance factors if, once the factor it encodes is fixed, it
barely moves when the others change. For factor ``k`` and each of its values, the
latents' spread around their mean within that group (the 99% quantile of absolute
deviations) is averaged over the values; divided by the latent's largest deviation
over all points, one minus it is ``IRS[i, k]``. Each latent keeps its best factor and
the score is their average weighted by the latents' largest deviations. Factors are
histogram-discretised (20 bins) as in disentanglement_lib; constant latents are dropped.

Batched: per factor, every group and latent at once (a padded tensor and one
``topk``); the quantile is numpy's linear interpolation.

Invariances: permuting latents, shifting them, and rescaling all of them by one
common factor (each latent's IRS is scale-free, but the average weights latents by
their largest deviation, so rescaling one latent alone changes the score).
Defined results: if every latent is constant the score is 0 (as published); a
constant factor raises :class:`ConstantFactorError`.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=2000, seed=0, noise=0.01)
>>> irs(codes, factors).score > 0.9
True
"""

from __future__ import annotations

import torch

from workbench.metrics.inputs import check_codes_factors, check_positive_int, check_real, first_points
from workbench.metrics.result import MetricResult

__all__ = ["irs", "group_quantile", "PUBLISHED"]

PUBLISHED = {"num_points": 10_000, "diff_quantile": 0.99, "factor_bins": 20}


def group_quantile(values: torch.Tensor, groups: torch.Tensor, n_groups: int,
                   q: float) -> torch.Tensor:
    """Per-group, per-column ``q``-quantile (linear interpolation, like numpy).

    The groups are laid out in a dense (n_groups, largest group, n_columns) tensor
    padded with -inf; one ``topk`` along the group axis then yields the two order
    statistics the quantile interpolates between (for q = 0.99 only the top 1%).

    Parameters
    ----------
    values : Tensor (n, m)
    groups : LongTensor (n,) with labels 0..n_groups-1, every group non-empty.

    Examples
    --------
    >>> import torch
    >>> v = torch.tensor([[1.], [2.], [3.], [10.], [20.]])
    >>> group_quantile(v, torch.tensor([0, 0, 0, 1, 1]), 2, 0.5).flatten().tolist()
    [2.0, 15.0]
    """
    order = torch.argsort(groups, stable=True)
    g = groups[order]
    counts = torch.bincount(groups, minlength=n_groups)
    starts = torch.cumsum(counts, 0) - counts
    dense = torch.full((n_groups, int(counts.max()), values.shape[1]), -torch.inf,
                       dtype=values.dtype, device=values.device)
    dense[g, torch.arange(len(g), device=g.device) - starts[g]] = values[order]
    pos = q * (counts - 1).to(values.dtype)  # ascending position within each group
    rank_lo = counts - 1 - pos.floor().long()  # the same order statistics counted
    rank_hi = counts - 1 - pos.ceil().long()   # from the top (0 = the largest)
    top = torch.topk(dense, int(rank_lo.max()) + 1, dim=1).values
    rows = torch.arange(n_groups, device=values.device)
    v_lo, v_hi = top[rows, rank_lo], top[rows, rank_hi]
    frac = (pos - pos.floor())[:, None]
    return v_lo + frac * (v_hi - v_lo)


def irs(codes, factors, *, num_points: int | None = 10_000, diff_quantile: float = 0.99,
        factor_bins: int | None = 20) -> MetricResult:
    """IRS of ``codes`` for ``factors``.

    Parameters
    ----------
    num_points : int or None, default 10_000
        Use the first ``num_points`` points.
    diff_quantile : float, default 0.99
        Quantile of within-group deviations (1.0 is the paper's maximum).
    factor_bins : int or None, default 20
        Histogram bins for the factors (a factor with at most 20 values keeps them);
        None uses the raw values.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> irs(codes, factors, num_points=600).name
    'irs'
    """
    check_real(diff_quantile, "diff_quantile", 0.0, 1.0, low_open=False)
    if num_points is not None:
        check_positive_int(num_points, "num_points", 2)
    codes, labels = check_codes_factors(codes, factors, factor_bins)
    codes, labels = first_points(num_points, codes, labels)
    active = codes.var(0) > 0
    choices = {"num_points": num_points, "diff_quantile": diff_quantile,
               "factor_bins": factor_bins, "num_points_used": int(codes.shape[0]),
               "num_active": int(active.sum())}
    if not active.any():
        return MetricResult("irs", 0.0, choices=choices, published=PUBLISHED,
                            details={"note": "all latents are constant"})
    z = codes[:, active]
    max_dev = (z - z.mean(0)).abs().max(0).values
    matrix = torch.empty(z.shape[1], labels.shape[1], dtype=z.dtype, device=z.device)
    for k in range(labels.shape[1]):  # loop over factors only
        g = labels[:, k]
        n_groups = int(g.max()) + 1
        counts = torch.bincount(g, minlength=n_groups).to(z.dtype)
        means = torch.zeros(n_groups, z.shape[1], dtype=z.dtype, device=z.device)
        means.index_add_(0, g, z)
        means /= counts[:, None]
        spread = group_quantile((z - means[g]).abs(), g, n_groups, diff_quantile)
        matrix[:, k] = 1.0 - spread.mean(0) / max_dev
    best = matrix.max(1).values
    score = float((best * max_dev).sum() / max_dev.sum())
    return MetricResult("irs", score, choices=choices, published=PUBLISHED,
                        details={"irs_matrix": matrix, "per_latent": best,
                                 "active": active})
