"""The pendulum of CausalVAE (Yang et al. 2021): light and pendulum cause a shadow.

Four causal variables. The pendulum angle ``theta`` and the light angle ``phi`` are
causes; the shadow's length and position are their effects, projected onto the ground
by light rays of angle ``phi`` from a rod of length 9.5 hanging from ``(10, 11)``:

.. math::

    s = 9.5\\,(\\sin\\theta + \\cos\\theta\\cot\\phi), \\qquad
    \\text{shadow\\_length} := \\max(3, |s| + U_l), \\qquad
    \\text{shadow\\_position} := 10 - 11\\cot\\phi + s/2 + U_p,

with ``U_l, U_p ~ N(0, noise_std^2)`` (``noise_std = 0`` gives CausalVAE's
deterministic shadows). The noise enters before the clamp, so no shadow is ever
shorter than 3. The factor grid is CausalVAE's: ``theta = i pi / 200`` for ``i`` in
-40..43 and ``phi = j pi / 200`` for ``j`` in 60..147 except ``j = 100`` (CausalVAE's
generator skips the light straight overhead, ``phi = pi / 2``), so 84 x 87 = 7,308
images; grid images use the noise-free shadow.

The picture (world x in [-1, 21], y in [-2.5, 19.5], y up): a sun at
``(10 + 7 cos phi, 11 + 7 sin phi)``, the rod and red ball, and the grey shadow in a
ground strip y in [-2, -0.6]; white background, RGB.

Examples
--------
>>> ds = Pendulum()
>>> ds.factor_names, ds.factor_sizes
(('theta', 'phi'), (84, 87))
>>> len(ds)
7308
>>> ds.scm.variables
('theta', 'phi', 'shadow_length', 'shadow_position')
>>> sorted(ds.scm.graph.predecessors("shadow_length"))
['phi', 'theta']
"""

from __future__ import annotations

import math

import torch

from workbench.datasets.base import FactorImageDataset
from workbench.datasets.raster import pixel_grid
from workbench.datasets.scm import ImageSCM, Assignment

__all__ = ["Pendulum", "shadow_equations", "WORLD_X", "WORLD_Y", "SHADOW_STRIP"]

WORLD_X = (-1.0, 21.0)
WORLD_Y = (-2.5, 19.5)
SHADOW_STRIP = (-2.0, -0.6)
PIVOT = (10.0, 11.0)
ROD = 9.5
SUN, ROD_COLOUR, BALL, SHADOW = (1.0, 0.75, 0.1), (0.25, 0.25, 0.25), (0.85, 0.1, 0.1), (0.4, 0.4, 0.4)


def shadow_equations(theta, phi, length_noise=0.0):
    """Shadow ``(length, position)`` for angles in radians (CausalVAE).

    ``length_noise`` is ``U_l``, added to ``|s|`` before the ``max(3, .)`` clamp; the
    position's noise is additive and left to the caller.

    Examples
    --------
    >>> import math
    >>> length, position = shadow_equations(torch.tensor([0.0]), torch.tensor([math.pi / 4]))
    >>> round(float(length), 2), round(float(position), 2)
    (9.5, 3.75)
    """
    cot = torch.cos(phi) / torch.sin(phi)
    s = ROD * (torch.sin(theta) + torch.cos(theta) * cot)
    return torch.clamp(s.abs() + length_noise, min=3.0), 10.0 - 11.0 * cot + s / 2


def render_pendulum(values, size: int = 64) -> torch.Tensor:
    """RGB images ``(n, 3, size, size)`` from the four variables' values.

    Each pixel gets a label (0 sky, 1 sun, 2 rod, 3 ball, 4 shadow; later ones on top)
    and the label picks its colour from a palette. Coordinates stay separable (x along
    a row, y down a column) until the last step of each test, which keeps it fast.

    Examples
    --------
    >>> p = Pendulum(size=32)
    >>> render_pendulum(p.scm.sample(2, generator=0)[1], size=32).shape
    torch.Size([2, 3, 32, 32])
    """
    theta, phi = values["theta"].view(-1, 1, 1), values["phi"].view(-1, 1, 1)
    xs, ys = pixel_grid(size, WORLD_X, WORLD_Y)
    xs, ys = xs[:, :1, :], ys[:, :, :1]                   # (1, 1, W) and (1, H, 1)
    label = torch.zeros((theta.shape[0], size, size), dtype=torch.uint8)

    def disc(cx, cy, radius):
        return ((xs - cx) ** 2 + (ys - cy) ** 2) <= radius ** 2

    label[disc(PIVOT[0] + 7 * torch.cos(phi), PIVOT[1] + 7 * torch.sin(phi), 1.2)] = 1
    along = (xs - PIVOT[0]) * torch.sin(theta) - (ys - PIVOT[1]) * torch.cos(theta)
    across = (xs - PIVOT[0]) * torch.cos(theta) + (ys - PIVOT[1]) * torch.sin(theta)
    label[(along >= 0) & (along <= ROD) & (across.abs() <= 0.25)] = 2
    label[disc(PIVOT[0] + ROD * torch.sin(theta), PIVOT[1] - ROD * torch.cos(theta), 1.1)] = 3
    length = values["shadow_length"].view(-1, 1, 1)
    centre = values["shadow_position"].view(-1, 1, 1)
    strip = (ys >= SHADOW_STRIP[0]) & (ys <= SHADOW_STRIP[1])
    label[strip & ((xs - centre).abs() <= length / 2)] = 4
    palette = torch.tensor([(1.0, 1.0, 1.0), SUN, ROD_COLOUR, BALL, SHADOW])
    index = label.long()
    return torch.stack([palette[:, c][index] for c in range(3)], dim=1)


class Pendulum(FactorImageDataset):
    """CausalVAE's pendulum, 64x64 RGB; factors ``theta`` and ``phi`` (radians).

    Parameters
    ----------
    noise_std : float
        Standard deviation of the additive noise on both shadow variables in the SCM
        (world units; one pixel is 22/64 = 0.34). Grid images are always noise-free.
    size : int
        Image side in pixels.

    Examples
    --------
    >>> p = Pendulum(size=32)
    >>> p.factor_names, p.sample(2, generator=0)[0].shape
    (('theta', 'phi'), torch.Size([2, 3, 32, 32]))
    """

    name = "pendulum"
    factor_names = ("theta", "phi")

    def __init__(self, noise_std: float = 0.5, size: int = 64):
        self.image_shape = (3, size, size)
        self.noise_std = float(noise_std)
        light_steps = torch.tensor([j for j in range(60, 148) if j != 100], dtype=torch.float32)
        self._factor_values = (torch.arange(-40, 44, dtype=torch.float32) * math.pi / 200,
                               light_steps * math.pi / 200)
        theta_grid, phi_grid = (g.numpy() for g in self._factor_values)

        def gaussian(n, rng):
            return rng.normal(0.0, self.noise_std, n) if self.noise_std > 0 else [0.0] * n

        self.scm = ImageSCM([
            Assignment("theta", (), lambda p, u: u,
                      lambda n, rng: theta_grid[rng.integers(0, len(theta_grid), n)],
                      equation="theta := U_theta ~ Uniform(grid)",
                      low=float(theta_grid[0]), high=float(theta_grid[-1])),
            Assignment("phi", (), lambda p, u: u,
                      lambda n, rng: phi_grid[rng.integers(0, len(phi_grid), n)],
                      equation="phi := U_phi ~ Uniform(grid)",
                      low=float(phi_grid[0]), high=float(phi_grid[-1])),
            Assignment("shadow_length", ("theta", "phi"),
                      lambda p, u: shadow_equations(p["theta"], p["phi"], u)[0], gaussian,
                      equation="shadow_length := max(3, 9.5|sin theta + cos theta cot phi| + U_l)",
                      low=0.0),
            Assignment("shadow_position", ("theta", "phi"),
                      lambda p, u: shadow_equations(p["theta"], p["phi"])[1] + u, gaussian,
                      equation="shadow_position := 10 - 11 cot phi + s/2 + U_p"),
        ], render=lambda values: render_pendulum(values, size))
