"""The shipped 2-domain demo: pretrained sparse and dense models, their generator, its test set.

``python scripts/train_pretrained.py --family domaincf`` fits both models exactly as the
benchmark does (on one seed) and records the generator they were fitted to; loading
rebuilds that generator and its test draws, so the true counterfactuals are at hand.

Examples
--------
>>> demo = load_demo()
>>> sorted(demo.models), demo.x.shape, demo.scm.n_domains
(['dense', 'sparse'], torch.Size([2000, 6]), 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.latents.domain_counterfactuals.data import DomainData, simulate
from workbench.latents.pretrained import list_pretrained, load_pretrained

__all__ = ["DomainDemo", "load_demo", "DEMO_MODELS"]

DEMO_MODELS = {"sparse": "domain_sparse_2domains", "dense": "domain_dense_2domains"}


@dataclass
class DomainDemo:
    """The generator, the models by name, and the test set (``x`` and ``domains`` flat).

    Examples
    --------
    >>> demo = load_demo()
    >>> x, d = demo.x[:1], demo.domains[:1]
    >>> {name: model.counterfactual(x, d, 1).shape for name, model in demo.models.items()}
    {'sparse': torch.Size([1, 6]), 'dense': torch.Size([1, 6])}
    """

    scm: object
    models: dict
    data: DomainData
    x: torch.Tensor
    domains: torch.Tensor
    info: dict


def load_demo(device="cpu") -> DomainDemo:
    """Load the shipped models (hash-verified) and rebuild their generator and test set.

    Examples
    --------
    >>> load_demo().info["sparse"]["generator"]["n_domains"]
    2
    """
    info = {name: list_pretrained()[entry] for name, entry in DEMO_MODELS.items()}
    spec = info["sparse"]["generator"]
    data = simulate(spec["n_domains"], [spec["seed"]], latent_dim=spec["latent_dim"], n_train=1, n_val=1)
    models = {name: load_pretrained(entry, device=device) for name, entry in DEMO_MODELS.items()}
    x = data.test_x[0].reshape(-1, spec["latent_dim"])
    domains = torch.arange(spec["n_domains"]).repeat_interleave(data.test_x.shape[2])
    return DomainDemo(data.scms[0], models, data, x, domains, info)
