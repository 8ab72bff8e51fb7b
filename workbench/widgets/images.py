"""Widget images shown at the size they were drawn: aspect ratio kept, sharp on HiDPI screens.

An ``ipywidgets.Image`` inside a box is a flex item: left alone, the box stretches it to
the row's height or squeezes its width, and a browser then scales the bitmap. Here every
image is pinned to its natural ratio (``align-self: flex-start``, ``height: auto``, no
flex shrinking), and figures are rendered at ``SHARPNESS`` times their display
resolution, then shown at display size, so text stays crisp.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> image = picture()
>>> fig, _ = plt.subplots(figsize=(3, 2))
>>> show_figure(image, fig, dpi=80, tight=False)
>>> png_size(image.value), image.layout.width     # drawn at 2x, shown at 240 x 160
((480, 320), '240px')
"""

from __future__ import annotations

import struct

import ipywidgets as widgets

from workbench.plots.png import figure_to_png

__all__ = ["SHARPNESS", "picture", "png_size", "show_png", "show_figure"]

SHARPNESS = 2


def picture(**layout) -> widgets.Image:
    """An empty PNG image widget that keeps its aspect ratio inside any box.

    Examples
    --------
    >>> picture().format
    'png'
    """
    style = dict(align_self="flex-start", height="auto", max_width="100%", flex="0 0 auto")
    return widgets.Image(format="png", layout=widgets.Layout(**{**style, **layout}))


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, read from the PNG header.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from workbench.plots.png import figure_to_png
    >>> png_size(figure_to_png(plt.figure(figsize=(2, 1)), dpi=50, tight=False))
    (100, 50)
    """
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not PNG bytes")
    return struct.unpack(">II", png[16:24])


def show_png(image: widgets.Image, png: bytes, *, scale: float = 1.0) -> None:
    """Show ``png`` at ``1/scale`` of its pixel size (2 for a bitmap drawn at 2x).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from workbench.plots.png import figure_to_png
    >>> image = picture()
    >>> show_png(image, figure_to_png(plt.figure(figsize=(2, 1)), dpi=50, tight=False), scale=2)
    >>> image.layout.width
    '50px'
    """
    width, _ = png_size(png)
    image.value = png
    image.layout.width = f"{width / scale:g}px"
    image.layout.height = "auto"


def show_figure(image: widgets.Image, fig, *, dpi: int = 80, tight: bool = True,
                close: bool = True) -> None:
    """Render ``fig`` at ``SHARPNESS * dpi`` and show it at the size ``dpi`` gives.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> image = picture()
    >>> show_figure(image, plt.figure(figsize=(2, 1)), dpi=40, tight=False)
    >>> image.layout.width
    '80px'
    """
    show_png(image, figure_to_png(fig, dpi=dpi * SHARPNESS, tight=tight, close=close), scale=SHARPNESS)
