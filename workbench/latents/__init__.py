"""Latent-variable models: the VAE family, one training loop, checkpoints, pretrained weights.

* Models (:mod:`~workbench.latents.vae`): :class:`VAE`, :class:`BetaVAE`, :class:`BetaTCVAE`,
  all with ``encode(x) -> (mean, logvar)`` and ``decode(z) -> images``.
* A latent SCM prior (:mod:`~workbench.latents.scm_prior`) and the VAE built on it,
  :class:`CausalVAE` (:mod:`~workbench.latents.causal_vae`); :class:`FactorReader`, a
  CNN that reads ground-truth factors off (generated) images.
* Training (:mod:`~workbench.latents.training`): :func:`train`, resumable and safe to
  interrupt; checkpoints in :mod:`~workbench.latents.checkpoint`.
* Pretrained (:mod:`~workbench.latents.pretrained`): :func:`load_pretrained`,
  :func:`list_pretrained`.
* Analysis (:mod:`~workbench.latents.analysis`): traversals, mean vs sampled codes,
  active and passive latents, reconstruction quality.
* Flows (:mod:`~workbench.latents.flows`): zuko flows as Pyro-ready SCM mechanisms with
  exact abduction, causal normalizing flows, the digits' parents as flows.
* Diffusion (:mod:`~workbench.latents.diffusion`): DDPM, DDIM, DDIM inversion, diffusion
  autoencoders and semantic directions (``import workbench.latents.diffusion as wd``).
"""

from workbench.latents.analysis import (
    LatentActivity, encode_batched, latent_activity, mean_and_sampled, reconstruction_report,
    traversal_grid, traverse,
)
from workbench.latents.causal_vae import CausalVAE
from workbench.latents.checkpoint import load_checkpoint, load_weights_file, save_checkpoint
from workbench.latents.factor_reader import FactorReader
from workbench.latents.pretrained import list_pretrained, load_pretrained, save_pretrained
from workbench.latents.training import TrainResult, train
from workbench.latents.scm_prior import LatentSCM
from workbench.latents.vae import MODELS, VAE, BetaTCVAE, BetaVAE, build_model
from workbench.latents import flows  # noqa: E402 (after training: flows train with it)

__all__ = [
    "flows", "VAE", "BetaVAE", "BetaTCVAE", "CausalVAE", "LatentSCM", "FactorReader", "MODELS",
    "build_model", "train", "TrainResult",
    "save_checkpoint", "load_checkpoint", "load_weights_file", "load_pretrained",
    "list_pretrained", "save_pretrained", "traverse", "traversal_grid", "mean_and_sampled",
    "latent_activity", "LatentActivity", "reconstruction_report", "encode_batched",
]
