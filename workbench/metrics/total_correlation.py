"""Gaussian total correlation of a code (the unsupervised score of disentanglement_lib).

Fit a Gaussian to the codes; its total correlation, the KL divergence from the joint
to the product of its marginals, is ``0.5 * (sum_i log Sigma_ii - log det Sigma)``
(nats). Zero for uncorrelated latents; it grows as latents become linearly dependent.
Needs no factors; lower is "more factorised".

Invariances: permuting latents and rescaling each latent (both cancel in the formula);
not rotations.
Defined results: a single latent has total correlation 0; a constant latent raises
:class:`MetricInputError` (its variance is zero, the log is undefined); latents that
are exactly linearly dependent raise too (the total correlation is infinite).

Examples
--------
>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> z = torch.randn(20000, 2, generator=g, dtype=torch.float64)
>>> round(gaussian_total_correlation(z).score, 2)
0.0
>>> rho = 0.8; z2 = torch.stack([z[:, 0], rho * z[:, 0] + (1 - rho**2) ** 0.5 * z[:, 1]], 1)
>>> round(gaussian_total_correlation(z2).score, 1)  # closed form: -0.5 log(1 - rho^2) = 0.51
0.5
"""

from __future__ import annotations

import torch

from workbench.metrics.errors import MetricInputError
from workbench.metrics.inputs import as_matrix
from workbench.metrics.result import MetricResult

__all__ = ["gaussian_total_correlation"]


def gaussian_total_correlation(codes) -> MetricResult:
    """Total correlation (nats) of a Gaussian fitted to ``codes`` (n_points, n_latents).

    Examples
    --------
    >>> import torch
    >>> z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    >>> gaussian_total_correlation(z).score < 0.01              # independent latents: about 0
    True
    """
    codes = as_matrix(codes, "codes")
    cov = torch.cov(codes.T).reshape(codes.shape[1], codes.shape[1])
    var = torch.diagonal(cov)
    if (var <= 0).any():
        raise MetricInputError(f"Latent(s) {torch.nonzero(var <= 0).flatten().tolist()} are "
                               "constant; drop them before computing total correlation.")
    sign, logdet = torch.linalg.slogdet(cov)
    if sign <= 0 or not torch.isfinite(logdet):
        raise MetricInputError("The codes' covariance is singular (some latents are exact "
                               "linear combinations of others): total correlation is infinite.")
    tc = float(0.5 * (torch.log(var).sum() - logdet))
    return MetricResult("gaussian_total_correlation", max(tc, 0.0),
                        choices={"estimator": "gaussian", "num_points_used": codes.shape[0]},
                        details={"covariance": cov})
