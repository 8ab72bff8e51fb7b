"""Figures for normalizing flows: one stage of a 2-D flow, points and warped grid.

Examples
--------
>>> from workbench.latents.flows.layers import flow_stages, two_moons_flow
>>> stages = flow_stages(two_moons_flow(steps=0), n_points=100, grid_lines=5, points_per_line=10)
>>> fig = plot_flow_stage(stages, 1)
>>> fig.axes[0].get_aspect()
1.0
"""

from __future__ import annotations

__all__ = ["plot_flow_stage"]


def plot_flow_stage(stages, k: int, *, size: float = 4.2):
    """Stage ``k`` of :class:`~workbench.latents.flows.FlowStages`: the base samples where
    the layers so far have moved them, coloured by their cumulative log|det|, over the
    grid warped the same way. Equal axis scales, so shapes are not distorted; one colour
    scale, symmetric about 0, for all stages, so a colour means the same log|det| in each.

    Examples
    --------
    >>> from workbench.latents.flows.layers import flow_stages, two_moons_flow
    >>> flow = two_moons_flow(steps=0, transforms=1)
    >>> stages = flow_stages(flow, n_points=50, grid_lines=3, points_per_line=5)
    >>> fig = plot_flow_stage(stages, len(stages) - 1, size=3.0)
    >>> fig.axes[0].get_title(), fig.get_size_inches().tolist()
    ('stage 2: data units (standardisation undone)', [3.0, 3.0])
    >>> limits = [plot_flow_stage(stages, j).axes[0].collections[-1].get_clim() for j in (0, 2)]
    >>> limits[0] == limits[1] and limits[0][0] == -limits[0][1]
    True
    """
    import matplotlib.pyplot as plt
    import torch

    fig, ax = plt.subplots(figsize=(size, size))
    for line in stages.grids[k]:
        ax.plot(line[:, 0], line[:, 1], color="0.75", lw=0.7, zorder=1)
    pts, ld = stages.points[k], stages.log_det[k]
    # One colour scale for every stage, centred on 0, so colours compare from stage to stage.
    reach = max(max(float(d.abs().max()) for d in stages.log_det), 1e-3)
    art = ax.scatter(pts[:, 0], pts[:, 1], c=ld, s=5, cmap="coolwarm", zorder=2,
                     vmin=-reach, vmax=reach)
    fig.colorbar(art, ax=ax, fraction=0.046, pad=0.04, label="log |det dz_k / dz_0|")
    q = torch.quantile(pts, torch.tensor([0.005, 0.995]), dim=0)   # a square around 99% of points
    centre, half = (q[0] + q[1]) / 2, 0.6 * float((q[1] - q[0]).max())
    ax.set_xlim(float(centre[0]) - half, float(centre[0]) + half)
    ax.set_ylim(float(centre[1]) - half, float(centre[1]) + half)
    ax.set_aspect("equal")
    ax.set_title(f"stage {k}: {stages.names[k]}", fontsize=10)
    return fig
