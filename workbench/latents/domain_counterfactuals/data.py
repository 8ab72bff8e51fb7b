"""Train, validation and test draws of several seeds' generators, in the layouts the fit uses.

The paper's protocol per seed ``s``: a generator seeded by ``s`` (its parameters), and
independent noise for 100,000 training, 1,000 validation and 1,000 test samples per
domain. Everything is a pure function of the seeds.

Examples
--------
>>> data = simulate(n_domains=2, seeds=[0, 1], n_train=50, n_val=4, n_test=3)
>>> data.train.shape, data.validation.shape, data.test_x.shape
(torch.Size([50, 2, 2, 6]), torch.Size([2, 2, 4, 6]), torch.Size([2, 2, 3, 6]))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.latents.domain_counterfactuals.generator import LatentDomainSCM

__all__ = ["DomainData", "simulate"]


@dataclass
class DomainData:
    """Per-seed generators and their samples.

    ``train`` is ``(n, S, D, m)`` (the loop draws minibatches along the first axis, so a
    batch holds the same number of samples of every domain); ``validation``, ``test_x``
    and ``test_noise`` are ``(S, D, n, m)``.

    Examples
    --------
    >>> data = simulate(2, seeds=[0], latent_dim=3, n_train=8, n_val=4, n_test=5)
    >>> data.n_domains, data.train.shape      # (n, seeds, domains, m): a batch holds every domain
    (2, torch.Size([8, 1, 2, 3]))
    >>> data.test_x.shape == data.test_noise.shape   # each test sample with the noise that made it
    True
    """

    scms: list
    train: torch.Tensor
    validation: torch.Tensor
    test_x: torch.Tensor
    test_noise: torch.Tensor

    @property
    def n_domains(self) -> int:
        """How many domains the data come from."""
        return self.scms[0].n_domains


def _draw(scm, n: int, seed) -> tuple[torch.Tensor, torch.Tensor]:
    x, _, noise = scm.sample(n, seed=seed)
    shape = (scm.n_domains, n, scm.latent_dim)
    return x.reshape(shape), noise.reshape(shape)


def simulate(n_domains: int, seeds, latent_dim: int = 6, intervened=None, n_train: int = 100_000,
             n_val: int = 1000, n_test: int = 1000) -> DomainData:
    """One generator per seed and its train / validation / test draws.

    Examples
    --------
    >>> data = simulate(3, seeds=[4], n_train=10, n_val=2, n_test=2)
    >>> data.n_domains, data.scms[0].seed, data.test_noise.shape
    (3, 4, torch.Size([1, 3, 2, 6]))
    """
    scms = [LatentDomainSCM(n_domains, latent_dim, intervened, seed=int(s)) for s in seeds]
    train = torch.stack([_draw(scm, n_train, [scm.seed, 100])[0] for scm in scms])
    val = torch.stack([_draw(scm, n_val, [scm.seed, 101])[0] for scm in scms])
    test = [_draw(scm, n_test, [scm.seed, 102]) for scm in scms]
    return DomainData(scms, train.permute(2, 0, 1, 3).contiguous(), val,
                      torch.stack([t[0] for t in test]), torch.stack([t[1] for t in test]))
