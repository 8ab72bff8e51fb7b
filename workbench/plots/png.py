"""PNG bytes of a matplotlib figure, for ``ipywidgets.Image``: the one converter.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots(figsize=(2, 1))
>>> figure_to_png(fig)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io

__all__ = ["figure_to_png"]


def figure_to_png(fig, dpi: int = 80, *, tight: bool = True, close: bool = True) -> bytes:
    """PNG bytes of ``fig``, cropped to what is drawn; the figure is then closed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
        Dots per inch: a widget shows the image at its pixel size, so this sets its
        size on screen.
    tight : bool
        Crop to what is drawn (``bbox_inches="tight"``); ``False`` keeps the figure's
        own size, so that redrawn frames line up.
    close : bool
        Close the figure afterwards (``False`` for a figure that is redrawn and reused).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, _ = plt.subplots(figsize=(2, 1))
    >>> len(figure_to_png(fig, dpi=40)) > 0
    True
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    if close:
        plt.close(fig)
    return buffer.getvalue()
