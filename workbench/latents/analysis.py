"""Looking inside a trained model: traversals, activity, reconstructions.

* :func:`traverse` / :func:`traversal_grid`: decode a code while one latent sweeps a
  range, the others held fixed ("latent traversals").
* :func:`mean_and_sampled`: the *mean* representation ``mu(x)`` and a *sampled* one
  ``z ~ q(z|x)`` for the same images.
* :func:`latent_activity`: which latents are *active* (their mean changes with the
  input) and which are *passive* (collapsed to the prior: ``mu(x) ~ 0`` and
  ``sigma(x) ~ 1`` for every ``x``). Following Burda et al. (2016) a latent is active
  when the variance of its mean over the data exceeds 0.01. Bonheme & Grzes ("Be More
  Active!", 2023) show why this matters: passive latents are ~0 in the mean
  representation but pure N(0, 1) noise in the sampled one, so scores computed on
  the two can disagree.
* :func:`reconstruction_report`: the model's reconstruction error against the error
  of always predicting the mean image.

Examples
--------
>>> import torch
>>> from workbench.latents import VAE
>>> model = VAE((1, 32, 32), latent_dim=3)
>>> traversal_grid(model, torch.zeros(3), values=torch.linspace(-2, 2, 5)).shape
torch.Size([3, 5, 1, 32, 32])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.errors import ShapeError, WorkbenchInputError

__all__ = ["traverse", "traversal_grid", "mean_and_sampled", "latent_activity", "LatentActivity",
           "reconstruction_report", "encode_batched"]


def _code(model, z) -> torch.Tensor:
    z = torch.as_tensor(z, dtype=torch.float32).reshape(-1)
    if z.numel() != model.latent_dim:
        raise ShapeError(f"A code for this model has {model.latent_dim} numbers, got {z.numel()}.")
    return z


@torch.no_grad()
def traverse(model, z, dim: int, values) -> torch.Tensor:
    """Decoded images ``(len(values), C, H, W)`` as latent ``dim`` of code ``z`` takes ``values``.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> traverse(model, torch.zeros(3), dim=0, values=torch.linspace(-2, 2, 5)).shape
    torch.Size([5, 1, 32, 32])
    """
    z = _code(model, z)
    if not 0 <= int(dim) < model.latent_dim:
        raise WorkbenchInputError(f"dim must be in 0..{model.latent_dim - 1}, got {dim}.")
    values = torch.as_tensor(values, dtype=torch.float32).reshape(-1)
    codes = z.repeat(len(values), 1)
    codes[:, int(dim)] = values
    return model.decode(codes).cpu()


@torch.no_grad()
def traversal_grid(model, z, values=None, dims=None) -> torch.Tensor:
    """Traversals of several latents: ``(len(dims), len(values), C, H, W)``.

    ``values`` defaults to 7 points in ``[-2, 2]``; ``dims`` to every latent.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> traversal_grid(model, torch.zeros(3), values=torch.linspace(-1, 1, 4)).shape
    torch.Size([3, 4, 1, 32, 32])
    """
    values = torch.linspace(-2, 2, 7) if values is None else values
    dims = range(model.latent_dim) if dims is None else dims
    return torch.stack([traverse(model, z, d, values) for d in dims])


@torch.no_grad()
def encode_batched(model, images, batch_size: int = 128):
    """``(mean, logvar)`` of many images, encoded in batches (memory stays small).

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> images = torch.rand(4, 1, 32, 32)
    >>> mean, logvar = encode_batched(model, images, batch_size=2)
    >>> mean.shape
    torch.Size([4, 3])
    """
    means, logvars = [], []
    for start in range(0, len(images), batch_size):
        m, lv = model.encode(images[start:start + batch_size])
        means.append(m.cpu())
        logvars.append(lv.cpu())
    return torch.cat(means), torch.cat(logvars)


@torch.no_grad()
def mean_and_sampled(model, images, generator=None):
    """The mean representation and one sampled representation of ``images``.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> images = torch.rand(4, 1, 32, 32)
    >>> mean, sampled = mean_and_sampled(model, images, generator=torch.Generator().manual_seed(0))
    >>> mean.shape == sampled.shape
    True
    """
    mean, logvar = encode_batched(model, images)
    eps = torch.randn(mean.shape, generator=generator)
    return mean, mean + torch.exp(0.5 * logvar) * eps


@dataclass(frozen=True)
class LatentActivity:
    """Per-latent statistics over a set of images.

    Attributes
    ----------
    mean_variance : Tensor ``(D,)``
        Variance over the images of the posterior mean ``mu_d(x)``.
    posterior_variance : Tensor ``(D,)``
        Average posterior variance ``sigma_d^2(x)`` (about 1 for a passive latent).
    kl : Tensor ``(D,)``
        Average ``KL(q(z_d|x) || N(0, 1))`` (about 0 for a passive latent).
    threshold : float
        ``mean_variance > threshold`` marks a latent active.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> images = torch.rand(4, 1, 32, 32)
    >>> activity = latent_activity(model, images)
    >>> activity.mean_variance.shape, len(activity.labels())
    (torch.Size([3]), 3)
    """

    mean_variance: torch.Tensor
    posterior_variance: torch.Tensor
    kl: torch.Tensor
    threshold: float

    @property
    def active(self) -> torch.Tensor:
        """Boolean mask of active latents."""
        return self.mean_variance > self.threshold

    @property
    def passive(self) -> torch.Tensor:
        """Boolean mask of passive latents (the complement of :attr:`active`)."""
        return ~self.active

    def labels(self) -> list[str]:
        """``'active'`` or ``'passive'`` for each latent."""
        return ["active" if a else "passive" for a in self.active.tolist()]


def latent_activity(model, images, threshold: float = 0.01) -> LatentActivity:
    """Which latents respond to the input (see module doc).

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> images = torch.rand(4, 1, 32, 32)
    >>> latent_activity(model, images, threshold=0.5).active.dtype
    torch.bool
    """
    if len(images) < 2:
        raise WorkbenchInputError("latent_activity needs at least two images to measure variance.")
    mean, logvar = encode_batched(model, images)
    kl = 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1).mean(0)
    return LatentActivity(mean.var(0), logvar.exp().mean(0), kl, float(threshold))


@torch.no_grad()
def reconstruction_report(model, images) -> dict:
    """Mean squared error of reconstructions vs of the mean image (lower is better).

    Returns ``{"model_mse", "mean_image_mse", "ratio"}`` with ``ratio = model / baseline``.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> model = VAE((1, 32, 32), latent_dim=3)
    >>> images = torch.rand(4, 1, 32, 32)
    >>> sorted(reconstruction_report(model, images))[:2]
    ['mean_image_mse', 'model_mse']
    """
    recon = torch.cat([model.reconstruct(images[s:s + 128]).cpu() for s in range(0, len(images), 128)])
    model_mse = float((recon - images).pow(2).mean())
    baseline = float((images.mean(0, keepdim=True) - images).pow(2).mean())
    return {"model_mse": model_mse, "mean_image_mse": baseline, "ratio": model_mse / baseline}
