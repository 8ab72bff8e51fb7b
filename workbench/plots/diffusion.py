"""Pictures for diffusion models: noise shown as an image, inversion error against steps.

Examples
--------
>>> import torch
>>> noise_image(torch.tensor([[[[-3.0, 0.0, 3.0]]]])).flatten().tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

import torch

__all__ = ["noise_image", "abs_error_image", "plot_image_rows", "plot_inversion_errors", "plot_factor_histograms"]


def noise_image(x: torch.Tensor, limit: float = 3.0) -> torch.Tensor:
    """Model-space noise (about N(0, 1)) mapped to ``[0, 1]``: ``-limit`` black, 0 grey, ``+limit`` white.

    Examples
    --------
    Values beyond ``limit`` are clipped:

    >>> noise_image(torch.tensor([-10.0, -1.0, 0.0, 1.0]), limit=2.0).tolist()
    [0.0, 0.25, 0.5, 0.75]
    """
    return ((x.detach().cpu().clamp(-limit, limit) / limit) + 1) / 2


def abs_error_image(a: torch.Tensor, b: torch.Tensor, gain: float = 5.0) -> torch.Tensor:
    """``gain * |a - b|`` clamped to ``[0, 1]`` (white = large error).

    Examples
    --------
    >>> abs_error_image(torch.tensor([0.5, 0.5, 0.5]), torch.tensor([0.5, 0.4, 0.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return (gain * (a.detach().cpu() - b.detach().cpu()).abs()).clamp(0, 1)


def plot_image_rows(rows: dict, column_labels=None, size: float = 0.6):
    """One picture of labelled image rows: ``{label: (n, C, H, W) images in [0, 1]}``.

    Shorter rows are padded with white; ``column_labels`` go on top.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_image_rows({"original": torch.rand(3, 1, 8, 8), "edited": torch.rand(2, 1, 8, 8)},
    ...                       column_labels=["a", "b", "c"])
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['original', 'edited']
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['a', 'b', 'c']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from workbench.plots.latents import tile

    rows = {k: torch.as_tensor(v).detach().cpu().float() for k, v in rows.items()}
    cols = max(len(v) for v in rows.values())
    shape = next(iter(rows.values())).shape[1:]
    grid = torch.ones(len(rows), cols, *shape)
    for r, images in enumerate(rows.values()):
        grid[r, :len(images)] = images
    picture = tile(grid)
    fig, ax = plt.subplots(figsize=(size * cols + 1.2, size * len(rows) + 0.4))
    ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    cell_h, cell_w = picture.shape[0] / len(rows), picture.shape[1] / cols
    ax.set_yticks([cell_h * (r + 0.5) for r in range(len(rows))])
    ax.set_yticklabels([str(k) for k in rows], fontsize=9)
    if column_labels is None:
        ax.set_xticks([])
    else:
        ax.set_xticks([cell_w * (k + 0.5) for k in range(len(column_labels))])
        ax.set_xticklabels([str(c) for c in column_labels], fontsize=8)
        ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    return fig


def plot_inversion_errors(steps, errors: dict, anchors=None):
    """Log-log plot of inversion MSE against steps, one line per entry of ``errors``.

    ``anchors`` (optional) are published values at the same steps, drawn dashed.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_inversion_errors([10, 20, 50], {"digits": [1e-2, 4e-3, 1e-3]}, anchors=[2e-2, 1e-2, 5e-3])
    >>> ax = fig.axes[0]
    >>> ax.get_xscale(), ax.get_yscale(), len(ax.get_lines())
    ('log', 'log', 2)
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for label, values in errors.items():
        ax.loglog(steps, values, marker="o", label=str(label))
    if anchors is not None:
        ax.loglog(steps, anchors, "k--", marker="x", label="DDIM paper, CIFAR-10 (Table 2)")
    ax.set_xticks(list(steps))
    ax.set_xticklabels([str(v) for v in steps])
    ax.minorticks_off()
    ax.set_xlabel("DDIM steps S (each way)")
    ax.set_ylabel("per-pixel MSE, images in [0, 1]")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_factor_histograms(samples: dict, names, bins: int = 20):
    """One histogram panel per factor, one outline per entry of ``samples`` (``(n, k)`` values).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> samples = {"data": torch.rand(100, 2), "model": torch.rand(100, 2)}
    >>> fig = plot_factor_histograms(samples, ["thickness", "slant"])
    >>> [ax.get_title() for ax in fig.axes]
    ['thickness', 'slant']
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['data', 'model']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.4))
    for k, (ax, name) in enumerate(zip(list(axes) if len(names) > 1 else [axes], names)):
        for label, values in samples.items():
            ax.hist(values[:, k].numpy(), bins=bins, histtype="step", density=True, label=str(label))
        ax.set_title(str(name), fontsize=9)
        ax.set_yticks([])
    axes[0].legend(fontsize=7) if len(names) > 1 else axes.legend(fontsize=7)
    fig.tight_layout()
    return fig
