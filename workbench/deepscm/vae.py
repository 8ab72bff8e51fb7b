"""A conditional VAE as the image mechanism: amortised abduction of the image noise.

The deep SCM of Pawlowski, Castro & Glocker (NeurIPS 2020) and the Morpho-MNIST VAE of
Monteiro et al. (ICLR 2023) write the image as ``x := g(z; pa)`` with a latent ``z ~ N(0, I)``
(16 numbers here) and the parents ``pa`` (digit, thickness, intensity):

* the decoder ``p(x | z, pa)``: Bernoulli pixels whose means are ``g(z; pa)``;
* the encoder ``q(z | x, pa)``: a Gaussian, trained with the decoder on the ELBO
  ``E_q[log p(x | z, pa)] - KL(q(z | x, pa) || N(0, I))``, by :func:`workbench.latents.train`.

Because ``pa`` is given to the decoder, the KL term pushes ``z`` to hold only what the parents
do not say (slant, the stroke's quirks): the image noise. Abduction is the posterior mean
``E[z | x, pa]`` (deterministic); prediction decodes it with new parents. The decoder's mean
is not the image, so ``predict(abduct(x, pa), pa)`` only approximates ``x`` (``exact = False``)
and a chain of null interventions drifts: what :func:`~workbench.metrics.soundness.composition`
measures. The networks are :mod:`workbench.latents.networks`' conv blocks; the parents enter
the encoder as constant image planes and the decoder beside ``z``.

Examples
--------
>>> import torch
>>> from workbench.metrics.soundness import DigitsGroundTruth
>>> images, parents = DigitsGroundTruth().sample(4, generator=0)
>>> cvae = ConditionalVAE(latent_dim=3, channels=8, hidden=16)
>>> z = cvae.abduct(images, parents)                   # q(z | x, pa)'s mean: deterministic
>>> z.shape, bool(torch.equal(z, cvae.abduct(images, parents)))
(torch.Size([4, 3]), True)
>>> cvae.predict(z, parents).shape, cvae.exact
(torch.Size([4, 1, 32, 32]), False)
>>> loss, terms = cvae.loss(*cvae.training_data(images, parents), generator=torch.Generator().manual_seed(0))
>>> sorted(terms)
['elbo', 'kl', 'loss', 'reconstruction']
"""

from __future__ import annotations

from typing import Mapping

import pyro.distributions as dist
import torch

from workbench.deepscm.mechanism import IMAGE_PARENTS, ImageMechanism
from workbench.errors import ShapeError, WorkbenchInputError
from workbench.latents.networks import ConvDecoder, ConvEncoder, check_image_shape
from workbench.latents.objectives import bernoulli_log_likelihood, gaussian_kl
from workbench.latents.pretrained import register_builder
from workbench.metrics.soundness.generators import check_images, check_parents
from workbench.runtime import device as runtime_device

__all__ = ["ConditionalVAE"]


def _positive(name: str, value, kind=int):
    ok = not isinstance(value, bool) and isinstance(value, (int, float) if kind is float else int) and value > 0
    if not ok:
        raise WorkbenchInputError(f"{name} must be a positive {'number' if kind is float else 'integer'}, "
                                  f"got {value!r}.")
    return kind(value)


class ConditionalVAE(ImageMechanism):
    """``image := g(z; digit, thickness, intensity)``, ``z ~ N(0, I)``; abduction ``E[z | x, pa]``.

    Parameters
    ----------
    image_shape : (C, S, S)
        The images; ``(1, 32, 32)`` for the digits.
    latent_dim : int
        Size of the image noise ``z`` (16, as Monteiro et al.'s Morpho-MNIST VAE).
    channels, hidden : int
        Width of the conv blocks and of their dense layer.
    beta : float
        Weight of the KL term (1: the ELBO).

    Examples
    --------
    >>> cvae = ConditionalVAE(latent_dim=2, channels=8, hidden=16)
    >>> cvae.config["kind"], cvae.noise_prior().event_shape
    ('deepscm_cvae', torch.Size([2]))
    >>> ConditionalVAE(latent_dim=0)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: latent_dim must be a positive integer, got 0.
    """

    kind = "deepscm_cvae"
    exact = False
    #: the length of :meth:`condition`'s vector (one-hot digit, thickness, intensity)
    condition_dim = 12

    def __init__(self, image_shape=(1, 32, 32), latent_dim: int = 16, channels: int = 32, hidden: int = 128,
                 beta: float = 1.0, device=None):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.latent_dim = _positive("latent_dim", latent_dim)
        self.channels, self.hidden = _positive("channels", channels), _positive("hidden", hidden)
        self.beta = _positive("beta", beta, float)
        self.kl_scale = 1.0            # the training loop ramps this from 0 to 1 during KL warm-up
        c, s, _ = self.image_shape
        self.encoder = ConvEncoder((c + self.condition_dim, s, s), self.latent_dim, self.channels, self.hidden)
        self.decoder = ConvDecoder(self.image_shape, self.latent_dim + self.condition_dim, self.channels,
                                   self.hidden)
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this mechanism (see :func:`load_pretrained`)."""
        return {"kind": self.kind, "image_shape": list(self.image_shape), "latent_dim": self.latent_dim,
                "channels": self.channels, "hidden": self.hidden, "beta": self.beta}

    # ------------------------------------------------------------------ the networks
    def _check_images(self, images) -> torch.Tensor:
        images = check_images(images)
        if tuple(images.shape[1:]) != self.image_shape:
            raise ShapeError(f"images have shape {tuple(images.shape)}; this mechanism takes "
                             f"(n, {', '.join(map(str, self.image_shape))}).")
        return images.to(self.device)

    def _posterior(self, images: torch.Tensor, condition: torch.Tensor):
        planes = condition[:, :, None, None].expand(-1, -1, *images.shape[2:])
        return self.encoder(torch.cat([images, planes], 1)).chunk(2, dim=1)

    def _logits(self, z: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, condition], 1))

    def encode(self, images: torch.Tensor, parents: Mapping[str, torch.Tensor]):
        """The posterior ``q(z | x, pa)``: ``(mean, logvar)``, each ``(n, latent_dim)``."""
        images = self._check_images(images)
        condition = self.condition(parents)
        if len(condition) != len(images):
            raise ShapeError(f"{len(images)} images but parents for {len(condition)}; give one each.")
        return self._posterior(images, condition)

    def decode(self, z: torch.Tensor, parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The decoder's mean ``g(z; pa)``: images in ``[0, 1]``."""
        z = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"The image noise must have shape (n, {self.latent_dim}), got {tuple(z.shape)}.")
        condition = self.condition(parents)
        if len(condition) != len(z):
            raise ShapeError(f"{len(z)} noise rows but parents for {len(condition)} images; give one each.")
        return torch.sigmoid(self._logits(z, condition))

    # ------------------------------------------------------------------ the mechanism
    @torch.no_grad()
    def abduct(self, images: torch.Tensor, parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The image noise: the posterior mean ``E[z | x, pa]`` (deterministic, amortised)."""
        return self.encode(images, parents)[0]

    @torch.no_grad()
    def predict(self, noise: torch.Tensor, parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The decoder's mean for ``z = noise`` and the parents, clamped to ``[0, 1]``."""
        return self.decode(noise, parents).clamp(0.0, 1.0)

    def noise_prior(self) -> dist.Distribution:
        """``N(0, I)`` over one image's ``z`` (the Pyro site ``U_image`` of the deep SCM's program)."""
        return dist.Normal(torch.zeros(self.latent_dim, device=self.device), 1.0).to_event(1)

    # ------------------------------------------------------------------ training
    @staticmethod
    def training_data(images: torch.Tensor, parents: Mapping[str, torch.Tensor]):
        """``(images, table)`` for :func:`workbench.latents.train`: ``table`` holds the parents as
        columns ``digit, thickness, intensity`` (the training loop passes both to :meth:`loss`).

        Examples
        --------
        >>> import torch
        >>> pa = {"digit": torch.tensor([1.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([99.0])}
        >>> ConditionalVAE.training_data(torch.zeros(1, 1, 32, 32), pa)[1]
        tensor([[ 1.,  2., 99.]])
        """
        images = check_images(images)
        pa = check_parents({v: parents[v] for v in IMAGE_PARENTS}, len(images))
        return images, torch.stack([pa[v] for v in IMAGE_PARENTS], 1)

    def loss(self, images: torch.Tensor, table: torch.Tensor, generator=None):
        """The negative beta-ELBO of a batch, averaged, and its terms as floats.

        ``table`` holds the parents as columns in the order of :attr:`parents` (as
        :meth:`training_data` writes them); :meth:`condition` encodes them.
        """
        images = images.to(self.device, torch.float32)
        condition = self.condition({v: table[:, k] for k, v in enumerate(self.parents)})
        mean, logvar = self._posterior(images, condition)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        z = mean + torch.exp(0.5 * logvar) * eps
        reconstruction = -bernoulli_log_likelihood(self._logits(z, condition), images).mean()
        kl = gaussian_kl(mean, logvar).mean()
        loss = reconstruction + self.kl_scale * self.beta * kl
        return loss, {"loss": float(loss.detach()), "reconstruction": float(reconstruction.detach()),
                      "kl": float(kl.detach()), "elbo": float(-(reconstruction + kl).detach())}


def _build_cvae(config: dict, device) -> ConditionalVAE:
    return ConditionalVAE(**{k: v for k, v in config.items() if k != "kind"}, device=device)


register_builder(ConditionalVAE.kind, _build_cvae)
