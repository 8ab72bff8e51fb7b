"""Pictures of latent spaces: image tiles, traversal grids, activity, mean vs sampled.

Tensors of images are ``(n, C, H, W)`` in ``[0, 1]`` (C = 1 or 3). :func:`tile` lays a
grid of them out as one array and :func:`to_png` encodes it (nearest-neighbour upscaled
so small sprites stay crisp), which is what the widgets show.

Examples
--------
>>> import torch
>>> tile(torch.zeros(2, 3, 1, 8, 8), pad=1).shape     # 2 rows x 3 columns of 8x8
(19, 28)
>>> to_png(torch.ones(1, 8, 8))[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io

import numpy as np
import torch

from workbench.plots.png import figure_to_png  # the one converter, importable here too

__all__ = ["tile", "to_png", "figure_to_png", "plot_traversal_grid", "plot_activity",
           "plot_mean_vs_sampled", "plot_reconstructions"]


def tile(images: torch.Tensor, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Lay out ``(rows, cols, C, H, W)`` (or ``(n, C, H, W)`` as one row) as one array.

    Returns ``(H', W')`` for one channel and ``(H', W', 3)`` for colour.

    Examples
    --------
    >>> tile(torch.zeros(2, 3, 1, 8, 8), pad=1).shape
    (19, 28)
    """
    images = torch.as_tensor(images).detach().cpu().float()
    if images.dim() == 4:
        images = images.unsqueeze(0)
    rows, cols, c, h, w = images.shape
    canvas = torch.full((c, rows * (h + pad) + pad, cols * (w + pad) + pad), pad_value)
    for r in range(rows):
        for k in range(cols):
            top, left = pad + r * (h + pad), pad + k * (w + pad)
            canvas[:, top:top + h, left:left + w] = images[r, k]
    array = canvas.clamp(0, 1).numpy()
    return array[0] if c == 1 else array.transpose(1, 2, 0)


def to_png(image, scale: int = 3) -> bytes:
    """PNG bytes of one image ``(C, H, W)`` / ``(H, W)`` tensor or a tiled array.

    Examples
    --------
    >>> to_png(torch.ones(1, 4, 4))[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
    array = np.clip(array, 0, 1)
    array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray((array * 255).round().astype(np.uint8)).save(buffer, format="png")
    return buffer.getvalue()


def _cmap(images) -> str | None:
    return "gray" if images.shape[-3] == 1 else None


def plot_traversal_grid(grid: torch.Tensor, values=None, dims=None, labels=None):
    """Figure of a traversal grid ``(D, V, C, H, W)``: one row per latent.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_traversal_grid(torch.rand(2, 3, 1, 8, 8))
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d, v = grid.shape[:2]
    dims = list(range(d)) if dims is None else list(dims)
    fig, ax = plt.subplots(figsize=(0.8 * v + 1.2, 0.8 * d + 0.4))
    ax.imshow(tile(grid), cmap=_cmap(grid), vmin=0, vmax=1)
    h = grid.shape[-2] + 1
    ax.set_yticks([1 + h * (i + 0.5) for i in range(d)])
    names = [f"z{k}" + (f" ({labels[k]})" if labels is not None else "") for k in dims]
    ax.set_yticklabels(names)
    w = grid.shape[-1] + 1
    if values is not None:
        ax.set_xticks([1 + w * (i + 0.5) for i in range(v)])
        ax.set_xticklabels([f"{round(float(x), 1) + 0.0:+.1f}" for x in values])  # never "-0.0"
    else:
        ax.set_xticks([])
    ax.set_xlabel("value of the traversed latent")
    return fig


def plot_activity(activity):
    """Bar chart of each latent's mean variance (log scale), active ones coloured.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.analysis import LatentActivity
    >>> activity = LatentActivity(torch.tensor([0.9, 1e-4, 0.3]), torch.ones(3), torch.zeros(3), 0.01)
    >>> fig = plot_activity(activity)
    >>> from matplotlib.colors import to_hex
    >>> [to_hex(bar.get_facecolor()) for bar in fig.axes[0].patches]   # the passive z1 is grey
    ['#1f77b4', '#d3d3d3', '#1f77b4']
    """
    import matplotlib.pyplot as plt

    values = activity.mean_variance.clamp_min(1e-6).numpy()
    colours = ["tab:blue" if a else "lightgray" for a in activity.active.tolist()]
    fig, ax = plt.subplots(figsize=(5, 2.6))
    ax.bar([f"z{k}" for k in range(len(values))], values, color=colours)
    ax.axhline(activity.threshold, color="k", ls="--", lw=1, label=f"threshold {activity.threshold}")
    ax.set_yscale("log")
    ax.set_ylabel("Var over x of mean(z|x)")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_mean_vs_sampled(means: torch.Tensor, samples: torch.Tensor, activity, dim: int):
    """Histograms of one latent's mean and sampled values over the data.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.analysis import LatentActivity
    >>> activity = LatentActivity(torch.tensor([0.9, 1e-4]), torch.ones(2), torch.zeros(2), 0.01)
    >>> g = torch.Generator().manual_seed(0)
    >>> means, samples = torch.zeros(100, 2), torch.randn(100, 2, generator=g)
    >>> fig = plot_mean_vs_sampled(means, samples, activity, dim=1)
    >>> fig.axes[0].get_title()   # a passive latent: every mean is 0, the samples are N(0, 1)
    'z1: passive'
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2.6))
    bins = np.linspace(-4, 4, 41)
    ax.hist(means[:, dim].numpy(), bins=bins, alpha=0.6, label="mean  mu(x)")
    ax.hist(samples[:, dim].numpy(), bins=bins, alpha=0.6, label="sampled  z ~ q(z|x)")
    ax.set_title(f"z{dim}: {activity.labels()[dim]}")
    ax.set_xlabel("value")
    ax.legend(fontsize=8)
    return fig


def plot_reconstructions(images: torch.Tensor, reconstructions: torch.Tensor):
    """Originals (top row) above their reconstructions (bottom row).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_reconstructions(torch.rand(3, 1, 8, 8), torch.rand(3, 1, 8, 8))
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    both = torch.stack([images.cpu(), reconstructions.cpu()])
    fig, ax = plt.subplots(figsize=(0.9 * images.shape[0], 2.0))
    ax.imshow(tile(both), cmap=_cmap(images), vmin=0, vmax=1)
    ax.set_axis_off()
    return fig
