"""A 2-D flow taken apart layer by layer: the base density pushed forward, one layer at a time.

A flow generates ``x = T^{-1}(z)`` by running its layers backwards from the base,
``z = z_0 -> z_1 -> ... -> x``; each step moves points (and warps space) and multiplies
the density by ``|det dz_k / dz_{k+1}|``. :func:`flow_stages` records every stage for a
cloud of base samples and a grid of lines: their positions and each point's cumulative
``log |det dz_k / dz_0|``, whose last value is ``-log |det dT/dx|`` at the point, so
``log q(x) = log N(z_0) - log |det dx/dz_0|``.

Examples
--------
>>> import torch
>>> flow = two_moons_flow(steps=0)
>>> stages = flow_stages(flow, n_points=50, grid_lines=5, points_per_line=20)
>>> len(stages.names) == flow.transforms + 2, stages.points[0].shape, stages.grids[0].shape
(True, torch.Size([50, 2]), torch.Size([10, 20, 2]))
>>> x = stages.points[-1]
>>> lp = torch.distributions.Normal(0, 1).log_prob(stages.points[0]).sum(-1) - stages.log_det[-1]
>>> bool(torch.allclose(lp, flow.log_prob(x), atol=1e-4))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.distributions.transforms import AffineTransform

from workbench.datasets._random import as_numpy_rng, check_count
from workbench.latents.flows.conditional import ConditionalFlow

__all__ = ["two_moons", "two_moons_flow", "FlowStages", "flow_stages"]


def two_moons(n: int, noise: float = 0.08, seed: int = 0) -> torch.Tensor:
    """``n`` points of the two-moons toy density, ``(n, 2)``.

    Examples
    --------
    >>> x = two_moons(500, seed=0)
    >>> x.shape, bool(x[:, 0].min() < 0 < 1 < x[:, 0].max())   # two arcs spanning about x in [-1, 2]
    (torch.Size([500, 2]), True)
    >>> bool((two_moons(3, seed=1) == two_moons(3, seed=1)).all())
    True
    """
    n = check_count(n, "n")
    rng = as_numpy_rng(seed)
    angle = rng.uniform(0, math.pi, n)
    upper = rng.integers(0, 2, n).astype(bool)
    x = torch.tensor([[math.cos(a), math.sin(a)] if up else [1 - math.cos(a), 0.5 - math.sin(a)]
                      for a, up in zip(angle, upper)], dtype=torch.float32)
    return x + noise * torch.as_tensor(rng.normal(size=(n, 2)), dtype=torch.float32)


def two_moons_flow(*, steps: int = 400, transforms: int = 3, flow: str = "nsf", seed: int = 0,
                   progress: bool = False) -> ConditionalFlow:
    """A small 2-D flow fitted to 2,000 two-moons points (a few seconds on one core).

    Examples
    --------
    >>> flow = two_moons_flow(steps=10, transforms=1)
    >>> flow.features, flow.context, flow.sample(n=4).shape
    (2, 0, torch.Size([4, 2]))
    """
    with torch.random.fork_rng(devices=[]):   # initial weights from the seed, global state untouched
        torch.manual_seed(seed)
        net = ConditionalFlow(2, 0, flow=flow, transforms=transforms, hidden=(32, 32), device="cpu")
    data = two_moons(2000, seed=seed)
    net.standardize(data)
    if steps:
        from workbench.latents.training import train
        train(net, data, steps=steps, batch_size=256, lr=5e-3, seed=seed, progress=progress)
    return net.eval()


@dataclass
class FlowStages:
    """Every stage from the base (index 0) to the data (last index).

    ``points[k]`` and ``grids[k]`` (``(lines, points_per_line, 2)``) are positions at
    stage ``k``; ``log_det[k]`` is each point's cumulative ``log |det dz_k / dz_0|``.

    Examples
    --------
    >>> stages = flow_stages(two_moons_flow(steps=0, transforms=1), n_points=8, grid_lines=3, points_per_line=4)
    >>> len(stages), stages.names[0], stages.names[-1]
    (3, 'base N(0, I)', 'data units (standardisation undone)')
    >>> float(stages.log_det[0].abs().max())   # the base stage has moved nothing yet
    0.0
    """

    names: list
    points: list
    grids: list
    log_det: list

    def __len__(self) -> int:
        return len(self.names)


def _grid(lines: int, per_line: int, limit: float) -> torch.Tensor:
    ticks, along = torch.linspace(-limit, limit, lines), torch.linspace(-limit, limit, per_line)
    horizontal = torch.stack([along.expand(lines, -1), ticks[:, None].expand(-1, per_line)], -1)
    return torch.cat([horizontal, horizontal.flip(-1)])


@torch.no_grad()
def flow_stages(flow: ConditionalFlow, *, n_points: int = 1000, grid_lines: int = 11,
                points_per_line: int = 60, limit: float = 3.0, seed: int = 0) -> FlowStages:
    """Push base samples and a grid through an unconditional 2-D flow, layer by layer.

    Examples
    --------
    >>> stages = flow_stages(two_moons_flow(steps=0, transforms=2), n_points=8, grid_lines=3, points_per_line=4)
    >>> stages.names
    ['base N(0, I)', 'layer 2 inverted', 'layer 1 inverted', 'data units (standardisation undone)']
    >>> stages.points[-1].shape, stages.grids[-1].shape   # 3 horizontal + 3 vertical lines of 4 points
    (torch.Size([8, 2]), torch.Size([6, 4, 2]))
    """
    if flow.features != 2 or flow.context != 0:
        from workbench.errors import ShapeError
        raise ShapeError("flow_stages draws unconditional 2-D flows (features=2, context=0).")
    n_points = check_count(n_points, "n_points")
    layers = list(flow.net(None).transform.transforms)   # x -> z order, after standardising
    unscale = AffineTransform(flow.x_loc, flow.x_scale, event_dim=1)
    steps = [(f"layer {k} inverted", layer.inv) for k, layer in reversed(list(enumerate(layers, 1)))]
    steps.append(("data units (standardisation undone)", unscale))
    z = torch.randn(n_points, 2, generator=torch.Generator().manual_seed(seed))
    grid = _grid(grid_lines, points_per_line, limit)
    names, points, grids, log_det = ["base N(0, I)"], [z], [grid], [torch.zeros(n_points)]
    for name, t in steps:
        z, ladj = t.call_and_ladj(z)
        grid = t(grid)
        names.append(name)
        points.append(z)
        grids.append(grid)
        log_det.append(log_det[-1] + ladj)
    return FlowStages(names, points, grids, log_det)
