"""A small synthetic generative process with known factors, for testing metrics.

Discrete factors (by default 3 x 6 x 10 x 8 x 8 values, the shape of a small
dSprites) are scaled to [0, 1] and mixed linearly into codes, plus Gaussian noise. The
mixing matrix decides how disentangled the code is:

* ``"disentangled"``: identity, each latent is one factor;
* ``"rotated"``: a random rotation, every latent mixes every factor;
* ``"mixed"``: identity plus a leak of each factor into the next latent;
* ``"redundant"``: each factor copied into two latents (a code on which the
  metrics disagree: modular but not compact).

:class:`SyntheticProcess` follows the factor-sampler interface of
:mod:`workbench.metrics.protocols` (``sample_factors`` and ``observe``); its
observations are already codes, so the encoder is the identity.

Examples
--------
>>> codes, factors = constructed_codes("rotated", n_points=5, seed=0)
>>> tuple(codes.shape), tuple(factors.shape), factors.dtype
((5, 5), (5, 5), torch.int64)
"""

from __future__ import annotations

import torch

from workbench.metrics.errors import MetricInputError

__all__ = ["FACTOR_SIZES", "KINDS", "SyntheticProcess", "mixing_matrix", "constructed_codes"]

FACTOR_SIZES = (3, 6, 10, 8, 8)
KINDS = ("disentangled", "rotated", "mixed", "redundant")


def mixing_matrix(kind: str, n_factors: int, seed: int = 0) -> torch.Tensor:
    """The (n_latents, n_factors) matrix that turns factor values into codes.

    Examples
    --------
    >>> mixing_matrix("redundant", 2).tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    eye = torch.eye(n_factors, dtype=torch.float64)
    if kind == "disentangled":
        return eye
    if kind == "rotated":
        g = torch.Generator().manual_seed(seed)
        q, r = torch.linalg.qr(torch.randn(n_factors, n_factors, generator=g, dtype=torch.float64))
        return q * torch.sign(torch.diagonal(r))
    if kind == "mixed":
        return eye + 0.6 * torch.roll(eye, 1, dims=0)
    if kind == "redundant":
        return torch.cat([eye, eye])
    raise MetricInputError(f"Unknown kind {kind!r}: choose one of {', '.join(KINDS)}.")


class SyntheticProcess:
    """Factors -> codes through a fixed linear mixing plus Gaussian noise.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    factor_sizes : tuple of int
        Number of values of each factor (each sampled uniformly).
    noise : float
        Standard deviation of the Gaussian noise added to each code entry.
    seed : int
        Seed of the random rotation (kind ``"rotated"``).

    Examples
    --------
    >>> p = SyntheticProcess("rotated", noise=0.0)
    >>> p.num_factors, p.observe(p.sample_factors(2), None).shape
    (5, torch.Size([2, 5]))
    """

    def __init__(self, kind: str = "disentangled", factor_sizes=FACTOR_SIZES,
                 noise: float = 0.05, seed: int = 0):
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        if any(s < 2 for s in self.factor_sizes):
            raise MetricInputError(f"every factor needs >= 2 values, got {factor_sizes}.")
        self.num_factors = len(self.factor_sizes)
        self.kind, self.noise = kind, float(noise)
        self.mixing = mixing_matrix(kind, self.num_factors, seed)

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` factor vectors, each factor uniform over its values; shape (n, n_factors)."""
        u = torch.rand(n, self.num_factors, generator=generator, dtype=torch.float64)
        return (u * torch.tensor(self.factor_sizes, dtype=torch.float64)).long()

    def observe(self, factors: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Codes of the given factors: scaled factor values, mixed, plus noise."""
        scale = torch.tensor([s - 1 for s in self.factor_sizes], dtype=torch.float64)
        values = factors.to(torch.float64) / scale
        codes = values @ self.mixing.T
        if self.noise > 0:  # float32 draws: torch's float64 randn is 5x slower on CPU
            noise = torch.randn(codes.shape, generator=generator, dtype=torch.float32)
            codes = codes + self.noise * noise.to(torch.float64)
        return codes


def constructed_codes(kind: str = "disentangled", n_points: int = 10_000, seed: int = 0,
                      noise: float = 0.05, factor_sizes=FACTOR_SIZES):
    """Sample ``(codes, factors)`` from a :class:`SyntheticProcess` of the given kind.

    Examples
    --------
    >>> codes, factors = constructed_codes("mixed", n_points=10)
    >>> codes.shape, factors.shape
    (torch.Size([10, 5]), torch.Size([10, 5]))
    """
    process = SyntheticProcess(kind, factor_sizes, noise, seed)
    g = torch.Generator().manual_seed(seed)
    factors = process.sample_factors(n_points, g)
    return process.observe(factors, g), factors
