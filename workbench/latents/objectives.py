"""The terms of the VAE objectives, written out.

With encoder ``q(z|x) = N(mu(x), diag(sigma^2(x)))``, prior ``p(z) = N(0, I)`` and a
Bernoulli decoder ``p(x|z)`` (pixel intensities in [0, 1] as targets), the evidence
lower bound of one image is

.. math::

    \\mathrm{ELBO}(x) = \\mathbb{E}_{q(z|x)}[\\log p(x|z)] - \\mathrm{KL}(q(z|x)\\,\\|\\,p(z)),

and the KL between two Gaussians has the closed form
``0.5 * sum(mu^2 + sigma^2 - log sigma^2 - 1)``.

beta-TCVAE (Chen et al. 2018) splits the averaged KL into index-code mutual information,
total correlation and dimension-wise KL,

.. math::

    \\mathbb{E}_x \\mathrm{KL}(q(z|x) \\| p(z)) = I_q(x; z)
      + \\mathrm{KL}(q(z) \\| \\textstyle\\prod_j q(z_j))
      + \\textstyle\\sum_j \\mathrm{KL}(q(z_j) \\| p(z_j)),

estimating the aggregate posterior ``q(z)`` on a minibatch by minibatch-weighted
sampling. :func:`tc_decomposition` returns the three terms.

Examples
--------
>>> import torch
>>> mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
>>> gaussian_kl(mu, logvar).tolist()       # q equals the prior
[0.0, 0.0, 0.0, 0.0]
>>> float(gaussian_kl(torch.ones(1, 2), torch.zeros(1, 2)))   # 0.5 * (1 + 1)
1.0
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["bernoulli_log_likelihood", "gaussian_kl", "gaussian_log_density", "tc_decomposition"]

_LOG_2PI = math.log(2 * math.pi)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``log p(x|z)`` per image, summed over pixels: ``(n,)``.

    Examples
    --------
    >>> import torch
    >>> bernoulli_log_likelihood(torch.zeros(1, 4), torch.ones(1, 4))    # 4 log(1/2)
    tensor([-2.7726])
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, exp(logvar)) || N(0, I))`` per row, summed over latents: ``(n,)``.

    Examples
    --------
    >>> import torch
    >>> gaussian_kl(torch.zeros(1, 3), torch.zeros(1, 3))                # the prior itself
    tensor([0.])
    """
    return 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def gaussian_log_density(z, mean, logvar):
    """Elementwise ``log N(z; mean, exp(logvar))`` (broadcasting).

    Examples
    --------
    >>> import torch
    >>> gaussian_log_density(torch.zeros(1), torch.zeros(1), torch.zeros(1))   # -log(2 pi)/2
    tensor([-0.9189])
    """
    return -0.5 * (_LOG_2PI + logvar + (z - mean).pow(2) * torch.exp(-logvar))


def tc_decomposition(z, mean, logvar, dataset_size: int):
    """Minibatch-weighted estimates of (mutual information, total correlation, dimension-wise KL).

    Each is a scalar, averaged over the batch. ``z`` is one posterior sample per image.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> mu, logvar = torch.randn(256, 2), torch.full((256, 2), -4.0)
    >>> z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
    >>> mi, tc, dwkl = tc_decomposition(z, mu, logvar, dataset_size=256)
    >>> log_ratio = gaussian_log_density(z, mu, logvar) - gaussian_log_density(z, 0 * z, 0 * z)
    >>> bool(torch.isclose(mi + tc + dwkl, log_ratio.sum(1).mean()))   # the three terms telescope
    True
    """
    n = z.shape[0]
    # log q(z_i | x_j) for every pair (i, j) and latent d: (n, n, D)
    pairwise = gaussian_log_density(z.unsqueeze(1), mean.unsqueeze(0), logvar.unsqueeze(0))
    log_nm = math.log(n * dataset_size)
    log_qz = torch.logsumexp(pairwise.sum(2), dim=1) - log_nm
    log_prod_qzj = (torch.logsumexp(pairwise, dim=1) - log_nm).sum(1)
    log_qz_given_x = gaussian_log_density(z, mean, logvar).sum(1)
    log_pz = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    mutual_information = (log_qz_given_x - log_qz).mean()
    total_correlation = (log_qz - log_prod_qzj).mean()
    dimension_kl = (log_prod_qzj - log_pz).mean()
    return mutual_information, total_correlation, dimension_kl
