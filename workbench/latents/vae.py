"""VAE, beta-VAE and beta-TCVAE, in plain torch with the ELBO written out.

Why torch and not Pyro SVI? Pyro would express the same model in fewer lines, but
(1) beta-TCVAE's total-correlation term needs the whole minibatch's posteriors at once
(a pairwise ``n x n`` density matrix), which is not a per-datum ELBO term that SVI's
``Trace_ELBO`` can produce; (2) the training loop must resume to bit-identical weights,
which is simpler to guarantee when the optimizer and every random draw are ours
rather than inside Pyro's param store and optimiser wrappers; and (3) learners should
see each term (reconstruction, KL, beta) as a line of code. The terms live in
:mod:`workbench.latents.objectives`.

Every model exposes the same small API used by metrics and widgets:

* ``encode(x) -> (mean, logvar)``, each ``(n, latent_dim)``;
* ``decode(z) -> images`` in ``[0, 1]`` (Bernoulli means), ``(n, C, H, W)``;
* ``loss(x, generator=None) -> (scalar, terms)`` to minimise (the negative objective);
* ``config`` (a JSON-able dict) and :func:`build_model` to rebuild from it.

Examples
--------
>>> import torch
>>> model = BetaVAE(image_shape=(1, 32, 32), latent_dim=4, beta=4.0)
>>> mean, logvar = model.encode(torch.zeros(3, 1, 32, 32))
>>> mean.shape, model.decode(mean).shape
(torch.Size([3, 4]), torch.Size([3, 1, 32, 32]))
>>> loss, terms = model.loss(torch.rand(8, 1, 32, 32), generator=torch.Generator().manual_seed(0))
>>> sorted(terms)
['elbo', 'kl', 'loss', 'reconstruction']
>>> build_model(model.config).config == model.config
True
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents.networks import ConvDecoder, ConvEncoder, check_image_shape
from workbench.latents.objectives import bernoulli_log_likelihood, gaussian_kl, tc_decomposition
from workbench.runtime import device as runtime_device

__all__ = ["VAE", "BetaVAE", "BetaTCVAE", "MODELS", "build_model"]


class VAE(nn.Module):
    """Variational autoencoder (Kingma & Welling 2014) with a Gaussian encoder.

    Parameters
    ----------
    image_shape : (C, S, S)
        Input images; ``S`` a power of two (32 or 64 here).
    latent_dim : int
        Number of latent variables.
    beta : float
        Weight of the KL term; 1 is the plain ELBO.
    device : str or torch.device, optional
        Where the weights live; :func:`workbench.device` by default.

    Examples
    --------
    >>> import torch
    >>> model = VAE((1, 32, 32), latent_dim=4)
    >>> mean, logvar = model.encode(torch.zeros(2, 1, 32, 32))
    >>> mean.shape, model.decode(mean).shape
    (torch.Size([2, 4]), torch.Size([2, 1, 32, 32]))
    """

    kind = "vae"

    def __init__(self, image_shape=(1, 64, 64), latent_dim: int = 10, beta: float = 1.0,
                 device=None):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise WorkbenchInputError(f"latent_dim must be a positive integer, got {latent_dim!r}.")
        if not (float(beta) >= 0):
            raise WorkbenchInputError(f"beta must be a non-negative number, got {beta!r}.")
        self.latent_dim, self.beta = latent_dim, float(beta)
        self.kl_scale = 1.0   # the training loop ramps this from 0 to 1 during KL warm-up
        self.encoder = ConvEncoder(self.image_shape, latent_dim)
        self.decoder = ConvDecoder(self.image_shape, latent_dim)
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this model (see :func:`build_model`)."""
        return {"kind": self.kind, "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim, "beta": self.beta}

    @property
    def device(self) -> torch.device:
        """The device of the weights."""
        return next(self.parameters()).device

    def _check_images(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ShapeError(f"Expected images of shape (n, {', '.join(map(str, self.image_shape))}), "
                             f"got {tuple(x.shape)}.")
        if not torch.isfinite(x).all():
            raise NonFiniteValueError("Images contain NaN or infinite values.")
        return x.to(self.device, torch.float32)

    def encode(self, x: torch.Tensor):
        """Posterior ``q(z|x)``: ``(mean, logvar)``, each ``(n, latent_dim)``."""
        mean, logvar = self.encoder(self._check_images(x)).chunk(2, dim=1)
        return mean, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits of ``p(x|z)``."""
        z = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"Expected latents of shape (n, {self.latent_dim}), got {tuple(z.shape)}.")
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (Bernoulli means in ``[0, 1]``) for latents ``z``."""
        return torch.sigmoid(self.decode_logits(z))

    def sample_posterior(self, mean, logvar, generator=None):
        """One reparameterised draw ``z = mean + sigma * eps``."""
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + torch.exp(0.5 * logvar) * eps

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decoded posterior means: the model's reconstruction of ``x``."""
        return self.decode(self.encode(x)[0])

    def loss(self, x: torch.Tensor, generator=None):
        """Negative beta-ELBO averaged over the batch, and its terms as floats."""
        x = self._check_images(x)
        mean, logvar = self.encode(x)
        z = self.sample_posterior(mean, logvar, generator)
        reconstruction = -bernoulli_log_likelihood(self.decode_logits(z), x).mean()
        kl = gaussian_kl(mean, logvar).mean()
        loss = reconstruction + self.kl_scale * self.beta * kl
        return loss, {"loss": float(loss.detach()), "reconstruction": float(reconstruction.detach()),
                      "kl": float(kl.detach()), "elbo": float(-(reconstruction + kl).detach())}


class BetaVAE(VAE):
    """beta-VAE (Higgins et al. 2017): the VAE with the KL weighted by ``beta > 1``.

    Examples
    --------
    >>> BetaVAE((1, 32, 32), latent_dim=2).beta
    4.0
    """

    kind = "beta_vae"

    def __init__(self, image_shape=(1, 64, 64), latent_dim: int = 10, beta: float = 4.0, device=None):
        super().__init__(image_shape, latent_dim, beta, device)


class BetaTCVAE(VAE):
    """beta-TCVAE (Chen et al. 2018): penalise only the total correlation by ``beta``.

    The objective is reconstruction + ``alpha`` mutual information + ``beta`` total
    correlation + ``gamma`` dimension-wise KL, with the aggregate posterior estimated by
    minibatch-weighted sampling over a data set of ``dataset_size`` images.

    Examples
    --------
    >>> import torch
    >>> model = BetaTCVAE((1, 32, 32), latent_dim=2)
    >>> model.config["kind"], model.loss(torch.rand(4, 1, 32, 32))[0].dim()
    ('beta_tcvae', 0)
    """

    kind = "beta_tcvae"

    def __init__(self, image_shape=(1, 64, 64), latent_dim: int = 10, beta: float = 6.0,
                 alpha: float = 1.0, gamma: float = 1.0, dataset_size: int = 737_280, device=None):
        super().__init__(image_shape, latent_dim, beta, device)
        self.alpha, self.gamma, self.dataset_size = float(alpha), float(gamma), int(dataset_size)

    @property
    def config(self) -> dict:
        """The settings that rebuild this model (:func:`build_model`)."""
        return {**super().config, "alpha": self.alpha, "gamma": self.gamma,
                "dataset_size": self.dataset_size}

    def loss(self, x: torch.Tensor, generator=None):
        """The beta-TC-VAE objective on a batch ``x`` (minibatch-weighted sampling), and its parts."""
        x = self._check_images(x)
        mean, logvar = self.encode(x)
        z = self.sample_posterior(mean, logvar, generator)
        reconstruction = -bernoulli_log_likelihood(self.decode_logits(z), x).mean()
        mi, tc, dwkl = tc_decomposition(z, mean, logvar, self.dataset_size)
        loss = reconstruction + self.kl_scale * (self.alpha * mi + self.beta * tc + self.gamma * dwkl)
        kl = gaussian_kl(mean, logvar).mean()
        return loss, {"loss": float(loss.detach()), "reconstruction": float(reconstruction.detach()),
                      "kl": float(kl.detach()), "elbo": float(-(reconstruction + kl).detach()),
                      "mutual_information": float(mi.detach()), "total_correlation": float(tc.detach()),
                      "dimension_kl": float(dwkl.detach())}


MODELS = {cls.kind: cls for cls in (VAE, BetaVAE, BetaTCVAE)}


def build_model(config: dict, device=None) -> VAE:
    """A fresh (untrained) model from its ``config`` dict.

    Examples
    --------
    >>> build_model({"kind": "vae", "image_shape": (1, 32, 32), "latent_dim": 2}).latent_dim
    2
    """
    config = dict(config)
    kind = config.pop("kind", None)
    if kind not in MODELS:
        raise UnknownVariableError(str(kind), MODELS, what="model kind")
    try:
        return MODELS[kind](**config, device=device)
    except TypeError as exc:
        raise WorkbenchInputError(f"Bad settings for a {kind!r} model: {exc}.") from exc
