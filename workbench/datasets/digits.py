"""Morpho-MNIST-style digits drawn by our own code: thickness causes intensity.

MNIST cannot be shipped, so the ten digits are polylines (lines and elliptic arcs)
written below. An image is the stroke at a given thickness, slant and intensity,
following the causal story of Morpho-MNIST (Castro et al. 2019; Pawlowski et al. 2020):

.. math::

    t := 0.5 + U_t,\\; U_t \\sim \\Gamma(10, \\text{rate } 5), \\qquad
    i := 64 + 191\\,\\sigma(2(t - 2.5) + U_i),\\; U_i \\sim N(0, 0.5^2),

while the digit class and the slant (a shear, ``x -> x + slant * y``) are independent
roots. Thickness is in pixels and intensity in grey levels (0-255).

Drawing is fast because each digit's distance field is computed once; a batch is then
one ``grid_sample`` of those fields at sheared coordinates, and a pixel's brightness
is ``intensity/255 * clamp(t/2 - distance + 1/2, 0, 1)`` (a one-pixel soft edge).

Examples
--------
>>> ds = Digits()
>>> ds
Digits(digit=10 x thickness=6 x slant=7 x intensity=6; 2520 images (1, 32, 32))
>>> ds.scm.equations().splitlines()[2]
'thickness := 0.5 + U_t,  U_t ~ Gamma(10, rate 5)'
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from workbench.datasets.base import FactorImageDataset
from workbench.datasets.raster import pixel_grid, segment_distance
from workbench.datasets.scm import ImageSCM, Assignment

__all__ = ["Digits", "digit_strokes", "intensity_mechanism"]

PIXELS_PER_UNIT = 20.0   # a digit is 1.2 units tall, so 24 pixels at 32x32
FIELD_SIZE = 96          # resolution of the precomputed distance fields, over [-1, 1]^2


def _arc(cx, cy, rx, ry, start, stop, k):
    angles = np.radians(np.linspace(start, stop, k + 1))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


def digit_strokes() -> list[list[list[tuple[float, float]]]]:
    """The ten digits as strokes (polylines of ``(x, y)`` points, y up, units).

    Examples
    --------
    >>> strokes = digit_strokes()
    >>> len(strokes), all(len(s) > 0 for s in strokes)
    (10, True)
    """
    two = _arc(0, 0.28, 0.3, 0.3, 160, -30, 8)
    five = _arc(0, -0.25, 0.32, 0.33, 125, -150, 9)
    return [
        [_arc(0, 0, 0.33, 0.55, 0, 360, 16)],
        [[(-0.15, 0.4), (0.05, 0.6), (0.05, -0.6)]],
        [two + [(-0.32, -0.6), (0.34, -0.6)]],
        [_arc(0, 0.3, 0.28, 0.28, 150, -90, 8), _arc(0, -0.3, 0.32, 0.3, 90, -150, 8)],
        [[(0.15, -0.6), (0.15, 0.6), (-0.35, -0.2), (0.38, -0.2)]],
        [[(0.32, 0.6), (-0.22, 0.6), (-0.27, 0.08)] + five],
        [[(0.22, 0.6), (-0.27, -0.2)], _arc(0, -0.3, 0.3, 0.3, 0, 360, 12)],
        [[(-0.35, 0.6), (0.35, 0.6), (-0.08, -0.6)]],
        [_arc(0, 0.32, 0.26, 0.26, 0, 360, 12), _arc(0, -0.28, 0.32, 0.32, 0, 360, 12)],
        [_arc(0, 0.3, 0.3, 0.3, 0, 360, 12), [(0.3, 0.3), (0.2, -0.6)]],
    ]


def _distance_fields() -> torch.Tensor:
    """Distance (units) from each point of a FIELD_SIZE grid to each digit: ``(10, 1, R, R)``."""
    xs, ys = pixel_grid(FIELD_SIZE, (-1.0, 1.0), (-1.0, 1.0))
    px, py = xs.reshape(1, 1, -1), ys.reshape(1, 1, -1)
    fields = []
    for strokes in digit_strokes():
        seg = torch.tensor([(p, q) for line in strokes for p, q in zip(line[:-1], line[1:])],
                           dtype=torch.float32)
        d = segment_distance(px, py, seg[None, :, 0], seg[None, :, 1]).amin(dim=1)
        fields.append(d.view(1, FIELD_SIZE, FIELD_SIZE))
    return torch.stack(fields)


def intensity_mechanism(thickness, noise):
    """Morpho-MNIST's intensity in grey levels: ``64 + 191 sigmoid(2(t - 2.5) + U_i)``.

    Examples
    --------
    >>> intensity_mechanism(torch.tensor([2.5]), torch.tensor([0.0]))
    tensor([159.5000])
    """
    return 64.0 + 191.0 * torch.sigmoid(2.0 * (thickness - 2.5) + noise)


class Digits(FactorImageDataset):
    """Procedural digits, 32x32 greyscale, with thickness -> intensity.

    Grid: ``digit`` 0..9, ``thickness`` 6 values in [1.5, 4] pixels, ``slant`` 7 values
    in [-0.3, 0.3], ``intensity`` 6 values in [64, 255]. A grid point sets all four
    (``do`` on intensity too), so the grid's factors are independent; the SCM's
    observational samples are not.

    Examples
    --------
    >>> d = Digits()
    >>> d.factor_names, d.render(d.index_to_factors(0)).shape
    (('digit', 'thickness', 'slant', 'intensity'), torch.Size([1, 1, 32, 32]))
    """

    name = "digits"
    factor_names = ("digit", "thickness", "slant", "intensity")
    image_shape = (1, 32, 32)

    def __init__(self):
        self._factor_values = (torch.arange(10, dtype=torch.float32), torch.linspace(1.5, 4.0, 6),
                               torch.linspace(-0.3, 0.3, 7), torch.linspace(64.0, 255.0, 6))
        self._fields = _distance_fields()
        self.scm = ImageSCM([
            Assignment("digit", (), lambda p, u: u, lambda n, rng: rng.integers(0, 10, n),
                      equation="digit := U_d ~ Uniform{0..9}", categories=10),
            Assignment("slant", (), lambda p, u: u, lambda n, rng: rng.uniform(-0.3, 0.3, n),
                      equation="slant := U_s ~ Uniform(-0.3, 0.3)", low=-0.3, high=0.3),
            Assignment("thickness", (), lambda p, u: 0.5 + u,
                      lambda n, rng: rng.gamma(10.0, 1 / 5.0, n),
                      equation="thickness := 0.5 + U_t,  U_t ~ Gamma(10, rate 5)", low=0.5),
            Assignment("intensity", ("thickness",),
                      lambda p, u: intensity_mechanism(p["thickness"], u),
                      lambda n, rng: rng.normal(0.0, 0.5, n),
                      equation="intensity := 64 + 191 sigmoid(2 (thickness - 2.5) + U_i),  U_i ~ N(0, 0.5^2)",
                      low=0.0, high=255.0),
        ], render=self._render)

    def _render(self, values) -> torch.Tensor:
        n, size = len(values["digit"]), self.image_shape[-1]
        half = size / 2 / PIXELS_PER_UNIT            # output half-width in units
        slant = values["slant"].to(torch.float32)
        theta = torch.zeros((n, 2, 3))
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 1] = half, half * slant, half
        grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
        fields = self._fields[values["digit"].round().long().clamp(0, 9)]
        distance = F.grid_sample(fields, grid, align_corners=False, padding_mode="border")
        distance = distance * PIXELS_PER_UNIT        # units -> output pixels
        t = values["thickness"].view(-1, 1, 1, 1)
        ink = (t / 2 - distance + 0.5).clamp(0.0, 1.0)
        return ink * (values["intensity"].view(-1, 1, 1, 1) / 255.0)
