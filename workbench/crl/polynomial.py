"""Synthetic data for interventional CRL with polynomial decoders (Ahuja et al., ICML 2023).

Latents ``z`` (``latent_dim`` of them) follow a linear SCM over a random DAG with
uniform noise; the observations are a polynomial of degree ``degree`` in the latents,
``x = G m(z)``, where ``m(z)`` lists every monomial of degree 1..``degree`` and ``G``
is a Gaussian ``len(m) x data_dim`` matrix (Ahuja et al.'s setting: ``data_dim = 200``,
degrees 2 and 3, ``latent_dim`` 6 and 10). Its rows are scaled so that each degree
carries the same share of the signal: with equal rows the 21 quadratic monomials of 6
latents would drown the 6 linear ones, and a decoder that is nearly even in ``z``
lets an autoencoder fold ``z`` onto ``|z|`` at a small reconstruction cost.

Besides observational data there is one interventional data set per latent: under
``do(z_i = c)`` latent ``i`` is held at one value (``c`` drawn once per data set) while
its descendants respond through the SCM.

Examples
--------
>>> import torch
>>> monomials(torch.tensor([[2.0, 3.0]]), 2).tolist()
[[2.0, 3.0, 4.0, 6.0, 9.0]]
>>> data = make_interventional_data(latent_dim=3, degree=2, data_dim=20, n_obs=100, n_int=50, seed=0)
>>> data.x_obs.shape, len(data.x_int), data.x_int[0].shape
(torch.Size([100, 20]), 3, torch.Size([50, 20]))
>>> bool((data.z_int[1][:, 1] == data.z_int[1][0, 1]).all())     # z_1 held fixed under do(z_1)
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from workbench.errors import WorkbenchInputError

__all__ = ["monomials", "num_monomials", "InterventionalData", "make_interventional_data"]


def _monomial_indices(dim: int, degree: int) -> list[tuple[int, ...]]:
    return [c for d in range(1, degree + 1) for c in itertools.combinations_with_replacement(range(dim), d)]


def num_monomials(dim: int, degree: int) -> int:
    """How many monomials of degree 1..``degree`` there are in ``dim`` variables.

    Examples
    --------
    Two variables up to degree 2: ``z0, z1, z0^2, z0 z1, z1^2``.

    >>> num_monomials(2, 2)
    5
    >>> num_monomials(6, 2)               # 6 linear + 21 quadratic
    27
    """
    return len(_monomial_indices(dim, degree))


def monomials(z: torch.Tensor, degree: int) -> torch.Tensor:
    """Every monomial of degree 1..``degree`` of the columns of ``z``, in graded order.

    Parameters
    ----------
    z : torch.Tensor
        ``(n, dim)`` latents.
    degree : int
        The highest degree, at least 1.

    Returns
    -------
    torch.Tensor
        ``(n, num_monomials(dim, degree))``: first the columns of ``z``, then the products
        of two, and so on.

    Raises
    ------
    WorkbenchInputError
        If ``degree`` is not a positive integer.

    Examples
    --------
    >>> z = torch.tensor([[2.0, 3.0]])
    >>> monomials(z, 2).tolist()                      # z0, z1, z0^2, z0 z1, z1^2
    [[2.0, 3.0, 4.0, 6.0, 9.0]]
    >>> monomials(z, 3).shape[1] == num_monomials(2, 3)
    True
    >>> monomials(z, 0)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: degree must be a positive integer, got 0.
    """
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise WorkbenchInputError(f"degree must be a positive integer, got {degree!r}.")
    dim = z.shape[1]
    # one gather: pad each monomial's index tuple with a column of ones, then multiply along it
    index = torch.tensor([list(c) + [dim] * (degree - len(c)) for c in _monomial_indices(dim, degree)],
                         device=z.device)
    padded = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype, device=z.device)], dim=1)
    return padded[:, index].prod(dim=2)


@dataclass(frozen=True)
class InterventionalData:
    """Observational and per-latent ``do`` data, with the latents that made them.

    ``x_int[i]`` and ``z_int[i]`` are drawn under ``do(z_i = c_i)``; ``degree`` is the
    decoder's polynomial degree.

    Examples
    --------
    >>> data = make_interventional_data(latent_dim=2, degree=2, data_dim=5, n_obs=40, n_int=10)
    >>> data.z_obs.shape, data.x_obs.shape, len(data.z_int), data.degree
    (torch.Size([40, 2]), torch.Size([40, 5]), 2, 2)
    """

    x_obs: torch.Tensor
    z_obs: torch.Tensor
    x_int: tuple          # x_int[i]: data under do(z_i = c_i)
    z_int: tuple
    degree: int


def _linear_scm(latent_dim: int, rng: np.random.Generator, density: float = 0.5):
    upper = np.triu(rng.random((latent_dim, latent_dim)) < density, k=1)
    weights = rng.uniform(0.5, 1.5, (latent_dim, latent_dim)) * rng.choice([-1, 1], (latent_dim, latent_dim))
    return np.where(upper, weights, 0.0)          # W[i, j]: edge i -> j (i < j)


def _sample_latents(W: np.ndarray, n: int, rng, do: dict | None = None) -> np.ndarray:
    z = np.zeros((n, W.shape[0]))
    noise = rng.uniform(-1.0, 1.0, (n, W.shape[0]))
    for j in range(W.shape[0]):                   # 0..d-1 is a topological order
        z[:, j] = z @ W[:, j] + noise[:, j]
        if do and j in do:
            z[:, j] = do[j]
    return z


def make_interventional_data(latent_dim: int = 6, degree: int = 2, data_dim: int = 200,
                             n_obs: int = 10_000, n_int: int = 2_000, seed=0) -> InterventionalData:
    """Draw one synthetic problem (see the module docstring); latents are standardised.

    Parameters
    ----------
    latent_dim, degree, data_dim
        Number of latents, decoder degree, number of observed coordinates
        (``1 <= latent_dim <= data_dim``).
    n_obs, n_int
        Rows of observational data and of each interventional data set.
    seed
        Seed of the graph, the weights, the do values, the noise and the decoder.

    Returns
    -------
    InterventionalData

    Raises
    ------
    WorkbenchInputError
        If ``latent_dim`` is not between 1 and ``data_dim``.

    Examples
    --------
    >>> data = make_interventional_data(latent_dim=3, degree=2, data_dim=20, n_obs=500, n_int=50)
    >>> [round(v, 2) for v in data.z_obs.mean(0).tolist()]       # standardised latents
    [0.0, 0.0, 0.0]
    >>> held = data.z_int[2][:, 2]                                # under do(z_2 = c)
    >>> bool((held == held[0]).all())
    True
    >>> make_interventional_data(latent_dim=5, data_dim=3)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Need integers 1 <= latent_dim <= data_dim, got 5, 3.
    """
    if not (isinstance(latent_dim, int) and latent_dim >= 1 and isinstance(data_dim, int) and data_dim >= latent_dim):
        raise WorkbenchInputError(f"Need integers 1 <= latent_dim <= data_dim, got {latent_dim!r}, {data_dim!r}.")
    rng = np.random.default_rng(seed)
    W = _linear_scm(latent_dim, rng)
    z_obs = _sample_latents(W, n_obs, rng)
    mean, std = z_obs.mean(0), z_obs.std(0)
    values = rng.uniform(-1.0, 1.0, latent_dim) * std + mean       # the do values, in the latents' range
    z_int = [_sample_latents(W, n_int, rng, {i: values[i]}) for i in range(latent_dim)]
    standardise = lambda z: torch.as_tensor((z - mean) / std, dtype=torch.float32)  # noqa: E731
    z_obs_t, z_int_t = standardise(z_obs), [standardise(z) for z in z_int]
    degrees = np.array([len(c) for c in _monomial_indices(latent_dim, degree)])
    counts = np.bincount(degrees)[degrees]                           # monomials of the same degree
    G = rng.standard_normal((len(degrees), data_dim)) / np.sqrt(counts * degree)[:, None]
    G = torch.as_tensor(G, dtype=torch.float32)
    mix = lambda z: monomials(z, degree) @ G                                     # noqa: E731
    return InterventionalData(mix(z_obs_t), z_obs_t, tuple(mix(z) for z in z_int_t), tuple(z_int_t), degree)
