"""dSprites-like sprites: a white shape on black, five independent factors.

The grid follows dSprites (Matthey et al. 2017): 3 shapes (square, ellipse, heart) x
6 scales x 40 orientations x 32 x 32 positions = 737,280 binary 64x64 images. At
3 GB as bytes it is never stored: a batch is drawn by testing every pixel of every
image against the shape's implicit inequality in the sprite's own rotated, scaled
frame, all at once.

The SCM has five independent root variables (``v := U_v``, each uniform on its grid),
so an intervention on one factor leaves the others' distribution alone.

Examples
--------
>>> ds = Sprites()
>>> ds
Sprites(shape=3 x scale=6 x orientation=40 x pos_x=32 x pos_y=32; 737280 images (1, 64, 64))
>>> images, factors = ds.sample(8, generator=0)
>>> tuple(images.shape), sorted(images.unique().tolist())
((8, 1, 64, 64), [0.0, 1.0])
"""

from __future__ import annotations

import math

import torch

from workbench.datasets.base import FactorImageDataset
from workbench.datasets.raster import local_window, rotate
from workbench.datasets.scm import ImageSCM, Assignment

__all__ = ["Sprites", "SHAPES"]

SHAPES = ("square", "ellipse", "heart")


def _inside(shape, u, v):
    """Inside tests in the sprite frame (unit half-size), chosen per image by ``shape``."""
    square = torch.maximum(u.abs(), v.abs()) <= 0.8
    ellipse = u * u + (v / 0.5) ** 2 <= 1.0
    hu, hv = u / 0.95, v / 0.95 + 0.15        # heart curve: (x^2 + y^2 - 1)^3 <= x^2 y^3
    heart = (hu * hu + hv * hv - 1) ** 3 - hu * hu * hv ** 3 <= 0
    shape = shape.view(-1, 1, 1)
    return torch.where(shape == 0, square, torch.where(shape == 1, ellipse, heart))


def render_sprites(values, size: int = 64) -> torch.Tensor:
    """Binary images ``(n, 1, size, size)`` from factor values (see :class:`Sprites`).

    Examples
    --------
    >>> s = Sprites()
    >>> render_sprites(s.factor_values_of(s.index_to_factors(0))).shape
    torch.Size([1, 1, 64, 64])
    """
    cx, cy = 0.2 + 0.6 * values["pos_x"], 0.2 + 0.6 * values["pos_y"]
    win = local_window(size, cx, cy, window=(size * 3) // 8)   # holds the largest sprite
    radius = (0.13 * values["scale"]).view(-1, 1, 1)
    u, v = rotate(win.xs - cx.view(-1, 1, 1), win.ys - cy.view(-1, 1, 1), values["orientation"])
    inside = _inside(values["shape"].round().long(), u / radius, v / radius)
    return win.place(inside.to(torch.float32)).unsqueeze(1)


def _uniform_over(grid: torch.Tensor):
    return lambda n, rng: grid.numpy()[rng.integers(0, len(grid), n)]


class Sprites(FactorImageDataset):
    """dSprites-like binary sprites, 64x64, rendered on demand.

    Factors (grid values): ``shape`` 0..2 (square, ellipse, heart); ``scale`` 6 values
    in [0.5, 1]; ``orientation`` 40 angles 2 pi k / 40; ``pos_x``, ``pos_y`` 32 values in
    [0, 1] (``pos_y = 1`` is the top).

    Examples
    --------
    >>> s = Sprites()
    >>> s.factor_sizes, len(s)
    ((3, 6, 40, 32, 32), 737280)
    """

    name = "sprites"
    factor_names = ("shape", "scale", "orientation", "pos_x", "pos_y")
    image_shape = (1, 64, 64)

    def __init__(self):
        self._factor_values = (
            torch.arange(3, dtype=torch.float32),
            torch.linspace(0.5, 1.0, 6),
            torch.arange(40, dtype=torch.float32) * (2 * math.pi / 40),
            torch.linspace(0.0, 1.0, 32),
            torch.linspace(0.0, 1.0, 32),
        )
        ranges = {"shape": {"categories": len(SHAPES)}, "scale": {"low": 0.5, "high": 1.0},
                  "pos_x": {"low": 0.0, "high": 1.0}, "pos_y": {"low": 0.0, "high": 1.0}}
        self.scm = ImageSCM(
            [Assignment(name, (), lambda p, u: u, _uniform_over(grid),
                       equation=f"{name} := U_{name},  U_{name} ~ Uniform(grid)", **ranges.get(name, {}))
             for name, grid in zip(self.factor_names, self._factor_values)],
            render=render_sprites,
        )
