"""The teaching UNet's forward, traced, frozen and in channels-last layout: the same noise, faster.

Speed code beside :mod:`workbench.latents.diffusion.unet` (which stays the readable
definition). :class:`FastUNet` runs the same weights through the same layers with four
changes that move the result only at float-rounding level (a test pins it to the teaching
forward within ``FAST_TOLERANCE``):

1. the forward is traced once (``torch.jit.trace``) and frozen (``torch.jit.freeze``): the
   weights become constants and oneDNN may fuse a convolution with the add after it;
2. activations and weights are in channels-last layout, where oneDNN's small 3x3
   convolutions are faster;
3. the two SiLUs of each residual block act in place, and the adaptive GroupNorm's
   ``norm(h) * (1 + scale) + shift`` is one ``addcmul``;
4. no shape checks in the traced graph (:class:`FastDiffusion` checks the condition first).

On one CPU thread a UNet pass of ``ddim_digits`` (channels 16) costs about 0.75x the
teaching forward's (``benchmarks/REPORT.md``, the ddim_digits section). The frozen copy
holds the weights as they were when it was built: :class:`FastUNet` rebuilds it when any
parameter has changed since (``Tensor._version``), was moved, or the batch's device differs.

Examples
--------
>>> import torch
>>> from workbench.latents.diffusion.unet import UNet
>>> net = UNet((1, 16, 16), channels=4, condition_dim=2).eval()
>>> x, t, c = torch.randn(3, 1, 16, 16), torch.tensor([0, 5, 9]), torch.randn(3, 2)
>>> fast = FastUNet(net)
>>> bool((fast(x, t, c) - net(x, t, c)).abs().max() < FAST_TOLERANCE)
True
"""

from __future__ import annotations

import warnings
from copy import deepcopy

import torch
import torch.nn.functional as F
from torch import nn

from workbench.errors import WorkbenchInputError
from workbench.latents.diffusion.unet import ResBlock, UNet, timestep_embedding

__all__ = ["FastUNet", "FastDiffusion", "FAST_TOLERANCE"]

#: the largest absolute difference to the teaching forward that a test accepts (eps is O(1))
FAST_TOLERANCE = 1e-4


def _block(block: ResBlock, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    """:meth:`ResBlock.forward`, with in-place SiLUs and the scale-and-shift as one ``addcmul``."""
    h = block.conv1(F.silu(block.norm1(x), inplace=True))
    scale, shift = block.emb(emb)[:, :, None, None].chunk(2, dim=1)
    h = block.conv2(F.silu(torch.addcmul(shift, block.norm2(h), 1 + scale), inplace=True))
    return block.skip(x) + h


class _Forward(nn.Module):
    """:meth:`UNet.forward` without its checks, for ``t`` of shape ``(n,)`` (and a condition, if any)."""

    def __init__(self, unet: UNet):
        super().__init__()
        self.unet = unet

    def _eps(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        u = self.unet
        h, skips = u.stem(x), []
        for level, block in enumerate(u.down):
            h = _block(block, h, emb)
            skips.append(h)
            if level < 2:
                h = u.downsample[level](h)
        h = _block(u.middle, h, emb)
        for level, block in enumerate(u.up):
            h = _block(block, torch.cat([h, skips.pop()], dim=1), emb)
            if level < 2:
                h = u.upsample[level](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return u.head(h)

    def forward(self, x: torch.Tensor, t: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        u = self.unet
        emb = u.time_mlp(timestep_embedding(t, u.channels)) + u.condition_mlp(condition)
        return self._eps(x, emb)


class _UnconditionalForward(_Forward):
    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:       # noqa: D102
        return self._eps(x, self.unet.time_mlp(timestep_embedding(t, self.unet.channels)))


class FastUNet:
    """A :class:`~workbench.latents.diffusion.unet.UNet`'s noise prediction, traced and frozen.

    Not a module (so it adds nothing to a ``state_dict`` and never travels in a pickle): it
    keeps a reference to the teaching ``unet`` and a frozen copy of its forward, rebuilt when
    the weights change in place or move (their version or storage); a parameter *replaced*
    by a new one after the first call is not seen: build a new ``FastUNet`` then.

    Parameters
    ----------
    unet : UNet

    Examples
    --------
    >>> FastUNet("unet")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: FastUNet needs a workbench UNet, got str.
    """

    def __init__(self, unet: UNet):
        if not isinstance(unet, UNet):
            raise WorkbenchInputError(f"FastUNet needs a workbench UNet, got {type(unet).__name__}.")
        self.unet = unet
        self._frozen, self._key, self._parameters = None, None, None

    def _weights_key(self, device) -> tuple:
        if self._parameters is None:                  # walking the modules each call costs 2-3 %
            self._parameters = list(self.unet.parameters())
        return (str(device),) + tuple((p.data_ptr(), p._version) for p in self._parameters)

    def _build(self, x: torch.Tensor, t: torch.Tensor, condition) -> torch.jit.ScriptModule:
        conditional = self.unet.condition_mlp is not None
        copy = deepcopy(self.unet).eval().to(memory_format=torch.channels_last)
        forward = (_Forward if conditional else _UnconditionalForward)(copy)
        example = (x[:2].contiguous(memory_format=torch.channels_last), t[:2]) + \
            ((condition[:2],) if conditional else ())
        with warnings.catch_warnings():               # tracing is what we want here; torch 2.13 calls
            warnings.simplefilter("ignore", torch.jit.TracerWarning)      # torch.jit deprecated, still
            warnings.simplefilter("ignore", DeprecationWarning)           # the fastest on CPU (REPORT.md)
            traced = torch.jit.trace(forward, example, check_trace=False)
            return torch.jit.freeze(traced.eval())

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, t: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """``eps`` for model-space ``x`` at timesteps ``t`` ``(n,)``; ``condition (n, d)`` if conditional."""
        key = self._weights_key(x.device)
        if self._frozen is None or key != self._key:
            self._frozen, self._key = self._build(x, t, condition), key
        args = (x.contiguous(memory_format=torch.channels_last), t)
        args += (condition,) if self.unet.condition_mlp is not None else ()
        return self._frozen(*args).contiguous()


class FastDiffusion:
    """A :class:`~workbench.latents.diffusion.model.DiffusionModel` whose noise prediction runs :class:`FastUNet`.

    Everything else (schedule, image checks, condition) is the model's own, so the samplers
    and inversions take it in the model's place.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion import DiffusionModel, decode_ddim
    >>> model = DiffusionModel((1, 8, 8), channels=4, condition_dim=2, num_steps=20, device="cpu").eval()
    >>> x_T, c = torch.randn(2, 1, 8, 8), torch.randn(2, 2)
    >>> fast = decode_ddim(FastDiffusion(model), x_T, c, steps=5)
    >>> bool((fast - decode_ddim(model, x_T, c, steps=5)).abs().max() < 1e-4)
    True
    """

    def __init__(self, model):
        self.model, self.fast_unet = model, FastUNet(model.unet)

    def __getattr__(self, name):
        if name == "model":                           # not yet set (a copy being built)
            raise AttributeError(name)
        return getattr(self.model, name)

    def predict_noise(self, x_t: torch.Tensor, t, condition=None, return_h: bool = False):
        """As the model's ``predict_noise``; ``return_h=True`` takes the teaching forward."""
        if return_h:
            return self.model.predict_noise(x_t, t, condition, return_h=True)
        t = torch.as_tensor(t, dtype=torch.long, device=x_t.device).reshape(-1).expand(len(x_t))
        return self.fast_unet(x_t, t, self.model.condition_for(len(x_t), condition))
