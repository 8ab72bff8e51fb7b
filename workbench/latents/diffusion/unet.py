"""A small epsilon-prediction UNet: GroupNorm, sinusoidal time embedding, optional condition.

Three resolution levels (32 -> 16 -> 8 for 32x32 images), one residual block a level on
the way down and on the way up, one in the middle. The middle block's output is the
*h-space* of Kwon et al. (2023): :meth:`UNet.forward` returns it when asked
(``return_h=True``). The time ``t`` enters through a sinusoidal embedding (Vaswani et
al. 2017, as in DDPM) and an MLP; an optional condition vector (the semantic code of a
diffusion autoencoder, or any vector a caller supplies) is embedded the same way and
added. Each residual block turns the embedding into a per-channel scale and shift of
its second GroupNorm (the adaptive GroupNorm of Dhariwal & Nichol 2021 and of
diffusion autoencoders).

Examples
--------
>>> import torch
>>> net = UNet((1, 32, 32), channels=8, condition_dim=3)
>>> eps, h = net(torch.zeros(2, 1, 32, 32), torch.tensor([0, 999]), torch.zeros(2, 3), return_h=True)
>>> eps.shape, h.shape
(torch.Size([2, 1, 32, 32]), torch.Size([2, 16, 8, 8]))
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from workbench.errors import ShapeError, WorkbenchInputError

__all__ = ["UNet", "ResBlock", "timestep_embedding", "SemanticEncoder"]


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding ``[cos(t w_k), sin(t w_k)]`` with ``w_k = max_period^(-k/half)``.

    Examples
    --------
    At ``t = 0`` every cosine is 1 and every sine 0; the first frequency is 1, so at
    ``t = pi / 2`` its cosine is 0:

    >>> timestep_embedding(torch.tensor([0]), 4).tolist()
    [[1.0, 1.0, 0.0, 0.0]]
    >>> round(timestep_embedding(torch.tensor([math.pi / 2]), 4)[0, 0].item(), 6)
    0.0
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def _groups(channels: int) -> int:
    return math.gcd(channels, 8)


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> conv, then GroupNorm scaled and shifted by the embedding -> SiLU -> conv.

    The input reaches the output through a skip connection (a 1x1 conv when the channel
    counts differ).

    Examples
    --------
    >>> block = ResBlock(in_ch=4, out_ch=8, emb_dim=16)
    >>> block(torch.randn(2, 4, 6, 6), torch.randn(2, 16)).shape
    torch.Size([2, 8, 6, 6])
    >>> type(ResBlock(8, 8, 16).skip).__name__
    'Identity'
    """

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(_groups(in_ch), in_ch), nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * out_ch)
        self.norm2, self.conv2 = nn.GroupNorm(_groups(out_ch), out_ch), nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """``skip(x) + residual(x, emb)`` for images ``x`` and embeddings ``(n, emb_dim)``."""
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        return self.skip(x) + h


class UNet(nn.Module):
    """Predicts the noise ``eps`` in ``x_t``; channels ``(c, 2c, 2c)`` at the three levels.

    Parameters
    ----------
    image_shape : (C, S, S)
        ``S`` divisible by 4.
    channels : int
        ``c``, the width of the first level.
    condition_dim : int
        Length of the optional condition vector (0: unconditional).

    Raises
    ------
    WorkbenchInputError
        If the side is not a multiple of 4 (at least 8), or ``channels < 2``.
    ShapeError
        (when called) If a conditional net gets no condition, or one of the wrong length.

    Examples
    --------
    >>> net = UNet((1, 16, 16), channels=4, condition_dim=2)
    >>> net(torch.zeros(3, 1, 16, 16), torch.tensor(10), torch.zeros(3, 2)).shape
    torch.Size([3, 1, 16, 16])
    >>> net(torch.zeros(3, 1, 16, 16), torch.tensor(10))
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: This UNet needs a condition of shape (n, 2), got None.
    >>> UNet((1, 30, 30))
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: UNet needs a side divisible by 4 (got 30), channels >= 2 (got 16) and condition_dim >= 0 (got 0).
    """

    def __init__(self, image_shape, channels: int = 16, condition_dim: int = 0):
        super().__init__()
        c_in, side = int(image_shape[0]), int(image_shape[-1])
        if side % 4 or side < 8 or channels < 2 or condition_dim < 0:
            raise WorkbenchInputError(
                f"UNet needs a side divisible by 4 (got {side}), channels >= 2 (got {channels}) "
                f"and condition_dim >= 0 (got {condition_dim}).")
        c1, c2, emb = channels, 2 * channels, 4 * channels
        self.channels, self.condition_dim, self.emb_dim = channels, condition_dim, emb
        self.time_mlp = nn.Sequential(nn.Linear(c1, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.condition_mlp = (nn.Sequential(nn.Linear(condition_dim, emb), nn.SiLU(), nn.Linear(emb, emb))
                              if condition_dim else None)
        self.stem = nn.Conv2d(c_in, c1, 3, padding=1)
        self.down = nn.ModuleList([ResBlock(c1, c1, emb), ResBlock(c1, c2, emb), ResBlock(c2, c2, emb)])
        self.downsample = nn.ModuleList([nn.Conv2d(c1, c1, 3, 2, 1), nn.Conv2d(c2, c2, 3, 2, 1)])
        self.middle = ResBlock(c2, c2, emb)
        self.up = nn.ModuleList([ResBlock(2 * c2, c2, emb), ResBlock(2 * c2, c1, emb), ResBlock(2 * c1, c1, emb)])
        self.upsample = nn.ModuleList([nn.Conv2d(c2, c2, 3, padding=1), nn.Conv2d(c1, c1, 3, padding=1)])
        self.head = nn.Sequential(nn.GroupNorm(_groups(c1), c1), nn.SiLU(), nn.Conv2d(c1, c_in, 3, padding=1))

    def embed(self, t: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        """Time embedding plus (when the net is conditional) the condition's embedding."""
        emb = self.time_mlp(timestep_embedding(t, self.channels))
        if self.condition_mlp is not None:
            if condition is None or condition.dim() != 2 or condition.shape[1] != self.condition_dim:
                got = None if condition is None else tuple(condition.shape)
                raise ShapeError(f"This UNet needs a condition of shape (n, {self.condition_dim}), got {got}.")
            emb = emb + self.condition_mlp(condition)
        return emb

    def forward(self, x: torch.Tensor, t: torch.Tensor, condition: torch.Tensor | None = None,
                return_h: bool = False):
        """``eps`` for model-space ``x`` at timesteps ``t`` (and the h-space code if ``return_h``)."""
        emb = self.embed(t.expand(len(x)) if t.dim() == 0 or len(t) == 1 else t, condition)
        h, skips = self.stem(x), []
        for level, block in enumerate(self.down):
            h = block(h, emb)
            skips.append(h)
            if level < 2:
                h = self.downsample[level](h)
        middle = self.middle(h, emb)
        h = middle
        for level, block in enumerate(self.up):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
            if level < 2:
                h = self.upsample[level](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        eps = self.head(h)
        return (eps, middle) if return_h else eps


class SemanticEncoder(nn.Module):
    """Images to a semantic code ``z_sem`` (diffusion autoencoders' encoder, small).

    Three stride-2 convolutions then a linear head.

    Examples
    --------
    >>> SemanticEncoder((1, 32, 32), semantic_dim=5)(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 5])
    """

    def __init__(self, image_shape, semantic_dim: int, channels: int = 32):
        super().__init__()
        c_in, side = int(image_shape[0]), int(image_shape[-1])
        layers, ch = [], c_in
        for _ in range(3):
            layers += [nn.Conv2d(ch, channels, 4, stride=2, padding=1), nn.SiLU()]
            ch = channels
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(channels * (side // 8) ** 2, semantic_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``z_sem`` of model-space images, ``(n, semantic_dim)``."""
        return self.head(self.features(x))
