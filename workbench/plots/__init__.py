"""Figures (matplotlib) and charts (Altair) built from workbench objects.

Each area has its own module here (``plots.scm``, ``plots.metrics``, ...). Charts are
rendered offline: call :func:`enable_offline_charts` once in a notebook, so Altair
draws through anywidget and vl-convert instead of fetching Vega from a CDN.
"""

from __future__ import annotations

__all__ = ["enable_offline_charts"]


def enable_offline_charts() -> str:
    """Make Altair render with no network; return the renderer's name.

    Uses Altair's ``jupyter`` renderer in offline mode (needs anywidget and
    vl-convert-python, both dependencies of the workbench).

    Examples
    --------
    >>> enable_offline_charts()
    'jupyter'
    """
    import altair as alt

    alt.renderers.enable("jupyter", offline=True)  # charts displayed as cell outputs
    alt.JupyterChart.enable_offline()  # charts placed inside our widgets
    return alt.renderers.active
