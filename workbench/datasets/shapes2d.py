"""A flat, 2D analogue of 3D Shapes (Burgess & Kim 2018): hues, scale, shape, orientation.

3D Shapes shows an object in a room: floor hue, wall hue and object hue (10 each),
scale (8), shape (4) and orientation (15). Here the room is a picture: a wall (top
five-eighths) and a floor, each filled with its hue, and an object standing on the
floor, drawn in its hue at its scale, shape (``square``, ``cylinder``, ``ball``,
``pill``) and rotation. Same factor sizes: 10 x 10 x 10 x 8 x 4 x 15 = 480,000
64x64 RGB images, rendered on demand. All six factors are independent roots.

Examples
--------
>>> ds = Shapes2D()
>>> ds.factor_sizes, len(ds)
((10, 10, 10, 8, 4, 15), 480000)
>>> img, factors = ds[12345]
>>> tuple(img.shape), factors.tolist()
((3, 64, 64), [0, 2, 5, 5, 3, 0])
"""

from __future__ import annotations

import math

import torch

from workbench.datasets.base import FactorImageDataset
from workbench.datasets.raster import hue_to_rgb, local_window, pixel_grid, rotate
from workbench.datasets.scm import ImageSCM, Assignment

__all__ = ["Shapes2D", "OBJECTS"]

OBJECTS = ("square", "cylinder", "ball", "pill")
HORIZON = 0.375        # floor below this height (y up, [0, 1])
CENTRE = (0.5, 0.34)   # where the object stands


def _object_mask(shape, u, v):
    square = torch.maximum(u.abs(), v.abs()) <= 0.75
    cylinder = (u.abs() <= 0.5) & (v.abs() <= 0.95)
    ball = u * u + v * v <= 0.85 ** 2
    pill = torch.hypot(u, (v.abs() - 0.5).clamp_min(0.0)) <= 0.45
    shape = shape.view(-1, 1, 1)
    return torch.where(shape == 0, square, torch.where(shape == 1, cylinder,
                       torch.where(shape == 2, ball, pill)))


def render_shapes(values, size: int = 64) -> torch.Tensor:
    """RGB images ``(n, 3, size, size)`` of the room and object.

    The object never leaves a fixed square around ``CENTRE``, so only that window is
    tested pixel by pixel.

    Examples
    --------
    >>> s = Shapes2D()
    >>> render_shapes(s.factor_values_of(s.index_to_factors(0)), size=32).shape
    torch.Size([1, 3, 32, 32])
    """
    n = len(values["shape"])
    wall = hue_to_rgb(values["wall_hue"], 0.6, 0.95).view(n, 3, 1, 1)
    floor = hue_to_rgb(values["floor_hue"], 0.8, 0.7).view(n, 3, 1, 1)
    obj = hue_to_rgb(values["object_hue"], 1.0, 1.0).view(n, 3, 1, 1)
    xs, ys = pixel_grid(size, (0.0, 1.0), (0.0, 1.0))
    room = torch.where((ys[:, :, :1] < HORIZON).unsqueeze(1), floor, wall)
    room = room.expand(n, 3, size, size).contiguous()
    win = local_window(size, torch.tensor([CENTRE[0]]), torch.tensor([CENTRE[1]]), size // 2)
    rows, cols = slice(int(win.rows[0, 0]), int(win.rows[0, -1]) + 1), \
        slice(int(win.cols[0, 0]), int(win.cols[0, -1]) + 1)
    radius = (0.14 * values["scale"]).view(-1, 1, 1)
    u, v = rotate(win.xs - CENTRE[0], win.ys - CENTRE[1], values["orientation"])
    inside = _object_mask(values["shape"].round().long(), u / radius, v / radius).unsqueeze(1)
    room[:, :, rows, cols] = torch.where(inside, obj, room[:, :, rows, cols])
    return room


def _uniform_over(grid: torch.Tensor):
    return lambda n, rng: grid.numpy()[rng.integers(0, len(grid), n)]


class Shapes2D(FactorImageDataset):
    """2D analogue of 3D Shapes, 64x64 RGB.

    Factors: ``floor_hue``, ``wall_hue``, ``object_hue`` (10 hues k/10), ``scale``
    (8 values in [0.75, 1.25]), ``shape`` (0..3, see ``OBJECTS``), ``orientation``
    (15 angles in [-30, 30] degrees, in radians).

    Examples
    --------
    >>> s = Shapes2D()
    >>> s.num_factors, s.render(s.index_to_factors(0)).shape
    (6, torch.Size([1, 3, 64, 64]))
    """

    name = "shapes2d"
    factor_names = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    image_shape = (3, 64, 64)

    def __init__(self):
        hues = torch.arange(10, dtype=torch.float32) / 10
        self._factor_values = (hues, hues.clone(), hues.clone(), torch.linspace(0.75, 1.25, 8),
                               torch.arange(4, dtype=torch.float32),
                               torch.linspace(-math.pi / 6, math.pi / 6, 15))
        ranges = {**{h: {"low": 0.0, "high": 1.0} for h in ("floor_hue", "wall_hue", "object_hue")},
                  "scale": {"low": 0.75, "high": 1.25}, "shape": {"categories": 4}}
        self.scm = ImageSCM(
            [Assignment(name, (), lambda p, u: u, _uniform_over(grid),
                       equation=f"{name} := U_{name},  U_{name} ~ Uniform(grid)", **ranges.get(name, {}))
             for name, grid in zip(self.factor_names, self._factor_values)],
            render=render_shapes,
        )
