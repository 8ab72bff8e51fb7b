"""Mutual Information Gap (Chen et al., 2018), as disentanglement_lib computes it.

For each factor ``v_k``: the gap between the largest and second-largest mutual
information ``I(z_j; v_k)`` over latents ``z_j``, divided by the factor's entropy
``H(v_k)``; the score is the mean over factors. Latents are discretised into equal-width
histogram bins (20 by default), factors are taken as given categories. A code in which
each factor is captured by exactly one latent scores near 1; a rotated code, in which
several latents share a factor, scores near 0.

The computation is the published one, batched: one ``bincount`` per factor builds all
contingency tables, instead of ``mutual_info_score`` in a double loop. It equals
disentanglement_lib's number (tests check to 1e-6), so there is only an exact mode.

Invariances: permuting latents, and any strictly increasing rescaling of a latent
(histogram bins are equal-width, so only affine rescaling keeps bins identical).

Defined results: a constant factor raises :class:`ConstantFactorError`; fewer than two
latents raises :class:`TooFewLatentsError` (there is no second-best latent to gap to);
a constant latent falls in one bin and carries zero information.

Examples
--------
>>> import torch
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=2000, seed=0, noise=0.01)
>>> r = mig(codes, factors)
>>> r.score > 0.9, r.mode, r.choices["bins"]
(True, 'exact', 20)
"""

from __future__ import annotations

import torch

from workbench.metrics.errors import TooFewLatentsError
from workbench.metrics.information import entropy, histogram_discretize, mutual_information
from workbench.metrics.inputs import MAX_BINS, check_codes_factors, check_positive_int, first_points
from workbench.metrics.result import MetricResult

__all__ = ["mig", "PUBLISHED"]

PUBLISHED = {"bins": 20, "num_points": 10_000, "factor_bins": None}


def mig(codes, factors, *, bins: int = 20, num_points: int | None = 10_000,
        factor_bins: int | None = None) -> MetricResult:
    """Mutual Information Gap of ``codes`` with respect to ``factors``.

    Parameters
    ----------
    codes : Tensor (n_points, n_latents)
        Latent codes (e.g. encoder means), at least two latents.
    factors : Tensor (n_points, n_factors)
        Ground-truth factors; each distinct value is a category.
    bins : int, default 20
        Histogram bins per latent (disentanglement_lib: 20).
    num_points : int or None, default 10_000
        Use the first ``num_points`` points (all when None or when fewer are given).
    factor_bins : int or None, default None
        Histogram-discretise the factors too (for continuous factors); None keeps
        their values as categories, as the published protocol does.

    Returns
    -------
    MetricResult
        ``score`` is MIG; ``details`` holds the ``mutual_information`` matrix
        (n_latents, n_factors), the factor ``entropy`` and the per-factor ``gaps``.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> r = mig(codes, factors)
    >>> r.name, r.score > 0.9
    ('mig', True)
    """
    bins = check_positive_int(bins, "bins", 2, MAX_BINS)
    if num_points is not None:
        num_points = check_positive_int(num_points, "num_points", 2)
    codes, labels = check_codes_factors(codes, factors, factor_bins)
    if codes.shape[1] < 2:
        raise TooFewLatentsError(
            f"MIG needs at least 2 latents (it is a gap between the best and second-best "
            f"latent), got {codes.shape[1]}. Use InfoMEC or DCI for a single latent.")
    codes, labels = first_points(num_points, codes, labels)
    mi = mutual_information(histogram_discretize(codes, bins), labels)
    h = entropy(labels)
    top2 = torch.topk(mi, 2, dim=0).values
    gaps = (top2[0] - top2[1]) / h
    choices = {"bins": bins, "num_points": num_points, "factor_bins": factor_bins,
               "num_points_used": int(codes.shape[0])}
    return MetricResult("mig", float(gaps.mean()), mode="exact", choices=choices,
                        published=PUBLISHED,
                        details={"mutual_information": mi, "entropy": h, "gaps": gaps})

