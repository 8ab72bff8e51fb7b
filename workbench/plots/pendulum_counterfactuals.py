"""Figures for the pendulum's counterfactuals: RGB panels side by side and where the action changed pixels.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import torch
>>> fig = plot_pendulum_row({"factual": torch.ones(3, 32, 32), "counterfactual": torch.zeros(3, 32, 32)})
>>> [ax.get_title() for ax in fig.axes]
['factual', 'counterfactual']
"""

from __future__ import annotations

import torch

__all__ = ["plot_pendulum_row", "change_map"]


def change_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(H, W)`` mean absolute change over the channels, in grey levels 0-255.

    Examples
    --------
    >>> import torch
    >>> change_map(torch.zeros(3, 2, 2), torch.full((3, 2, 2), 0.5))[0, 0].item()
    127.5
    """
    return 255.0 * (a - b).abs().mean(0)


def plot_pendulum_row(panels: dict, size: float = 1.8, subtitles: dict | None = None):
    """One panel per entry, side by side at square pixels (the aspect ratio kept).

    ``panels``: ``{label: image}``, each an RGB image ``(3, H, W)`` in ``[0, 1]`` or a change
    map ``(H, W)`` in grey levels (drawn in a heat colour map from 0 to 255); ``subtitles``
    adds a second title line to some.

    Examples
    --------
    >>> import torch
    >>> fig = plot_pendulum_row({"x": torch.rand(3, 8, 8), "change": torch.rand(8, 8)}, subtitles={"x": "L1 1.0"})
    >>> fig.axes[0].get_title()
    'x\\nL1 1.0'
    """
    import matplotlib.pyplot as plt

    subtitles = subtitles or {}
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * 1.25), squeeze=False)
    for ax, (label, image) in zip(axes[0], panels.items()):
        image = image.detach().cpu()
        if image.dim() == 3:
            ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy(), aspect="equal", interpolation="nearest")
        else:
            ax.imshow(image.numpy(), cmap="magma", vmin=0.0, vmax=255.0, aspect="equal", interpolation="nearest")
        ax.set_title(label + (f"\n{subtitles[label]}" if label in subtitles else ""), fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout(pad=0.3)
    return fig
