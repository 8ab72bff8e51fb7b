"""Small vectorised drawing helpers: pixel grids, rotations, distances, colours.

Everything works on whole batches at once: a batch of ``n`` images is drawn by
evaluating an inside/outside test on an ``(n, H, W)`` grid of pixel centres, never
with a Python loop over images.

Examples
--------
>>> xs, ys = pixel_grid(4, (0.0, 1.0), (0.0, 1.0))
>>> xs[0, 0, :].tolist(), ys[0, :, 0].tolist()
([0.125, 0.375, 0.625, 0.875], [0.875, 0.625, 0.375, 0.125])
>>> hue_to_rgb(torch.tensor([0.0, 1 / 3])).round(decimals=3).tolist()
[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
"""

from __future__ import annotations

import torch

__all__ = ["pixel_grid", "local_window", "rotate", "segment_distance", "hue_to_rgb", "paint"]


def pixel_grid(size: int, x_range, y_range):
    """Pixel-centre coordinates, shaped ``(1, size, size)``; row 0 is the top (largest y).

    Examples
    --------
    >>> xs, ys = pixel_grid(2, (0.0, 1.0), (0.0, 1.0))
    >>> xs.tolist(), ys.tolist()
    ([[[0.25, 0.75], [0.25, 0.75]]], [[[0.75, 0.75], [0.25, 0.25]]])
    """
    step = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    xs = x_range[0] + (x_range[1] - x_range[0]) * step
    ys = y_range[1] - (y_range[1] - y_range[0]) * step
    return xs.view(1, 1, size).expand(1, size, size), ys.view(1, size, 1).expand(1, size, size)


class local_window:
    """A ``window`` x ``window`` patch of pixels around each image's centre ``(cx, cy)``.

    Small objects only touch a few pixels, so drawing them in a local patch and then
    placing the patch on the canvas is several times faster than testing every pixel.
    Coordinates are in ``[0, 1]`` with y up; ``xs`` is ``(n, 1, window)`` and ``ys`` is
    ``(n, window, 1)``.

    Examples
    --------
    >>> win = local_window(8, torch.tensor([0.5]), torch.tensor([0.5]), 4)
    >>> win.xs.flatten().tolist()
    [0.3125, 0.4375, 0.5625, 0.6875]
    >>> win.place(torch.ones(1, 4, 4)).sum().item()
    16.0
    """

    def __init__(self, size: int, cx, cy, window: int):
        self.size, n = size, len(cx)
        start_x = ((cx * size).floor().long() - window // 2).clamp(0, size - window)
        start_y = (((1 - cy) * size).floor().long() - window // 2).clamp(0, size - window)
        offsets = torch.arange(window)
        self.cols = start_x.view(n, 1) + offsets
        self.rows = start_y.view(n, 1) + offsets
        self.xs = ((self.cols + 0.5) / size).view(n, 1, window)
        self.ys = (1 - (self.rows + 0.5) / size).view(n, window, 1)

    def place(self, patch: torch.Tensor) -> torch.Tensor:
        """Put ``(n, window, window)`` patches on a zero ``(n, size, size)`` canvas."""
        n = patch.shape[0]
        canvas = torch.zeros((n, self.size, self.size), dtype=patch.dtype)
        canvas[torch.arange(n).view(n, 1, 1), self.rows.view(n, -1, 1),
               self.cols.view(n, 1, -1)] = patch
        return canvas


def rotate(dx, dy, angle):
    """Coordinates of ``(dx, dy)`` in a frame rotated by ``angle`` (radians, per image).

    Examples
    --------
    >>> import math
    >>> u, v = rotate(torch.ones(1, 1, 1), torch.zeros(1, 1, 1), torch.tensor([math.pi / 2]))
    >>> round(float(u), 6), round(float(v), 6)
    (0.0, -1.0)
    """
    c, s = torch.cos(angle).view(-1, 1, 1), torch.sin(angle).view(-1, 1, 1)
    return c * dx + s * dy, -s * dx + c * dy


def segment_distance(px, py, a, b):
    """Distance from points ``(px, py)`` of shape ``(n, 1, P)`` to segments ``a``-``b``.

    ``a`` and ``b`` have shape ``(n, S, 2)``; the result has shape ``(n, S, P)``.

    Examples
    --------
    >>> d = segment_distance(torch.tensor([[[0.5]]]), torch.tensor([[[1.0]]]),
    ...                      torch.tensor([[[0.0, 0.0]]]), torch.tensor([[[1.0, 0.0]]]))
    >>> d
    tensor([[[1.]]])
    """
    ax, ay = a[..., 0:1], a[..., 1:2]
    ex, ey = b[..., 0:1] - ax, b[..., 1:2] - ay
    length2 = (ex * ex + ey * ey).clamp_min(1e-12)
    t = (((px - ax) * ex + (py - ay) * ey) / length2).clamp(0.0, 1.0)
    return torch.hypot(px - ax - t * ex, py - ay - t * ey)


def hue_to_rgb(hue, saturation: float = 1.0, value: float = 1.0):
    """HSV to RGB for a batch of hues in ``[0, 1)``; returns shape ``(n, 3)``.

    Examples
    --------
    >>> hue_to_rgb(torch.tensor([0.0, 1 / 3]))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    k = (torch.tensor([5.0, 3.0, 1.0]) + hue.reshape(-1, 1) * 6.0) % 6.0
    ramp = torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)
    return value - value * saturation * ramp


def paint(canvas, mask, colour):
    """Paint ``colour`` (``(n, 3)`` or ``(3,)``) into ``canvas`` ``(n, 3, H, W)`` where ``mask``.

    Examples
    --------
    >>> canvas = torch.zeros(1, 3, 2, 2)
    >>> paint(canvas, torch.tensor([[[True, False], [False, False]]]), [1.0, 0.0, 0.0])[0, 0]
    tensor([[1., 0.],
            [0., 0.]])
    """
    colour = torch.as_tensor(colour, dtype=canvas.dtype)
    colour = colour.view(-1, 3, 1, 1).expand(canvas.shape[0], 3, 1, 1)
    m = mask.unsqueeze(1).to(canvas.dtype)
    return canvas * (1 - m) + colour * m
