"""Encoding and decoding with a diffusion autoencoder, and inversion as abduction.

A :class:`~workbench.latents.diffusion.model.DiffusionAutoencoder` gives an image two codes:

* ``z_sem = Enc(x_0)``, the semantic code (a vector: digit, thickness, ...);
* ``x_T``, the *stochastic* code: deterministic DDIM inversion of ``x_0`` given ``z_sem``.

``decode(z_sem, x_T)`` runs DDIM (``eta = 0``) from ``x_T`` conditioned on ``z_sem``. Read
as a structural causal model, the decoder is the mechanism ``x_0 := f(z_sem, x_T)``;
inversion recovers the noise of an observed ``x_0`` (abduction), editing ``z_sem`` is the
action, and decoding with the *same* ``x_T`` is the prediction: a counterfactual image.
The functions take any condition (``condition=`` instead of ``z_sem``), so a conditional
:class:`~workbench.latents.diffusion.model.DiffusionModel` works the same way.

Examples
--------
>>> import torch
>>> from workbench.latents.diffusion.model import DiffusionAutoencoder
>>> model = DiffusionAutoencoder((1, 16, 16), channels=4, semantic_dim=2, num_steps=50, device="cpu").eval()
>>> z_sem, x_T = encode(model, torch.rand(3, 1, 16, 16), steps=5)
>>> z_sem.shape, x_T.shape, decode(model, z_sem, x_T, steps=5).shape
(torch.Size([3, 2]), torch.Size([3, 1, 16, 16]), torch.Size([3, 1, 16, 16]))
"""

from __future__ import annotations

import torch

from workbench.latents.diffusion.samplers import decode_ddim, invert_ddim

__all__ = ["encode", "decode", "reconstruct", "inversion_mse", "abduct", "counterfactual", "edit"]


def _semantic(model, images):
    return model.encode(images) if hasattr(model, "encode") else None


@torch.no_grad()
def encode(model, images: torch.Tensor, steps: int = 50):
    """``(z_sem, x_T)`` of ``[0, 1]`` images: the semantic code and its DDIM inversion."""
    z_sem = _semantic(model, images)
    return z_sem, invert_ddim(model, images, z_sem, steps=steps)


@torch.no_grad()
def decode(model, z_sem, x_T: torch.Tensor, steps: int = 50) -> torch.Tensor:
    """Images from the two codes: DDIM from ``x_T`` conditioned on ``z_sem``."""
    return decode_ddim(model, x_T, z_sem, steps=steps)


@torch.no_grad()
def abduct(model, images: torch.Tensor, condition=None, steps: int = 50) -> torch.Tensor:
    """The noise ``x_T`` that, with the model and ``condition`` as mechanism, reproduces ``images``."""
    return invert_ddim(model, images, condition, steps=steps)


@torch.no_grad()
def counterfactual(model, images: torch.Tensor, condition, new_condition, steps: int = 50):
    """Abduction (invert under ``condition``), action (swap in ``new_condition``), prediction (decode)."""
    return decode_ddim(model, abduct(model, images, condition, steps), new_condition, steps=steps)


@torch.no_grad()
def reconstruct(model, images: torch.Tensor, steps: int = 50, condition="semantic") -> torch.Tensor:
    """Invert then decode with ``steps`` each way; ``condition="semantic"`` uses ``z_sem``."""
    c = _semantic(model, images) if isinstance(condition, str) and condition == "semantic" else condition
    return decode_ddim(model, invert_ddim(model, images, c, steps=steps), c, steps=steps)


def inversion_mse(model, images: torch.Tensor, steps: int = 50, condition="semantic") -> float:
    """Per-pixel mean squared error of :func:`reconstruct` (images in ``[0, 1]``)."""
    images = model.check_images(images)
    return float((reconstruct(model, images, steps, condition) - images).pow(2).mean())


@torch.no_grad()
def edit(model, z_sem: torch.Tensor, x_T: torch.Tensor, delta, amount: float, steps: int = 50):
    """Decode ``z_sem + amount * delta`` with the image's own ``x_T``: a semantic edit."""
    delta = torch.as_tensor(delta, dtype=torch.float32, device=z_sem.device)
    return decode_ddim(model, x_T, z_sem + float(amount) * delta, steps=steps)
