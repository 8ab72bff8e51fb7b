"""Factor regressors: small CNNs that read a data set's factors off an image.

The measuring instrument for generated and edited images. Our data sets know the
factors of every image they render, so a regressor trained on rendered images (with
:func:`workbench.latents.train`, which passes it the factors) reads thickness, slant,
intensity, light angle, ... off any image, including a diffusion model's samples and
edits. Each factor is predicted on the scale of its grid, in the factor's own units.

Examples
--------
>>> import torch
>>> from workbench.datasets import Digits
>>> reg = FactorRegressor.for_dataset(Digits(), device="cpu")
>>> reg.factor_names, reg.predict(torch.zeros(2, 1, 32, 32)).shape
(['digit', 'thickness', 'slant', 'intensity'], torch.Size([2, 4]))
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import ShapeError
from workbench.runtime import device as runtime_device

__all__ = ["FactorRegressor"]


class FactorRegressor(nn.Module):
    """Images ``(n, C, S, S)`` in ``[0, 1]`` to factor values ``(n, k)`` in physical units.

    Parameters
    ----------
    image_shape : (C, S, S)
    factor_names : list of str
    factor_values : list of lists
        Each factor's grid values (the targets of training are looked up here).
    channels : int

    Raises
    ------
    ShapeError
        (when called) If the images do not have ``image_shape``.

    Examples
    --------
    >>> reg = FactorRegressor((1, 16, 16), ["size", "angle"], [[1.0, 2.0, 3.0], [0.0, 90.0]], channels=4)
    >>> reg.factor_range.tolist()
    [2.0, 90.0]
    >>> reg.predict(torch.zeros(5, 1, 16, 16)).shape
    torch.Size([5, 2])
    >>> loss, terms = reg.loss(torch.zeros(2, 1, 16, 16), [[0, 1], [2, 0]])    # grid indices
    >>> terms["loss"] == loss.item()
    True
    >>> reg.predict(torch.zeros(5, 3, 16, 16))
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: Expected images (n, 1, 16, 16), got (5, 3, 16, 16).
    """

    kind = "factor_regressor"

    def __init__(self, image_shape, factor_names, factor_values, channels: int = 32, device=None):
        super().__init__()
        self.image_shape = tuple(int(v) for v in image_shape)
        self.factor_names = [str(n) for n in factor_names]
        self.factor_values = [[float(v) for v in values] for values in factor_values]
        self.channels, self.kl_scale = int(channels), 1.0
        c_in, side, ch = self.image_shape[0], self.image_shape[-1], self.channels
        self.net = nn.Sequential(
            nn.Conv2d(c_in, ch, 3, 2, 1), nn.SiLU(), nn.Conv2d(ch, ch, 3, 2, 1), nn.SiLU(),
            nn.Conv2d(ch, 2 * ch, 3, 2, 1), nn.SiLU(), nn.Flatten(),
            nn.Linear(2 * ch * (side // 8) ** 2, 128), nn.SiLU(), nn.Linear(128, len(self.factor_names)))
        lows = torch.tensor([min(v) for v in self.factor_values])
        highs = torch.tensor([max(v) for v in self.factor_values])
        self.register_buffer("low", lows)
        self.register_buffer("span", (highs - lows).clamp(min=1e-12))
        self.to(runtime_device(device))

    @classmethod
    def for_dataset(cls, data, channels: int = 32, device=None) -> "FactorRegressor":
        """A regressor for every factor of a :class:`~workbench.datasets.FactorImageDataset`."""
        return cls(data.image_shape, data.factor_names,
                   [data.factor_values(k).tolist() for k in range(data.num_factors)], channels, device)

    @property
    def config(self) -> dict:
        """The constructor arguments (and ``kind``), as saved beside the weights."""
        return {"kind": self.kind, "image_shape": list(self.image_shape), "factor_names": self.factor_names,
                "factor_values": self.factor_values, "channels": self.channels}

    @property
    def device(self) -> torch.device:
        """The device the weights are on."""
        return next(self.parameters()).device

    @property
    def factor_range(self) -> torch.Tensor:
        """``max - min`` of each factor's grid (the unit of "a tenth of its range")."""
        return self.span.cpu()

    def _check(self, x):
        if not torch.is_tensor(x) or x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ShapeError(f"Expected images (n, {', '.join(map(str, self.image_shape))}), "
                             f"got {tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}.")
        return x.to(self.device, torch.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Factor values scaled to ``[0, 1]`` over each grid."""
        return self.net(self._check(x) * 2 - 1)

    def measure(self, x: torch.Tensor) -> torch.Tensor:
        """Factor values in physical units, ``(n, k)``, differentiable (for edit Jacobians)."""
        return self(x) * self.span + self.low

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Factor values in physical units, ``(n, k)``, on the CPU."""
        parts = [self.measure(x[i:i + batch]) for i in range(0, len(x), batch)]
        return torch.cat(parts).cpu() if parts else torch.zeros(0, len(self.factor_names))

    def loss(self, x, factors, generator=None):
        """Mean squared error on the ``[0, 1]``-scaled factors of grid indices ``factors``."""
        index = torch.as_tensor(factors, dtype=torch.long).cpu()
        target = torch.stack([torch.tensor(v)[index[:, k]] for k, v in enumerate(self.factor_values)], 1)
        target = ((target.to(self.device) - self.low) / self.span).float()
        loss = (self(x) - target).pow(2).mean()
        return loss, {"loss": float(loss.detach())}
