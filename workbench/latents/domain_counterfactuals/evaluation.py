"""The domain counterfactual error of Zhou et al. (their ``calc_gt_counterfactual_error``).

For every *ordered* pair of different domains ``(d, d')``, the mean squared error (over
samples and coordinates) between the estimated and the true counterfactuals of the
domain-``d`` test samples in domain ``d'``; then the average over the ``D (D - 1)``
pairs. Pairs with ``d = d'`` are left out. The trivial estimate ``x' = x`` ("nothing
changes") is the baseline every model must beat.

Examples
--------
>>> import torch
>>> true = torch.zeros(2, 2, 1, 1)                  # [d, d', sample, coordinate]
>>> estimate = torch.tensor([[[[9.]], [[1.]]], [[[3.]], [[9.]]]])
>>> float(domain_counterfactual_error(estimate, true))   # ((1 - 0)^2 + (3 - 0)^2) / 2
5.0
"""

from __future__ import annotations

import torch

from workbench.errors import NonFiniteValueError, ShapeError

__all__ = ["domain_counterfactual_error", "all_counterfactuals", "true_counterfactuals",
           "identity_counterfactuals", "compare_counterfactuals"]


def _check_layout(x) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.dim() != 4:
        raise ShapeError(f"x must be (R, D, n, m): R replicas, D domains (row d seen in domain d), n samples, "
                         f"m coordinates, like data.test_x; got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise NonFiniteValueError("x holds NaN or infinite values; pass finite numbers.")
    return x


def domain_counterfactual_error(estimated: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Average over ordered domain pairs ``d != d'`` of the counterfactual MSE.

    Parameters
    ----------
    estimated, true : Tensor of shape ``(..., D, D, n, m)``
        Entry ``[..., d, d']`` holds the counterfactuals in domain ``d'`` of the ``n``
        test samples of domain ``d``. Leading dimensions (e.g. one per seed) are kept.

    Returns
    -------
    Tensor of shape ``(...)``.

    Examples
    --------
    >>> x = torch.randn(2, 3, 5, 4)                       # 2 seeds, 3 domains, 5 samples
    >>> domain_counterfactual_error(identity_counterfactuals(x), identity_counterfactuals(x)).tolist()
    [0.0, 0.0]
    """
    estimated, true = torch.as_tensor(estimated), torch.as_tensor(true)
    if estimated.shape != true.shape or estimated.ndim < 4 or estimated.shape[-3] < 1:
        raise ShapeError(f"estimated and true must have the same shape (..., D, D, n, m); got "
                         f"{tuple(estimated.shape)} and {tuple(true.shape)}.")
    n_domains = estimated.shape[-4]
    if estimated.shape[-3] != n_domains or n_domains < 2:
        raise ShapeError(f"the two domain axes must have the same length D >= 2, got "
                         f"{tuple(estimated.shape[-4:-2])}.")
    if not (torch.isfinite(estimated).all() and torch.isfinite(true).all()):
        raise NonFiniteValueError("estimated or true counterfactuals hold NaN or infinite values.")
    per_pair = (estimated - true).square().mean(dim=(-2, -1))            # (..., D, D)
    different = ~torch.eye(n_domains, dtype=torch.bool, device=per_pair.device)
    return per_pair[..., different].mean(dim=-1)


def all_counterfactuals(model, x: torch.Tensor) -> torch.Tensor:
    """A model's counterfactuals of ``x (R, D, n, m)`` (row ``d`` from domain ``d``) in every domain.

    Returns a CPU tensor of shape ``(R, D, D, n, m)`` (beside the generators' truth).

    Examples
    --------
    >>> from workbench.latents.domain_counterfactuals.models import DomainModel
    >>> all_counterfactuals(DomainModel(2, 3, k=1, replicas=2), torch.randn(2, 2, 5, 3)).shape
    torch.Size([2, 2, 2, 5, 3])
    """
    x = _check_layout(x)
    n_domains, n = x.shape[1], x.shape[2]
    out = []
    with torch.no_grad():
        for d in range(n_domains):
            source = torch.full((model.replicas, n), d, dtype=torch.long)
            out.append(torch.stack([model.counterfactual(x[:, d], source, t).cpu()
                                    for t in range(n_domains)], 1))
    return torch.stack(out, 1)


def true_counterfactuals(scms, noise: torch.Tensor) -> torch.Tensor:
    """The generators' counterfactuals: ``noise (S, D, n, m)`` pushed through every domain.

    Examples
    --------
    >>> from workbench.latents.domain_counterfactuals.generator import LatentDomainSCM
    >>> scm = LatentDomainSCM(2, latent_dim=3, scale_samples=100)
    >>> true_counterfactuals([scm], torch.randn(1, 2, 5, 3)).shape
    torch.Size([1, 2, 2, 5, 3])
    """
    n_domains = noise.shape[1]
    return torch.stack([
        torch.stack([torch.stack([scm.observe_noise(e[d], t) for t in range(n_domains)])
                     for d in range(n_domains)])
        for scm, e in zip(scms, noise)])


def identity_counterfactuals(x: torch.Tensor) -> torch.Tensor:
    """The baseline ``x' = x`` in the layout of :func:`all_counterfactuals`.

    Examples
    --------
    >>> identity_counterfactuals(torch.randn(1, 3, 5, 2)).shape
    torch.Size([1, 3, 3, 5, 2])
    """
    x = _check_layout(x)
    return x.unsqueeze(2).expand(-1, -1, x.shape[1], -1, -1)


def compare_counterfactuals(scm, models: dict, x: torch.Tensor, domain: int, target: int) -> dict:
    """One observation's true counterfactual and each model's estimate, with squared errors.

    Parameters
    ----------
    scm : LatentDomainSCM
        The generator (it knows the true counterfactual).
    models : dict of name -> DomainModel (one replica each)
    x : Tensor ``(m,)``
        One observation, seen in domain ``domain``.
    target : int
        The domain to carry it to.

    Returns
    -------
    dict with ``x``, ``true`` (both ``(m,)``), ``estimates`` and ``errors`` (by model name;
    the error is the mean squared error over coordinates, the per-sample term of
    :func:`domain_counterfactual_error`).

    Examples
    --------
    >>> from workbench.latents.domain_counterfactuals.generator import LatentDomainSCM
    >>> scm = LatentDomainSCM(2, latent_dim=3, scale_samples=100)
    >>> x, _, _ = scm.sample(1)
    >>> out = compare_counterfactuals(scm, {}, x[0], 0, 0)
    >>> out["identity_error"] < 1e-10                  # same domain: nothing changes
    True
    """
    row = torch.as_tensor(x, dtype=torch.float32).reshape(1, -1)
    true = scm.counterfactual(row, domain, target)[0]
    estimates, errors = {}, {}
    with torch.no_grad():
        for name, model in models.items():
            estimates[name] = model.counterfactual(row, domain, target)[0].cpu()
            errors[name] = float((estimates[name] - true).square().mean())
    return {"x": row[0], "true": true, "estimates": estimates, "errors": errors,
            "identity_error": float((row[0] - true).square().mean()),
            "domain": int(domain), "target": int(target)}
