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

import math

import torch

from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError
from workbench.latents.diffusion.samplers import decode_ddim, invert_ddim

__all__ = ["encode", "decode", "reconstruct", "inversion_mse", "abduct", "counterfactual", "edit"]


def _semantic(model, images):
    return model.encode(images) if hasattr(model, "encode") else None


@torch.no_grad()
def encode(model, images: torch.Tensor, steps: int = 50):
    """``(z_sem, x_T)`` of ``[0, 1]`` images: the semantic code and its DDIM inversion.

    Examples
    --------
    >>> from workbench.latents import load_pretrained
    >>> from workbench.datasets import Digits
    >>> model = load_pretrained("diffae_digits", device="cpu")
    >>> images, _ = Digits().sample(2, generator=0)
    >>> z_sem, x_T = encode(model, images, steps=5)
    >>> z_sem.shape, x_T.shape
    (torch.Size([2, 16]), torch.Size([2, 1, 32, 32]))
    >>> ((decode(model, z_sem, x_T, steps=5) - images) ** 2).mean().item() < 0.01
    True
    """
    z_sem = _semantic(model, images)
    return z_sem, invert_ddim(model, images, z_sem, steps=steps)


@torch.no_grad()
def decode(model, z_sem, x_T: torch.Tensor, steps: int = 50) -> torch.Tensor:
    """Images from the two codes: DDIM from ``x_T`` conditioned on ``z_sem``.

    Examples
    --------
    The decoder is deterministic, so the same two codes give the same image:

    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=50, device="cpu").eval()
    >>> z_sem, x_T = torch.zeros(1, 2), torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> torch.equal(decode(model, z_sem, x_T, steps=5), decode(model, z_sem, x_T, steps=5))
    True
    """
    return decode_ddim(model, x_T, z_sem, steps=steps)


@torch.no_grad()
def abduct(model, images: torch.Tensor, condition=None, steps: int = 50) -> torch.Tensor:
    """The noise ``x_T`` that, with the model and ``condition`` as mechanism, reproduces ``images``.

    Examples
    --------
    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(mean=0.5, std=0.1, image_shape=(1, 4, 4), num_steps=1000)
    >>> images = 0.4 + 0.2 * torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    >>> x_T = abduct(toy, images, steps=200)
    >>> from workbench.latents.diffusion.samplers import decode_ddim
    >>> torch.allclose(decode_ddim(toy, x_T, steps=200), images, atol=1e-2)
    True
    """
    return invert_ddim(model, images, condition, steps=steps)


@torch.no_grad()
def counterfactual(model, images: torch.Tensor, condition, new_condition, steps: int = 50):
    """Abduction (invert under ``condition``), action (swap in ``new_condition``), prediction (decode).

    Examples
    --------
    Without an action, the counterfactual is the reconstruction:

    >>> from workbench.latents.diffusion.model import DiffusionModel
    >>> model = DiffusionModel((1, 8, 8), channels=4, condition_dim=2, num_steps=50, device="cpu").eval()
    >>> images, c = torch.rand(2, 1, 8, 8), torch.tensor([1.0, 0.0])
    >>> torch.allclose(counterfactual(model, images, c, c, steps=5),
    ...                reconstruct(model, images, steps=5, condition=c))
    True
    >>> counterfactual(model, images, c, torch.tensor([0.0, 1.0]), steps=5).shape
    torch.Size([2, 1, 8, 8])
    """
    return decode_ddim(model, abduct(model, images, condition, steps), new_condition, steps=steps)


@torch.no_grad()
def reconstruct(model, images: torch.Tensor, steps: int = 50, condition="semantic") -> torch.Tensor:
    """Invert then decode with ``steps`` each way; ``condition="semantic"`` uses ``z_sem``.

    Examples
    --------
    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=50, device="cpu").eval()
    >>> images = torch.rand(2, 1, 8, 8)
    >>> torch.equal(reconstruct(model, images, steps=5),
    ...             decode(model, *encode(model, images, steps=5), steps=5))
    True
    """
    if isinstance(condition, str) and condition != "semantic":
        raise WorkbenchInputError(f"condition must be 'semantic' (the image's own z_sem), None or a tensor, "
                                  f"got {condition!r}.")
    c = _semantic(model, images) if isinstance(condition, str) else condition
    return decode_ddim(model, invert_ddim(model, images, c, steps=steps), c, steps=steps)


def inversion_mse(model, images: torch.Tensor, steps: int = 50, condition="semantic") -> float:
    """Per-pixel mean squared error of :func:`reconstruct` (images in ``[0, 1]``).

    Examples
    --------
    The committed digits autoencoder reconstructs better with more DDIM steps:

    >>> from workbench.latents import load_pretrained
    >>> from workbench.datasets import Digits
    >>> model = load_pretrained("diffae_digits", device="cpu")
    >>> images, _ = Digits().sample(2, generator=0)
    >>> inversion_mse(model, images, steps=10) < inversion_mse(model, images, steps=2)
    True
    """
    images = model.check_images(images)
    return float((reconstruct(model, images, steps, condition) - images).pow(2).mean())


@torch.no_grad()
def edit(model, z_sem: torch.Tensor, x_T: torch.Tensor, delta, amount: float, steps: int = 50):
    """Decode ``z_sem + amount * delta`` with the image's own ``x_T``: a semantic edit.

    Examples
    --------
    An edit of size 0 is the plain decoding:

    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=50, device="cpu").eval()
    >>> z_sem, x_T = encode(model, torch.rand(1, 1, 8, 8), steps=5)
    >>> torch.equal(edit(model, z_sem, x_T, [1.0, 0.0], 0.0, steps=5), decode(model, z_sem, x_T, steps=5))
    True
    """
    delta = torch.as_tensor(delta, dtype=torch.float32, device=z_sem.device)
    if delta.shape != z_sem.shape[-1:]:
        raise ShapeError(f"delta must have one entry per z_sem dimension ({z_sem.shape[-1]}), "
                         f"got shape {tuple(delta.shape)}.")
    if not math.isfinite(float(amount)) or not torch.isfinite(delta).all():
        raise NonFiniteValueError(f"amount and delta must be finite, got amount={amount!r}.")
    return decode_ddim(model, x_T, z_sem + float(amount) * delta, steps=steps)
