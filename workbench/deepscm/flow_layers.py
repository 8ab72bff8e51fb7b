"""The invertible layers of the conditional image flow (Glow / RealNVP style).

Every layer maps ``h -> (h', log_det)`` forward (image towards noise) and has an exact
``inverse``; ``log_det`` is ``log |det dh'/dh|`` per image. Each layer that learns takes the
condition as feature maps ``cond`` (the parents, broadcast and as learned spatial maps
from :class:`ParentMaps`), so what the parents say need not be carried by the noise.

* :func:`squeeze` / :func:`unsqueeze`: ``(C, H, W) <-> (4C, H/2, W/2)``, a permutation;
* :class:`ActNorm`: a learned per-channel affine map;
* :class:`InvertibleConv`: Glow's invertible 1x1 convolution (a learned channel mixing);
* :class:`AffineCoupling`: half the channels, shifted and scaled by a conv net of the
  other half and the condition;
* :class:`ConditionalGaussian`: a Gaussian whose mean and scale come from a conv net;
  it turns a factored-out block into standardized noise, ``eps = (z - mu) / sigma``;
* :class:`ParentMaps`: the 12-number condition decoded to a feature map at each scale.

Examples
--------
>>> import torch
>>> x = torch.randn(2, 4, 4, 4)
>>> layer = AffineCoupling(4, cond_channels=3, hidden=8)
>>> with torch.no_grad():
...     _ = layer.net[-1].weight.normal_()      # a non-trivial coupling (it starts as the identity)
>>> cond = torch.randn(2, 3, 4, 4)
>>> y, log_det = layer(x, cond)
>>> bool(torch.allclose(layer.inverse(y, cond), x, atol=1e-5)), tuple(log_det.shape)
(True, (2,))
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["squeeze", "unsqueeze", "ActNorm", "InvertibleConv", "AffineCoupling", "ConditionalGaussian",
           "ParentMaps", "standard_normal_log_prob"]

#: the coupling's log-scale lies in ``(-SCALE_BOUND, SCALE_BOUND)`` (a soft clamp keeps training stable)
SCALE_BOUND = 2.0
#: the Gaussians' log-scale lies in ``(-SIGMA_BOUND, SIGMA_BOUND)``
SIGMA_BOUND = 7.0


def squeeze(h: torch.Tensor) -> torch.Tensor:
    """``(n, C, H, W) -> (n, 4C, H/2, W/2)``: each 2x2 patch becomes four channels.

    Examples
    --------
    >>> import torch
    >>> squeeze(torch.arange(4.0).view(1, 1, 2, 2)).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    n, c, height, width = h.shape
    h = h.reshape(n, c, height // 2, 2, width // 2, 2)
    return h.permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, height // 2, width // 2)


def unsqueeze(h: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`squeeze`.

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 3, 4, 6)
    >>> bool(torch.equal(unsqueeze(squeeze(x)), x))
    True
    """
    n, c, height, width = h.shape
    h = h.reshape(n, c // 4, 2, 2, height, width)
    return h.permute(0, 1, 4, 2, 5, 3).reshape(n, c // 4, 2 * height, 2 * width)


class ActNorm(nn.Module):
    """``h' = (h - bias) * exp(-log_scale)`` per channel (Glow's activation normalization).

    Examples
    --------
    >>> import torch
    >>> layer = ActNorm(2)
    >>> y, log_det = layer(torch.ones(1, 2, 3, 3))
    >>> float(log_det[0]), bool(torch.equal(layer.inverse(y), torch.ones(1, 2, 3, 3)))
    (0.0, True)
    """

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, h, cond=None):
        """Towards the noise: ``(x - bias) * exp(-log_scale)`` per channel, and its log-det."""
        pixels = h.shape[2] * h.shape[3]
        log_det = -self.log_scale.sum() * pixels
        return (h - self.bias) * torch.exp(-self.log_scale), log_det.expand(len(h))

    def inverse(self, h, cond=None):
        """Towards the image: undo :meth:`forward` exactly."""
        return h * torch.exp(self.log_scale) + self.bias


class InvertibleConv(nn.Module):
    """Glow's invertible 1x1 convolution ``h' = W h`` at every pixel; ``W`` starts orthogonal.

    The inverse uses ``W^-1`` computed in float64, so a round trip is exact to float32 error.

    Examples
    --------
    >>> import torch
    >>> layer = InvertibleConv(4)
    >>> x = torch.randn(2, 4, 3, 3)
    >>> y, log_det = layer(x)
    >>> bool(torch.allclose(layer.inverse(y), x, atol=1e-6)), abs(float(log_det[0])) < 1e-5
    (True, True)
    """

    def __init__(self, channels: int):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(channels, channels, dtype=torch.float64))
        self.weight = nn.Parameter(q.float())

    def forward(self, h, cond=None):
        """Towards the noise: the 1x1 convolution by ``W``, and its log-det."""
        log_det = torch.linalg.slogdet(self.weight.double())[1].float() * h.shape[2] * h.shape[3]
        return torch.einsum("ij,njhw->nihw", self.weight, h), log_det.expand(len(h))

    def inverse(self, h, cond=None):
        """Towards the image: the 1x1 convolution by ``W^-1``."""
        inverse = torch.linalg.inv(self.weight.double()).to(h.dtype)
        return torch.einsum("ij,njhw->nihw", inverse, h)


def _conv_net(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    """3x3 conv, ReLU, 1x1 conv, ReLU, 3x3 conv; the last starts at zero (the layer is the identity)."""
    net = nn.Sequential(nn.Conv2d(inputs, hidden, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                        nn.Conv2d(hidden, outputs, 3, padding=1))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


class AffineCoupling(nn.Module):
    """``h = (a, b) -> (a, b * s + t)`` with ``(log s, t) = net(a, cond)`` (RealNVP / Glow).

    ``log s`` is soft-clamped to ``(-SCALE_BOUND, SCALE_BOUND)``. The net sees the condition
    as extra input channels, so the parents can shape every step of the flow.

    Examples
    --------
    >>> import torch
    >>> layer = AffineCoupling(2, cond_channels=1, hidden=4)
    >>> x, c = torch.randn(1, 2, 2, 2), torch.randn(1, 1, 2, 2)
    >>> bool(torch.equal(layer(x, c)[0], x))             # starts as the identity
    True
    """

    def __init__(self, channels: int, cond_channels: int, hidden: int):
        super().__init__()
        self.keep = channels // 2
        self.net = _conv_net(self.keep + cond_channels, hidden, 2 * (channels - self.keep))

    def _scale_shift(self, a, cond):
        raw_scale, shift = self.net(torch.cat([a, cond], 1)).chunk(2, 1)
        return SCALE_BOUND * torch.tanh(raw_scale / SCALE_BOUND), shift

    def forward(self, h, cond):
        """Towards the noise: scale and shift one half given the other half and the parents; the log-det."""
        a, b = h[:, :self.keep], h[:, self.keep:]
        log_s, shift = self._scale_shift(a, cond)
        return torch.cat([a, b * torch.exp(log_s) + shift], 1), log_s.flatten(1).sum(1)

    def inverse(self, h, cond):
        """Towards the image: undo :meth:`forward` exactly (the kept half is unchanged)."""
        a, b = h[:, :self.keep], h[:, self.keep:]
        log_s, shift = self._scale_shift(a, cond)
        return torch.cat([a, (b - shift) * torch.exp(-log_s)], 1)


class ConditionalGaussian(nn.Module):
    """``z ~ N(mu, sigma^2)`` with ``(mu, log sigma) = conv(context)``: ``z <-> eps = (z - mu) / sigma``.

    The prior of a block the multi-scale flow factors out, given the kept block and the
    condition (or, at the top, the condition alone). :meth:`forward` returns ``eps`` and
    ``log |det d eps / dz| = -sum log sigma``; the noise of the mechanism is ``eps``, so the
    parents' share of ``z`` (its mean and scale) is not part of the abducted noise.

    Examples
    --------
    >>> import torch
    >>> prior = ConditionalGaussian(context_channels=3, channels=2)
    >>> z, context = torch.randn(1, 2, 4, 4), torch.randn(1, 3, 4, 4)
    >>> eps, log_det = prior(z, context)
    >>> bool(torch.equal(eps, z)), float(log_det[0])     # starts as N(0, 1)
    (True, 0.0)
    """

    def __init__(self, context_channels: int, channels: int):
        super().__init__()
        self.net = nn.Conv2d(context_channels, 2 * channels, 3, padding=1)
        nn.init.zeros_(self.net.weight)
        nn.init.zeros_(self.net.bias)

    def _mean_log_sigma(self, context):
        mean, raw = self.net(context).chunk(2, 1)
        return mean, SIGMA_BOUND * torch.tanh(raw / SIGMA_BOUND)

    def forward(self, z, context):
        """Standardize ``z`` by the mean and scale computed from the context; the log-det."""
        mean, log_sigma = self._mean_log_sigma(context)
        return (z - mean) * torch.exp(-log_sigma), -log_sigma.flatten(1).sum(1)

    def inverse(self, eps, context):
        """Un-standardize: ``mean + scale * u`` from the same context."""
        mean, log_sigma = self._mean_log_sigma(context)
        return mean + eps * torch.exp(log_sigma)


def standard_normal_log_prob(eps: torch.Tensor) -> torch.Tensor:
    """``sum log N(eps; 0, 1)`` per row of a batch.

    Examples
    --------
    >>> import torch
    >>> round(float(standard_normal_log_prob(torch.zeros(1, 2))[0]), 4)    # -log(2 pi)
    -1.8379
    """
    return -0.5 * (eps.flatten(1).pow(2).sum(1) + eps[0].numel() * math.log(2 * math.pi))


class ParentMaps(nn.Module):
    """The condition vector ``(n, D)`` as feature maps at each scale of the flow.

    A linear layer draws the coarsest map, transposed convolutions refine it to each finer
    scale (a small decoder from the parents: where the stroke of this digit, this thickness
    lies). Each map is returned with the condition broadcast beside it.

    Parameters
    ----------
    condition_dim : int
    channels : sequence of int
        Map channels per scale, finest first.
    sizes : sequence of (int, int)
        ``(H, W)`` per scale, finest first, each half the previous.

    Examples
    --------
    >>> import torch
    >>> maps = ParentMaps(12, channels=(4, 8), sizes=((8, 8), (4, 4)))
    >>> [tuple(m.shape) for m in maps(torch.zeros(2, 12))]
    [(2, 16, 8, 8), (2, 20, 4, 4)]
    """

    def __init__(self, condition_dim: int, channels, sizes):
        super().__init__()
        self.channels, self.sizes = tuple(channels), tuple(tuple(s) for s in sizes)
        coarse = self.sizes[-1]
        self.top = nn.Linear(condition_dim, self.channels[-1] * coarse[0] * coarse[1])
        self.up = nn.ModuleList(nn.ConvTranspose2d(self.channels[k + 1], self.channels[k], 4, 2, 1)
                                for k in range(len(self.channels) - 1))

    def forward(self, condition):
        """The parents' condition vector as a feature map at each scale."""
        coarse = self.sizes[-1]
        maps = [torch.relu(self.top(condition)).view(len(condition), self.channels[-1], *coarse)]
        for up in reversed(self.up):
            maps.insert(0, torch.relu(up(maps[0])))
        return [torch.cat([m, condition[:, :, None, None].expand(-1, -1, *m.shape[2:])], 1) for m in maps]
