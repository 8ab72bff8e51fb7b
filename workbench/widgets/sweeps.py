"""A widget over a sweep's tidy table: pick a metric, a grouping and box or violin.

:class:`SweepExplorer` keeps its state in traitlets (``metric``, ``by``, ``kind``),
validated with ``@validate`` against what the table holds, and redraws with
:func:`workbench.plots.sweeps.score_distributions` when one changes; the callback
only calls the plotting function. The figure is shown as a PNG at its own size.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"key": list("abcd"), "setting": ["vae", "vae", "beta", "beta"],
...                       "model": ["vae", "vae", "beta_vae", "beta_vae"], "seed": [0, 1, 0, 1],
...                       "metric": ["mig", "mig", "mig", "sap"], "score": [.1, .2, .3, .5]})
>>> view = SweepExplorer(table)
>>> view.controls["metric"].value = "sap"
>>> view.metric, bytes(view.image.value[:4])
('sap', b'\\x89PNG')
>>> view.image.layout.width.endswith("px")
True
>>> view.metric = "dci"
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: metric 'dci' is not in this table; choose one of ['mig', 'sap'].
"""

from __future__ import annotations

import ipywidgets as widgets
import traitlets

from workbench.errors import WidgetValueError
from workbench.plots.latents import figure_to_png
from workbench.plots.sweeps import _check_table, score_distributions

__all__ = ["SweepExplorer"]

GROUPINGS = ("setting", "model", "seed")


class SweepExplorer(widgets.VBox):
    """Score distributions of one metric over a sweep, with controls.

    Parameters
    ----------
    table : DataFrame
        From :func:`workbench.sweeps.results_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"key": list("ab"), "setting": ["vae", "vae"], "model": ["vae", "vae"],
    ...                       "seed": [0, 1], "metric": ["mig", "mig"], "score": [0.1, 0.2]})
    >>> SweepExplorer(table).metric
    'mig'
    """

    metric = traitlets.Unicode()
    by = traitlets.Unicode("setting")
    kind = traitlets.Unicode("box")

    def __init__(self, table):
        _check_table(table, ("metric", "score", "seed", "setting"))
        self.table = table
        self.metrics = sorted(table["metric"].unique())
        self.groupings = [g for g in GROUPINGS if g in table.columns]
        self.controls = {
            "metric": widgets.Dropdown(options=self.metrics, description="metric",
                                       layout=widgets.Layout(width="230px")),
            "by": widgets.Dropdown(options=self.groupings, description="group by",
                                   layout=widgets.Layout(width="230px")),
            "kind": widgets.ToggleButtons(options=["box", "violin"], description="plot",
                                          style={"button_width": "64px", "description_width": "32px"},
                                          layout=widgets.Layout(display="flex", align_items="center",
                                                               margin="0 0 0 24px")),
        }
        self.image = widgets.Image(format="png", layout=widgets.Layout(height="auto"))
        # one row of controls (wrapping onto a second only where the page is narrow)
        row = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([row, self.image])
        for name, control in self.controls.items():
            widgets.link((control, "value"), (self, name))
        self.metric = self.metrics[0]
        self._draw()

    def _check(self, name: str, value: str, allowed) -> str:
        if value not in allowed:
            raise WidgetValueError(f"{name} {value!r} is not in this table; choose one of {list(allowed)}.")
        return value

    @traitlets.validate("metric")
    def _valid_metric(self, proposal):
        return self._check("metric", proposal["value"], self.metrics)

    @traitlets.validate("by")
    def _valid_by(self, proposal):
        return self._check("grouping", proposal["value"], self.groupings)

    @traitlets.validate("kind")
    def _valid_kind(self, proposal):
        return self._check("kind", proposal["value"], ("box", "violin"))

    @traitlets.observe("metric", "by", "kind")
    def _on_change(self, change):
        if hasattr(self, "image"):
            self._draw()

    def _draw(self) -> None:
        import matplotlib.pyplot as plt

        fig = score_distributions(self.table, by=self.by, kind=self.kind, metrics=[self.metric],
                                  width=6.0, height=3.6)
        png = figure_to_png(fig)
        plt.close(fig)
        # At its own pixel size (the PNG header's width): a VBox would stretch it, blurred.
        self.image.layout.width = f"{int.from_bytes(png[16:20], 'big')}px"
        self.image.value = png
