"""An exactly invertible image mechanism: a conditional normalizing flow on the digit image.

``image = f(u; digit, thickness, intensity)`` with ``f`` a bijection for every value of the
parents (Glow / RealNVP style, Kingma & Dhariwal 2018; Dinh et al. 2017), so abduction is
inversion, ``u = f^-1(image; pa)``, exact up to float error, and a counterfactual is
``f(f^-1(image; pa); pa')``. The flow, image towards noise:

1. pixels ``x`` in ``[0, 1]`` to the middle of their 8-bit bin, ``(255 x + 1/2) / 256`` (while
   training, a uniform dequantization noise in the bin instead), then a logit;
2. at each scale: a squeeze ``(C, H, W) -> (4C, H/2, W/2)``, steps of actnorm, an invertible
   1x1 convolution and an affine coupling whose conv net sees the parents; then half the
   channels are factored out through a Gaussian whose mean and scale depend on the kept
   half *and the parents* (a conditional prior), the rest go on to the next scale;
3. the last scale's channels through a Gaussian of the parents alone.

The noise ``u`` is every factored-out block standardized, ``(z - mu) / sigma``, flattened into
one vector of as many numbers as the image has pixels. What the parents determine (their
means and scales) is then not part of ``u``; what they do not (the slant, the quirks of
the stroke) must be. Trained by maximum likelihood (bits per dimension); whether the
flow uses its condition, so that ``do(thickness)`` changes the stroke, is measured, not
assumed (see the manifest's ``evaluation`` of ``flow_digits``).

Exact means ``predict(abduct(x, pa), pa) == x`` to float error. A counterfactual under new
parents may put pixels slightly outside ``[0, 1]`` (the flow's range is not the unit cube);
they are clamped, and what the clamp removed is gone: do-then-undo (reversibility) is then
close to, not exactly, the input (0.3 grey levels on held-out digits for ``flow_digits``).

Examples
--------
>>> import torch
>>> from workbench.metrics.soundness import DigitsGroundTruth
>>> images, parents = DigitsGroundTruth().sample(2, generator=0)
>>> mech = FlowImageMechanism(levels=2, steps=(1, 1), hidden=(8, 8), map_channels=(2, 4), device="cpu")
>>> u = mech.abduct(images, parents)
>>> u.shape                                     # one number per pixel
torch.Size([2, 1024])
>>> float((mech.predict(u, parents) - images).abs().max()) < 1e-5     # exact abduction
True
"""

from __future__ import annotations

import math
from typing import Mapping

import torch
from torch import nn

from workbench.deepscm.flow_layers import (ActNorm, AffineCoupling, ConditionalGaussian, InvertibleConv,
                                           ParentMaps, squeeze, standard_normal_log_prob, unsqueeze)
from workbench.deepscm.mechanism import NUM_DIGITS, ImageMechanism, encode_parents
from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError
from workbench.latents.pretrained import register_builder
from workbench.metrics.soundness.generators import check_images
from workbench.runtime import device as runtime_device

__all__ = ["FlowImageMechanism", "build_flow_mechanism"]

CONDITION_DIM = NUM_DIGITS + 2
BINS = 256


def _positive_ints(values, name: str, length: int) -> list[int]:
    values = list(values) if isinstance(values, (list, tuple)) else None
    if values is None or len(values) != length or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise WorkbenchInputError(f"{name} must be {length} positive integers (one per scale), got {values!r}.")
    return values


class FlowImageMechanism(ImageMechanism):
    """A conditional multi-scale flow ``image = f(u; parents)``, exactly invertible.

    Parameters
    ----------
    image_shape : (C, H, W)
        ``H`` and ``W`` divisible by ``2 ** levels``.
    levels : int
        Scales of the flow (each squeezes by 2, all but the last factor half out).
    steps, hidden, map_channels : sequences of int, one per scale
        Flow steps (actnorm, 1x1 conv, coupling), the couplings' hidden channels, and the
        channels of the parents' feature map at that scale.
    alpha : float
        The logit's margin: ``y = logit(alpha + (1 - 2 alpha) x)``.
    device : optional

    Examples
    --------
    >>> mech = FlowImageMechanism((1, 8, 8), levels=2, steps=(1, 1), hidden=(4, 4), map_channels=(2, 2))
    >>> mech.exact, mech.noise_dim
    (True, 64)
    >>> FlowImageMechanism((1, 6, 6), levels=2)
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: image_shape (1, 6, 6): height and width must be divisible by 2 ** levels = 4.
    """

    kind = "deepscm_flow"
    exact = True

    def __init__(self, image_shape=(1, 32, 32), levels: int = 3, steps=(8, 8, 4), hidden=(48, 64, 64),
                 map_channels=(8, 16, 32), alpha: float = 0.05, device=None):
        super().__init__()
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise WorkbenchInputError(f"levels must be a positive integer, got {levels!r}.")
        shape = tuple(int(s) for s in image_shape)
        if len(shape) != 3 or shape[1] % 2 ** levels or shape[2] % 2 ** levels:
            raise ShapeError(f"image_shape {shape}: height and width must be divisible by 2 ** levels = "
                             f"{2 ** levels}.")
        if not isinstance(alpha, (int, float)) or not 0.0 <= alpha < 0.5:
            raise WorkbenchInputError(f"alpha must be a number in [0, 0.5), got {alpha!r}.")
        self.image_shape, self.levels, self.alpha = shape, levels, float(alpha)
        self.steps = _positive_ints(steps, "steps", levels)
        self.hidden = _positive_ints(hidden, "hidden", levels)
        self.map_channels = _positive_ints(map_channels, "map_channels", levels)
        sizes = [(shape[1] // 2 ** (k + 1), shape[2] // 2 ** (k + 1)) for k in range(levels)]
        self.parent_maps = ParentMaps(CONDITION_DIM, self.map_channels, sizes)
        self.flows, self.priors, self.block_shapes = nn.ModuleList(), nn.ModuleList(), []
        channels = shape[0]
        for k in range(levels):
            channels *= 4
            cond = self.map_channels[k] + CONDITION_DIM
            layers = []
            for _ in range(self.steps[k]):
                layers += [ActNorm(channels), InvertibleConv(channels), AffineCoupling(channels, cond, self.hidden[k])]
            self.flows.append(nn.ModuleList(layers))
            out = channels // 2 if k < levels - 1 else channels
            context = (channels - out) + cond
            self.priors.append(ConditionalGaussian(context, out))
            self.block_shapes.append((out, *sizes[k]))
            channels -= out if k < levels - 1 else 0
        self.noise_dim = sum(math.prod(s) for s in self.block_shapes)
        self.kl_scale = 1.0                   # set by the training loop; a flow has no KL term
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """What :func:`build_flow_mechanism` needs to rebuild this flow (JSON-ready)."""
        return {"kind": self.kind, "image_shape": list(self.image_shape), "levels": self.levels,
                "steps": list(self.steps), "hidden": list(self.hidden),
                "map_channels": list(self.map_channels), "alpha": self.alpha}

    # -- pixels <-> logit space ----------------------------------------------------------
    def _to_logit(self, x_dequantized):
        s = self.alpha + (1 - 2 * self.alpha) * x_dequantized
        log_det = (math.log(1 - 2 * self.alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
        return torch.log(s) - torch.log1p(-s), log_det

    def _from_logit(self, y):
        return (torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)

    # -- the flow on logit images ---------------------------------------------------------
    def _encode(self, y, condition):
        """Logit images to the standardized blocks ``eps``, and ``log |det d eps / dy|``."""
        maps = self.parent_maps(condition)
        h, log_det, blocks = y, torch.zeros(len(y), device=y.device), []
        for k in range(self.levels):
            h = squeeze(h)
            for layer in self.flows[k]:
                h, step = layer(h, maps[k])
                log_det = log_det + step
            out = self.block_shapes[k][0]
            keep, z = (h[:, :-out], h[:, -out:]) if k < self.levels - 1 else (h[:, :0], h)
            eps, step = self.priors[k](z, torch.cat([keep, maps[k]], 1))
            blocks.append(eps.flatten(1))
            log_det, h = log_det + step, keep
        return torch.cat(blocks, 1), log_det

    def _decode(self, noise, condition):
        maps = self.parent_maps(condition)
        blocks = noise.split([math.prod(s) for s in self.block_shapes], 1)
        h = noise.new_zeros(len(noise), 0, *self.block_shapes[-1][1:])
        for k in reversed(range(self.levels)):
            z = self.priors[k].inverse(blocks[k].view(-1, *self.block_shapes[k]), torch.cat([h, maps[k]], 1))
            h = torch.cat([h, z], 1)
            for layer in reversed(self.flows[k]):
                h = layer.inverse(h, maps[k])
            h = unsqueeze(h)
        return h

    # -- the mechanism's contract ---------------------------------------------------------
    def _check(self, images, parents):
        images = check_images(images)
        if tuple(images.shape[1:]) != self.image_shape:
            raise ShapeError(f"images have shape {tuple(images.shape)}; this flow takes (n, "
                             f"{', '.join(map(str, self.image_shape))}).")
        condition = self.condition(parents)
        if len(condition) != len(images):
            raise ShapeError(f"{len(images)} images but parents for {len(condition)}: give one value per image.")
        return images.to(self.device), condition

    def transform(self, images, parents) -> tuple[torch.Tensor, torch.Tensor]:
        """The noise ``u = f^-1(images; parents)`` and ``log |det du/dx|`` per image (differentiable).

        Examples
        --------
        >>> import torch
        >>> mech = FlowImageMechanism((1, 4, 4), levels=2, steps=(1, 1), hidden=(4, 4), map_channels=(2, 2))
        >>> pa = {"digit": torch.tensor([1.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([99.0])}
        >>> u, log_det = mech.transform(torch.full((1, 1, 4, 4), 0.5), pa)
        >>> tuple(u.shape), tuple(log_det.shape)
        ((1, 16), (1,))
        """
        images, condition = self._check(images, parents)
        y, log_det = self._to_logit((255.0 * images + 0.5) / BINS)
        noise, flow_log_det = self._encode(y, condition)
        return noise, log_det + flow_log_det + images[0].numel() * math.log(255.0 / BINS)

    @torch.no_grad()
    def abduct(self, images, parents) -> torch.Tensor:
        """The exact noise ``(n, noise_dim)`` of each image: the flow inverted (deterministic)."""
        return self.transform(images, parents)[0]

    @torch.no_grad()
    def predict(self, noise, parents) -> torch.Tensor:
        """Images in ``[0, 1]`` from the noise and the parents: the flow run forward.

        Examples
        --------
        >>> import torch
        >>> mech = FlowImageMechanism((1, 4, 4), levels=2, steps=(1, 1), hidden=(4, 4), map_channels=(2, 2))
        >>> pa = {"digit": torch.tensor([1.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([99.0])}
        >>> mech.predict(torch.zeros(1, 15), pa)
        Traceback (most recent call last):
        ...
        workbench.errors.ShapeError: noise has shape (1, 15); this flow's noise is (n, 16) for 1 images.
        """
        condition = self.condition(parents)
        noise = torch.as_tensor(noise, dtype=torch.float32, device=self.device)
        if noise.shape != (len(condition), self.noise_dim):
            raise ShapeError(f"noise has shape {tuple(noise.shape)}; this flow's noise is (n, {self.noise_dim}) "
                             f"for {len(condition)} images.")
        if not bool(torch.isfinite(noise).all()):
            raise NonFiniteValueError("noise contains NaN or infinite values; abduct it from finite images.")
        x_dequantized = self._from_logit(self._decode(noise, condition))
        return ((BINS * x_dequantized - 0.5) / 255.0).clamp(0.0, 1.0)

    def sample(self, parents, generator=None, temperature: float = 1.0) -> torch.Tensor:
        """New images of these parents (noise drawn from ``N(0, temperature^2)``).

        Examples
        --------
        >>> import torch
        >>> mech = FlowImageMechanism((1, 4, 4), levels=2, steps=(1, 1), hidden=(4, 4), map_channels=(2, 2))
        >>> pa = {"digit": torch.tensor([1.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([99.0])}
        >>> mech.sample(pa, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([1, 1, 4, 4])
        """
        n = len(encode_parents(parents))
        noise = torch.randn(n, self.noise_dim, generator=generator) * float(temperature)
        with torch.no_grad():
            return self.predict(noise, parents)

    # -- likelihood and training ------------------------------------------------------------
    def bits_per_dim(self, images, parents, generator=None) -> torch.Tensor:
        """Negative log-likelihood of each image in bits per pixel, with a uniform dequantization
        of its 8-bit bin (the usual upper bound on the discrete likelihood; ``generator`` seeds it).

        Examples
        --------
        >>> import torch
        >>> mech = FlowImageMechanism((1, 4, 4), levels=2, steps=(1, 1), hidden=(4, 4), map_channels=(2, 2))
        >>> pa = {"digit": torch.tensor([1.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([99.0])}
        >>> bool(mech.bits_per_dim(torch.zeros(1, 1, 4, 4), pa, generator=torch.Generator().manual_seed(0)) > 0)
        True
        """
        images, condition = self._check(images, parents)
        jitter = torch.rand(images.shape, generator=generator, device=generator.device if generator is not None else None)
        y, log_det = self._to_logit((255.0 * images + jitter.to(images.device)) / BINS)
        noise, flow_log_det = self._encode(y, condition)
        log_p = standard_normal_log_prob(noise) + log_det + flow_log_det
        dims = images[0].numel()
        return (-log_p / dims + math.log(BINS)) / math.log(2.0)

    def loss(self, images, digit, thickness, intensity, generator=None):
        """Mean bits per dimension of a batch, for :func:`workbench.latents.train` on the tuple
        ``(images, digit, thickness, intensity)``."""
        bpd = self.bits_per_dim(images, {"digit": digit, "thickness": thickness, "intensity": intensity},
                                generator).mean()
        return bpd, {"loss": float(bpd.detach())}


def build_flow_mechanism(config: Mapping, device=None) -> FlowImageMechanism:
    """The flow a manifest's ``config`` describes (the builder :func:`load_pretrained` uses).

    Examples
    --------
    >>> mech = FlowImageMechanism((1, 8, 8), levels=1, steps=[1], hidden=[4], map_channels=[2])
    >>> build_flow_mechanism(mech.config).config == mech.config
    True
    """
    options = {k: v for k, v in dict(config).items() if k != "kind"}
    return FlowImageMechanism(**options, device=device)


register_builder(FlowImageMechanism.kind, build_flow_mechanism)
