"""Small convolutional encoder and decoder for square images of side 32 or 64.

The shape of Burgess et al. (2018, "Understanding disentangling in beta-VAE"), made
smaller so it trains on a laptop CPU: stride-2 4x4 convolutions halve the image until
it is 4x4, then a hidden layer of 128 units; the decoder mirrors it with transposed
convolutions. For 64x64 one channel and 10 latents that is about 0.24 million weights
(under 1 MB as float32).

Examples
--------
>>> import torch
>>> enc, dec = ConvEncoder((1, 64, 64), 10), ConvDecoder((1, 64, 64), 10)
>>> enc(torch.zeros(2, 1, 64, 64)).shape, dec(torch.zeros(2, 10)).shape
(torch.Size([2, 20]), torch.Size([2, 1, 64, 64]))
"""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.errors import ShapeError

__all__ = ["ConvEncoder", "ConvDecoder", "check_image_shape"]


def check_image_shape(image_shape) -> tuple[int, int, int]:
    """Validate ``(channels, side, side)`` with side a power of two from 16 to 256.

    Examples
    --------
    >>> check_image_shape([1, 32, 32])
    (1, 32, 32)
    """
    try:
        c, h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"image_shape must be (channels, height, width), got {image_shape!r}.") from exc
    if h != w or h < 16 or h > 256 or h & (h - 1) or c < 1:
        raise ShapeError(
            f"image_shape {image_shape!r} is not supported: use square images whose side "
            "is a power of two between 16 and 256 (e.g. (1, 64, 64) or (3, 32, 32))."
        )
    return c, h, w


def _num_halvings(side: int) -> int:
    return int(math.log2(side)) - 2          # down to 4x4


class ConvEncoder(nn.Module):
    """Images ``(n, C, S, S)`` to ``2 * latent_dim`` numbers (mean and log-variance).

    Examples
    --------
    >>> import torch
    >>> ConvEncoder((1, 32, 32), 3)(torch.zeros(2, 1, 32, 32)).shape      # mean and log-variance
    torch.Size([2, 6])
    """

    def __init__(self, image_shape, latent_dim: int, channels: int = 32, hidden: int = 128):
        super().__init__()
        c, side, _ = check_image_shape(image_shape)
        layers, in_ch = [], c
        for _ in range(_num_halvings(side)):
            layers += [nn.Conv2d(in_ch, channels, 4, stride=2, padding=1), nn.ReLU()]
            in_ch = channels
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Sequential(nn.Linear(channels * 16, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 2 * latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 2 * latent_dim)``: the posterior means, then the log-variances."""
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """Latents ``(n, latent_dim)`` to pixel logits ``(n, C, S, S)``.

    Examples
    --------
    >>> import torch
    >>> ConvDecoder((1, 32, 32), 3)(torch.zeros(2, 3)).shape              # logits
    torch.Size([2, 1, 32, 32])
    """

    def __init__(self, image_shape, latent_dim: int, channels: int = 32, hidden: int = 128):
        super().__init__()
        c, side, _ = check_image_shape(image_shape)
        self.channels = channels
        self.head = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                  nn.Linear(hidden, channels * 16), nn.ReLU())
        layers, n = [], _num_halvings(side)
        for i in range(n):
            last = i == n - 1
            layers.append(nn.ConvTranspose2d(channels, c if last else channels, 4, stride=2, padding=1))
            if not last:
                layers.append(nn.ReLU())
        self.features = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of the images, ``(n, C, S, S)``."""
        return self.features(self.head(z).view(-1, self.channels, 4, 4))
