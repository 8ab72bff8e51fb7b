"""A dashboard of disentanglement scores: several models side by side, and sliders for
the estimator choices that move them.

:class:`MetricsDashboard` holds ``bins`` (histogram bins of the binned metrics) and
``num_points`` (how many points every metric sees) in traitlets. Moving a slider
recomputes the scores through :func:`workbench.metrics.score_codes` and redraws two
Altair charts: grouped bars of every model's scores, and the sensitivity curve of
one metric over a grid of ``bins``. ``movement`` says how far each model's score
moved from its value at the published protocol's choices.

Examples
--------
>>> from workbench import metrics
>>> models = {k: metrics.constructed_codes(k, n_points=1000, seed=0)
...           for k in ("disentangled", "rotated")}
>>> board = MetricsDashboard(models, metrics=("mig", "mcc"))
>>> board.bins = 5
>>> board.scores["disentangled"]["mig"] > board.scores["rotated"]["mig"]
True
>>> round(board.movement["rotated"], 3) == round(
...     board.scores["rotated"]["mig"] - metrics.mig(*models["rotated"]).score, 3)
True
"""

from __future__ import annotations

import html
from typing import Mapping

import altair as alt
import ipywidgets as widgets
import traitlets

from workbench.errors import UnknownVariableError, WidgetValueError, WorkbenchInputError
from workbench.metrics import TABLE_METRICS, score_codes, sensitivity
from workbench.metrics.inputs import check_codes_factors
from workbench.plots.metrics import score_rows, scores_chart, sensitivity_chart, sensitivity_rows

__all__ = ["MetricsDashboard", "BINS_RANGE", "SENSITIVITY_GRID"]

BINS_RANGE = (2, 100)
SENSITIVITY_GRID = (5, 10, 15, 20, 30, 40, 60, 80, 100)
_BINNED = {"mig", "modularity", "infomec"}  # metrics with a ``bins`` choice
_PUBLISHED_BINS = 20


class MetricsDashboard(widgets.VBox):
    """Scores of several models, with sliders for MIG-style bins and the sample size.

    Parameters
    ----------
    models : mapping of name -> (codes, factors)
        Each model's codes and the ground-truth factors of the same points.
    metrics : tuple of str
        Names from :data:`workbench.metrics.TABLE_METRICS` (cheap ones by default).
    mode : {"exact", "fast"}
        Passed to every metric that has a fast mode.
    sensitivity_metric : str
        A binned metric whose curve over :data:`SENSITIVITY_GRID` is drawn.

    Examples
    --------
    >>> from workbench import metrics
    >>> board = MetricsDashboard({"d": metrics.constructed_codes("disentangled", n_points=500)}, metrics=("mcc",))
    >>> sorted(board.scores["d"])
    ['mcc']
    """

    bins = traitlets.Int(_PUBLISHED_BINS)
    num_points = traitlets.Int(1000)
    scores = traitlets.Dict(read_only=True)
    movement = traitlets.Dict(read_only=True)

    def __init__(self, models: Mapping, metrics=("mig", "modularity", "irs", "mcc"),
                 mode: str = "fast", sensitivity_metric: str = "mig"):
        if not models:
            raise WorkbenchInputError("MetricsDashboard needs at least one model: "
                                      "pass {name: (codes, factors)}.")
        for name in list(metrics) + [sensitivity_metric]:
            if name not in TABLE_METRICS:
                raise UnknownVariableError(name, TABLE_METRICS, what="metric")
        if sensitivity_metric not in _BINNED:
            raise WorkbenchInputError(f"sensitivity_metric must have a bins choice: one of "
                                      f"{sorted(_BINNED)}, got {sensitivity_metric!r}.")
        for codes, factors in models.values():
            check_codes_factors(codes, factors)  # typed errors now, not inside a callback
        self._models = {str(k): v for k, v in models.items()}
        self._max_points = min(v[0].shape[0] for v in self._models.values())
        self._metrics, self._mode, self._curve_metric = tuple(metrics), mode, sensitivity_metric
        self._reference = self._compute(_PUBLISHED_BINS, self._max_points)
        self.bins_slider = widgets.IntSlider(
            value=_PUBLISHED_BINS, min=BINS_RANGE[0], max=BINS_RANGE[1], description="bins",
            continuous_update=False)
        self.points_slider = widgets.IntSlider(
            value=self._max_points, min=min(100, self._max_points), max=self._max_points,
            step=100 if self._max_points >= 200 else 1, description="points",
            continuous_update=False)
        self.readout = widgets.HTML()
        self.scores_view = alt.JupyterChart(scores_chart([]))
        self.curve_view = alt.JupyterChart(sensitivity_chart([], _PUBLISHED_BINS, "bins",
                                                             sensitivity_metric))
        super().__init__([widgets.HBox([self.bins_slider, self.points_slider]), self.readout,
                          self.scores_view, self.curve_view])
        self.num_points = self._max_points
        widgets.link((self.bins_slider, "value"), (self, "bins"))
        widgets.link((self.points_slider, "value"), (self, "num_points"))
        self._refresh()

    # ----- state ----------------------------------------------------------------
    @traitlets.validate("bins")
    def _valid_bins(self, proposal):
        value = proposal["value"]
        if not BINS_RANGE[0] <= value <= BINS_RANGE[1]:
            raise WidgetValueError(f"bins must lie in {BINS_RANGE[0]}..{BINS_RANGE[1]}, "
                                   f"got {value}.")
        return value

    @traitlets.validate("num_points")
    def _valid_points(self, proposal):
        value = proposal["value"]
        low = min(100, getattr(self, "_max_points", value))
        if not low <= value <= getattr(self, "_max_points", value):
            raise WidgetValueError(f"num_points must lie in {low}..{self._max_points} (the "
                                   f"smallest model's number of points), got {value}.")
        return value

    @traitlets.observe("bins", "num_points")
    def _on_change(self, _change):
        if hasattr(self, "readout"):
            self._refresh()

    # ----- computing (library calls only) ----------------------------------------
    def _compute(self, bins: int, n: int) -> dict:
        options = {m: {"bins": bins} for m in self._metrics if m in _BINNED}
        return {name: score_codes(codes[:n], factors[:n], metrics=self._metrics,
                                  mode=self._mode, options=options)
                for name, (codes, factors) in self._models.items()}

    def _refresh(self):
        results = self._compute(self.bins, self.num_points)
        flat = {m: {name: r.score for name, r in res.items()} for m, res in results.items()}
        key = self._metrics[0]
        self.set_trait("scores", flat)
        self.set_trait("movement", {m: flat[m][key] - self._reference[m][key].score
                                    for m in flat})
        curves = {name: sensitivity(codes[:self.num_points], factors[:self.num_points],
                                    self._curve_metric, "bins", SENSITIVITY_GRID)
                  for name, (codes, factors) in self._models.items()}
        self.scores_view.chart = scores_chart(score_rows(results))
        self.curve_view.chart = sensitivity_chart(sensitivity_rows(curves, "bins"), self.bins,
                                                  "bins", self._curve_metric)
        lines = [f"<b>{html.escape(m)}</b>: {html.escape(key)} = {flat[m][key]:.3f} "
                 f"({self.movement[m]:+.3f} vs. {_PUBLISHED_BINS} bins, all points)"
                 for m in flat]
        self.readout.value = (f"bins = {self.bins}, points = {self.num_points}, mode = "
                              f"{html.escape(self._mode)}<br>" + "<br>".join(lines))
