"""The simulated multi-domain data of Zhou et al. (ICLR 2024), with its true counterfactuals.

A latent linear SCM over ``m`` variables in topological order ``0, ..., m-1``, one
weight matrix per domain ``d`` (row-vector convention, strictly upper triangular)::

    z = z A_d + e + b_d,        e ~ N(0, I)        so  z = e (I - A_d)^-1 + b_d

Only the *intervened* mechanisms (the columns of ``A_d`` and the entries of ``b_d``
named in ``intervened``) differ between domains; the others are shared. The data are
seen through one invertible observation map, the same in every domain::

    x = g(z) = (LeakyReLU(z) / scale) @ G,      |det G| = 1

The parameter distributions follow the paper's simulated experiments: shared and
per-domain weights N(0, 1); one bias per domain, U(-2, 2) * sqrt(m / |I|), added to
every intervened variable; LeakyReLU slope 0.5; ``scale`` the per-variable standard
deviation of LeakyReLU(z) over a reference sample of all domains; ``G`` a N(0, 1)
matrix rescaled to |det G| = 1.

The domain counterfactual of ``x`` seen in domain ``d``, had it been generated in
domain ``d'``, keeps the noise ``e`` and swaps the mechanisms:
``x' = g(e (I - A_d')^-1 + b_d')`` with ``e = (g^-1(x) - b_d)(I - A_d)``.

Examples
--------
>>> scm = LatentDomainSCM(n_domains=2, seed=0)
>>> x, d, e = scm.sample(3, seed=1)
>>> x.shape, d.tolist()
(torch.Size([6, 6]), [0, 0, 0, 1, 1, 1])
>>> bool(torch.allclose(scm.counterfactual(x, d, 1), scm.observe_noise(e, 1), atol=1e-4))
True
"""

from __future__ import annotations

import math

import numpy as np
import torch

from workbench.datasets._random import check_count
from workbench.latents.domain_counterfactuals.checks import (
    check_domain_index, check_domains, check_matrix,
)

__all__ = ["LatentDomainSCM", "leaky_relu", "leaky_relu_inverse"]


def leaky_relu(z: torch.Tensor, slope: float) -> torch.Tensor:
    """``z`` where positive, ``slope * z`` elsewhere.

    Examples
    --------
    >>> leaky_relu(torch.tensor([-2.0, 3.0]), 0.5).tolist()
    [-1.0, 3.0]
    """
    return torch.where(z > 0, z, slope * z)


def leaky_relu_inverse(u: torch.Tensor, slope: float) -> torch.Tensor:
    """The inverse of :func:`leaky_relu` (``slope > 0``).

    Examples
    --------
    >>> leaky_relu_inverse(torch.tensor([-1.0, 3.0]), 0.5).tolist()
    [-2.0, 3.0]
    """
    return torch.where(u > 0, u, u / slope)


class LatentDomainSCM:
    """A latent linear SCM whose intervened mechanisms change across domains.

    Parameters
    ----------
    n_domains : int
        Number of domains (at least 2).
    latent_dim : int
        Number of latent (and observed) variables ``m``.
    intervened : sequence of int
        The variables whose mechanisms differ across domains (the paper's ``I*``);
        by default the last two, the case in which the sparse canonical model is
        correctly specified.
    seed : int
        Seeds every parameter (weights, biases, ``G``, ``scale``).
    slope : float
        The LeakyReLU slope of the observation map.
    scale_samples : int
        Samples per domain used to fix ``scale``.

    Examples
    --------
    >>> scm = LatentDomainSCM(3, latent_dim=4, intervened=[3], seed=0, scale_samples=100)
    >>> scm.weights.shape, scm.intervened            # one A_d per domain
    (torch.Size([3, 4, 4]), (3,))
    >>> bool((scm.weights[1][:, :3] == scm.weights[0][:, :3]).all())   # shared mechanisms
    True
    """

    def __init__(self, n_domains: int, latent_dim: int = 6, intervened=None, seed: int = 0,
                 slope: float = 0.5, scale_samples: int = 20_000):
        if isinstance(n_domains, bool) or not isinstance(n_domains, int) or n_domains < 2:
            from workbench.errors import WorkbenchInputError
            raise WorkbenchInputError(f"n_domains must be an integer >= 2, got {n_domains!r}.")
        intervened = (latent_dim - 2, latent_dim - 1) if intervened is None else intervened
        self.intervened = tuple(sorted({check_domain_index(i, latent_dim, "intervened variable")
                                        for i in intervened}))
        self.n_domains, self.latent_dim, self.seed, self.slope = n_domains, latent_dim, seed, slope
        rng = np.random.default_rng([seed, 0])
        m, cols = latent_dim, list(self.intervened)
        shared = np.triu(rng.standard_normal((m, m)), k=1)
        weights, biases = [], []
        for _ in range(n_domains):
            own = np.triu(rng.standard_normal((m, m)), k=1)
            a = shared.copy()
            a[:, cols] = own[:, cols]
            b = np.zeros(m)
            b[cols] = rng.uniform(-2.0, 2.0) * math.sqrt(m / len(cols))
            weights.append(a)
            biases.append(b)
        self.weights = torch.tensor(np.stack(weights), dtype=torch.float32)   # (D, m, m)
        self.biases = torch.tensor(np.stack(biases), dtype=torch.float32)     # (D, m)
        g = rng.standard_normal((m, m))
        g = g / abs(np.linalg.det(g)) ** (1.0 / m)
        self.mixing = torch.tensor(g, dtype=torch.float32)
        self.scale = torch.ones(m)
        _, d_ref, e_ref = self.sample(scale_samples, seed=[seed, 1], observed=False)
        self.scale = leaky_relu(self.latent_from_noise(e_ref, d_ref), slope).std(dim=0)

    # -- the latent SCM ---------------------------------------------------------------
    def latent_from_noise(self, noise: torch.Tensor, domains) -> torch.Tensor:
        """``z = e (I - A_d)^-1 + b_d`` row by row (``domains``: an int or one per row)."""
        noise = check_matrix(noise, self.latent_dim, "noise")
        d = self._domains(domains, len(noise))
        eye = torch.eye(self.latent_dim)
        z = torch.empty_like(noise)
        for k in d.unique().tolist():
            rows = d == k
            z[rows] = noise[rows] @ torch.linalg.inv(eye - self.weights[k]) + self.biases[k]
        return z

    def noise_from_latent(self, z: torch.Tensor, domains) -> torch.Tensor:
        """Abduction in the latent SCM: ``e = (z - b_d)(I - A_d)``."""
        z = check_matrix(z, self.latent_dim, "z")
        d = self._domains(domains, len(z))
        eye = torch.eye(self.latent_dim)
        return torch.einsum("ni,nij->nj", z - self.biases[d], eye - self.weights[d])

    # -- the observation map ----------------------------------------------------------
    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """``x = g(z) = (LeakyReLU(z) / scale) @ G``."""
        return (leaky_relu(check_matrix(z, self.latent_dim, "z"), self.slope) / self.scale) @ self.mixing

    def unobserve(self, x: torch.Tensor) -> torch.Tensor:
        """``z = g^-1(x)``."""
        u = torch.linalg.solve(self.mixing.T, check_matrix(x, self.latent_dim, "x").T).T * self.scale
        return leaky_relu_inverse(u, self.slope)

    def observe_noise(self, noise: torch.Tensor, domains) -> torch.Tensor:
        """The observation that noise ``e`` produces in the given domain(s)."""
        return self.observe(self.latent_from_noise(noise, domains))

    # -- data and ground truth --------------------------------------------------------
    def sample(self, n_per_domain: int, seed=0, observed: bool = True):
        """``n_per_domain`` draws from every domain: ``(x, domains, noise)``, domain-major."""
        n_per_domain = check_count(n_per_domain, "n_per_domain")
        rng = np.random.default_rng(seed)
        noise = torch.tensor(rng.standard_normal((self.n_domains * n_per_domain, self.latent_dim)),
                             dtype=torch.float32)
        domains = torch.arange(self.n_domains).repeat_interleave(n_per_domain)
        x = self.observe_noise(noise, domains) if observed else None
        return x, domains, noise

    def counterfactual(self, x: torch.Tensor, domains, target) -> torch.Tensor:
        """The true domain counterfactual of ``x`` (seen in ``domains``) in domain ``target``."""
        noise = self.noise_from_latent(self.unobserve(x), domains)
        return self.observe_noise(noise, target)

    def _domains(self, domains, n: int) -> torch.Tensor:
        return check_domains(domains, n, self.n_domains)
