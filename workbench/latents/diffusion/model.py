"""Diffusion models that train through :func:`workbench.latents.train`: DDPM and the diffusion autoencoder.

:class:`DiffusionModel` is DDPM's epsilon-prediction model (Ho et al. 2020): a
:class:`~workbench.latents.diffusion.unet.UNet` ``eps_theta(x_t, t, c)`` and a noise
schedule. Its loss is DDPM's "simple" objective,

.. math:: L = E_{x_0, t, \\epsilon}\\, \\lVert \\epsilon - \\epsilon_\\theta(\\sqrt{\\bar\\alpha_t} x_0
          + \\sqrt{1 - \\bar\\alpha_t}\\, \\epsilon,\\ t,\\ c) \\rVert^2 ,

with ``t`` uniform and every draw taken from the generator the training loop passes in,
so a resumed run repeats the same draws. Images are in ``[0, 1]`` outside and
``[-1, 1]`` inside (:meth:`to_model` / :meth:`to_images`).

A model with ``condition_dim > 0`` takes a condition vector ``c`` (any vector: issue 17's
counterfactual mechanism passes parent values). With ``condition_dropout = p`` the
condition is replaced by a learned "no condition" vector in a fraction ``p`` of training
examples, so the same network is also an unconditional model (``condition=None``).

:class:`DiffusionAutoencoder` (Preechakul et al. 2022) adds a semantic encoder: its
condition is ``z_sem = Enc(x_0)``, learned jointly through the same loss. Encoding an
image is then two codes: ``z_sem`` (what the image shows) and, by deterministic DDIM
inversion given ``z_sem``, ``x_T`` (everything else); see
:mod:`workbench.latents.diffusion.autoencoder`.

Examples
--------
>>> import torch
>>> model = DiffusionAutoencoder((1, 32, 32), channels=8, semantic_dim=4, device="cpu")
>>> loss, terms = model.loss(torch.rand(4, 1, 32, 32), generator=torch.Generator().manual_seed(0))
>>> sorted(terms), model.encode(torch.rand(3, 1, 32, 32)).shape
(['loss'], torch.Size([3, 4]))
>>> build_diffusion(model.config).config == model.config
True
"""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents.diffusion.schedule import SCHEDULES, NoiseSchedule, q_sample
from workbench.latents.diffusion.unet import SemanticEncoder, UNet
from workbench.runtime import device as runtime_device

__all__ = ["DiffusionModel", "DiffusionAutoencoder", "DIFFUSION_MODELS", "build_diffusion"]


class DiffusionModel(nn.Module):
    """DDPM with an epsilon-prediction UNet, optionally conditioned on a vector.

    Parameters
    ----------
    image_shape : (C, S, S)
    channels : int
        Width of the UNet's first level.
    condition_dim : int
        Length of the condition vector; 0 for an unconditional model.
    condition_dropout : float
        Fraction of training examples that see the learned "no condition" vector instead.
    schedule : {"linear", "cosine"}
    num_steps : int
        ``T``, the number of diffusion steps.
    device : optional

    Raises
    ------
    UnknownVariableError
        If ``schedule`` is not a known schedule.
    WorkbenchInputError
        If ``condition_dropout`` is not in ``[0, 1)``.

    Examples
    --------
    >>> model = DiffusionModel((1, 8, 8), channels=4, condition_dim=2, num_steps=100, device="cpu")
    >>> x_t = torch.randn(3, 1, 8, 8)
    >>> model.predict_noise(x_t, 50, condition=torch.zeros(3, 2)).shape
    torch.Size([3, 1, 8, 8])
    >>> model.config["condition_dim"], model.schedule.num_steps
    (2, 100)
    >>> loss, terms = model.loss(torch.rand(3, 1, 8, 8), torch.Generator().manual_seed(0),
    ...                          condition=torch.zeros(3, 2))
    >>> terms["loss"] == loss.item()
    True
    >>> model.check_images(torch.rand(3, 1, 4, 4))
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: Expected images of shape (n, 1, 8, 8), got (3, 1, 4, 4).
    """

    kind = "ddpm"

    def __init__(self, image_shape=(1, 32, 32), channels: int = 16, condition_dim: int = 0,
                 condition_dropout: float = 0.0, schedule: str = "linear", num_steps: int = 1000,
                 device=None):
        super().__init__()
        if schedule not in SCHEDULES:
            raise UnknownVariableError(str(schedule), SCHEDULES, what="noise schedule")
        if not 0.0 <= float(condition_dropout) < 1.0:
            raise WorkbenchInputError(f"condition_dropout must be in [0, 1), got {condition_dropout!r}.")
        self.image_shape = tuple(int(v) for v in image_shape)
        self.channels, self.condition_dim = int(channels), int(condition_dim)
        self.condition_dropout, self.schedule_name = float(condition_dropout), schedule
        self.schedule: NoiseSchedule = SCHEDULES[schedule](num_steps)
        self.kl_scale = 1.0                     # set by the shared training loop; unused here
        self.unet = UNet(self.image_shape, self.channels, self.condition_dim)
        self.null_condition = nn.Parameter(torch.zeros(self.condition_dim)) if self.condition_dim else None
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """The constructor arguments (and ``kind``), as saved beside the weights."""
        return {"kind": self.kind, "image_shape": list(self.image_shape), "channels": self.channels,
                "condition_dim": self.condition_dim, "condition_dropout": self.condition_dropout,
                "schedule": self.schedule_name, "num_steps": self.schedule.num_steps}

    @property
    def device(self) -> torch.device:
        """The device the weights are on."""
        return next(self.parameters()).device

    @staticmethod
    def to_model(images: torch.Tensor) -> torch.Tensor:
        """``[0, 1]`` images to the model's ``[-1, 1]``."""
        return images * 2.0 - 1.0

    @staticmethod
    def to_images(x: torch.Tensor) -> torch.Tensor:
        """The model's ``[-1, 1]`` back to ``[0, 1]`` images (clamped)."""
        return ((x + 1.0) / 2.0).clamp(0.0, 1.0)

    def check_images(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` as float32 on the model's device, or a typed error for a bad shape or NaN."""
        if not torch.is_tensor(x) or x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ShapeError(f"Expected images of shape (n, {', '.join(map(str, self.image_shape))}), got {got}.")
        if len(x) == 0:
            raise ShapeError("Got 0 images; pass at least one.")
        low, high = torch.stack(torch.aminmax(x.float())).tolist()    # one device sync (NaN propagates)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise NonFiniteValueError("Images contain NaN or infinite values.")
        if low < -0.5 or high > 1.5:
            raise WorkbenchInputError(f"Images must hold values in [0, 1], got values from {low:g} to {high:g}; "
                                      "divide 0-255 images by 255.")
        return x.to(self.device, torch.float32)

    def condition_for(self, n: int, condition) -> torch.Tensor | None:
        """The condition the UNet sees: ``condition``, or the learned null vector when None."""
        if not self.condition_dim:
            if condition is not None:
                raise WorkbenchInputError("This model is unconditional (condition_dim=0): pass condition=None.")
            return None
        if condition is None:
            return self.null_condition.expand(n, -1)
        condition = torch.as_tensor(condition, dtype=torch.float32, device=self.device)
        if condition.dim() == 1:
            condition = condition.expand(n, -1)
        if condition.shape != (n, self.condition_dim):
            raise ShapeError(f"condition must have shape ({n}, {self.condition_dim}), got {tuple(condition.shape)}.")
        return condition

    def predict_noise(self, x_t: torch.Tensor, t: torch.Tensor, condition=None, return_h: bool = False):
        """``eps_theta(x_t, t, condition)`` for model-space ``x_t`` and integer timesteps ``t``."""
        t = torch.as_tensor(t, dtype=torch.long, device=x_t.device).reshape(-1).expand(len(x_t))
        return self.unet(x_t, t, self.condition_for(len(x_t), condition), return_h=return_h)

    def training_condition(self, x0: torch.Tensor, condition, generator) -> torch.Tensor | None:
        """The condition of each training example, with condition dropout applied."""
        if not self.condition_dim:
            return None
        condition = self.condition_for(len(x0), condition)
        if self.condition_dropout > 0:
            drop = torch.rand(len(x0), generator=generator, device=x0.device) < self.condition_dropout
            condition = torch.where(drop[:, None], self.null_condition.expand_as(condition), condition)
        return condition

    def loss(self, x: torch.Tensor, generator=None, condition=None):
        """DDPM's simple loss on ``[0, 1]`` images ``x`` (the mean over pixels)."""
        x0 = self.to_model(self.check_images(x))
        t = torch.randint(0, self.schedule.num_steps, (len(x0),), generator=generator, device=x0.device)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device)
        x_t = q_sample(self.schedule, x0, t, noise)
        c = self.training_condition(x0, self.semantic_condition(x) if condition is None else condition,
                                    generator)
        eps = self.unet(x_t, t, c)
        loss = (eps - noise).pow(2).mean()
        return loss, {"loss": float(loss.detach())}

    def semantic_condition(self, x: torch.Tensor):
        """The condition a model derives from the image itself: none for plain DDPM."""
        if self.condition_dim:
            raise WorkbenchInputError("This conditional model needs condition=... in loss(); "
                                      "train it on (image, condition) pairs.")
        return None


class DiffusionAutoencoder(DiffusionModel):
    """Diffusion autoencoder: a semantic encoder ``z_sem = Enc(x_0)`` conditions the UNet.

    Parameters
    ----------
    semantic_dim : int
        Length of ``z_sem``.
    (the rest as :class:`DiffusionModel`; ``condition_dim`` is ``semantic_dim``)

    Examples
    --------
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=3, num_steps=100, device="cpu")
    >>> images = torch.rand(2, 1, 8, 8)
    >>> model.encode(images).shape, model.semantic_dim, model.config["semantic_dim"]
    (torch.Size([2, 3]), 3, 3)
    >>> torch.equal(model.semantic_condition(images), model.encode(images))    # its own condition
    True
    >>> DiffusionAutoencoder(semantic_dim=0)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: semantic_dim must be a positive integer, got 0.
    """

    kind = "diffusion_autoencoder"

    def __init__(self, image_shape=(1, 32, 32), channels: int = 16, semantic_dim: int = 16,
                 condition_dropout: float = 0.0, schedule: str = "linear", num_steps: int = 1000,
                 device=None):
        if isinstance(semantic_dim, bool) or not isinstance(semantic_dim, int) or semantic_dim < 1:
            raise WorkbenchInputError(f"semantic_dim must be a positive integer, got {semantic_dim!r}.")
        super().__init__(image_shape, channels, semantic_dim, condition_dropout, schedule, num_steps, "cpu")
        self.encoder = SemanticEncoder(self.image_shape, semantic_dim)
        self.to(runtime_device(device))

    @property
    def semantic_dim(self) -> int:
        """Length of ``z_sem``."""
        return self.condition_dim

    @property
    def config(self) -> dict:
        """As :attr:`DiffusionModel.config`, with ``semantic_dim`` for ``condition_dim``."""
        config = super().config
        config["semantic_dim"] = config.pop("condition_dim")
        return config

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The semantic code ``z_sem`` of ``[0, 1]`` images, ``(n, semantic_dim)``."""
        return self.encoder(self.to_model(self.check_images(x)))

    def semantic_condition(self, x: torch.Tensor) -> torch.Tensor:
        """The condition in training: the image's own ``z_sem``."""
        return self.encode(x)


DIFFUSION_MODELS = {cls.kind: cls for cls in (DiffusionModel, DiffusionAutoencoder)}


def build_diffusion(config: dict, device=None) -> DiffusionModel:
    """A fresh (untrained) diffusion model from its ``config`` dict.

    Raises
    ------
    UnknownVariableError
        If ``config["kind"]`` is not ``"ddpm"`` or ``"diffusion_autoencoder"``.
    WorkbenchInputError
        If the other settings do not fit that kind.

    Examples
    --------
    >>> config = {"kind": "ddpm", "image_shape": [1, 8, 8], "channels": 4, "num_steps": 100}
    >>> model = build_diffusion(config, device="cpu")
    >>> type(model).__name__, model.image_shape
    ('DiffusionModel', (1, 8, 8))
    >>> build_diffusion({"kind": "ddpm", "width": 4})
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Bad settings for a 'ddpm' model: ...
    """
    config = dict(config)
    kind = config.pop("kind", None)
    if kind not in DIFFUSION_MODELS:
        raise UnknownVariableError(str(kind), DIFFUSION_MODELS, what="diffusion model kind")
    try:
        return DIFFUSION_MODELS[kind](**config, device=device)
    except TypeError as exc:
        raise WorkbenchInputError(f"Bad settings for a {kind!r} model: {exc}.") from exc
