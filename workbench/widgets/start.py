"""The first widget a learner touches: confounding makes correlation lie.

The model is the smallest confounded SCM::

    Z ~ N(0, 1)            (a common cause)
    X = c * Z + N(0, 1)    (treatment)
    Y = b * X + c * Z + N(0, 1)

Regressing Y on X gives the slope ``b + c**2 / (c**2 + 1)``; the causal effect of X on Y,
what ``do(X)`` reveals, is ``b``. Two sliders set ``c`` (confounding) and ``b`` (effect);
an Altair chart shows the samples with both lines.

Examples
--------
>>> round(observational_slope(confounding=1.0, effect=0.5), 3)
1.0
>>> w = ConfoundingExplorer(n=200)
>>> w.confounding = 0.0
>>> round(w.observational, 3) == round(w.effect, 3)
True
"""

from __future__ import annotations

import math
import numbers

import altair as alt
import ipywidgets as widgets
import torch
import traitlets

from workbench.errors import NonFiniteValueError, WidgetValueError, WorkbenchInputError
from workbench.widgets.controls import FiniteFloatSlider

__all__ = ["observational_slope", "sample_confounded", "ConfoundingExplorer"]

LIMIT = 3.0


def observational_slope(confounding: float, effect: float) -> float:
    """Population slope of the regression of Y on X in the model above.

    Examples
    --------
    >>> observational_slope(confounding=0.0, effect=0.5)
    0.5
    """
    c = float(confounding)
    return float(effect) + c * c / (c * c + 1.0)


def _check_samples(n, seed) -> None:
    """``n`` a whole number of at least 1 and ``seed`` a non-negative whole number, or a typed error."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise WorkbenchInputError(f"n is the number of samples: a whole number of at least 1, got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**64:
        raise WorkbenchInputError(f"seed must be a whole number from 0 to 2**64 - 1, got {seed!r}.")


def sample_confounded(confounding: float, effect: float, n: int = 300,
                      seed: int = 0) -> dict[str, torch.Tensor]:
    """Draw ``n`` samples of (Z, X, Y); the same seed gives the same noise.

    Examples
    --------
    >>> data = sample_confounded(1.0, 0.5, n=10)
    >>> sorted(data), data["X"].shape
    (['X', 'Y', 'Z'], torch.Size([10]))
    >>> sample_confounded(1.0, 0.5, n=-10)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: n is the number of samples: a whole number of at least 1, got -10.
    """
    _check_samples(n, seed)
    for name, value in (("confounding", confounding), ("effect", effect)):
        if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise NonFiniteValueError(f"{name} must be a finite number, got {value!r}.")
    g = torch.Generator().manual_seed(int(seed))
    n = int(n)
    z, ex, ey = torch.randn(3, n, generator=g)
    x = confounding * z + ex
    y = effect * x + confounding * z + ey
    return {"Z": z, "X": x, "Y": y}


def axis_limit(values: torch.Tensor) -> float:
    """A round half-width (2, 4, 6, ...) that shows every value; at least 4.

    >>> axis_limit(torch.tensor([-3.1, 5.2]))
    6.0
    """
    return max(4.0, 2.0 * math.ceil(float(values.abs().max()) / 2.0))


def _line(slope: float, name: str, xs=(-4.0, 4.0)) -> list[dict]:
    return [{"x": x, "y": slope * x, "line": name} for x in xs]


class ConfoundingExplorer(widgets.VBox):
    """Sliders for confounding and causal effect, and a chart of both regression lines.

    Examples
    --------
    >>> w = ConfoundingExplorer(n=100)
    >>> w.confounding = 0.0
    >>> round(w.observational, 3) == round(w.effect, 3)
    True
    """

    confounding = traitlets.Float(1.0)
    effect = traitlets.Float(0.5)
    observational = traitlets.Float(read_only=True)

    def __init__(self, n: int = 300, seed: int = 0):
        _check_samples(n, seed)              # before any widget is built
        self._n, self._seed = n, seed
        self.confounding_slider = FiniteFloatSlider(
            value=1.0, min=-LIMIT, max=LIMIT, step=0.1, description="confounding c",
            style={"description_width": "initial"})
        self.effect_slider = FiniteFloatSlider(
            value=0.5, min=-LIMIT, max=LIMIT, step=0.1, description="effect b",
            style={"description_width": "initial"})
        self.readout = widgets.HTML()
        self.chart = alt.JupyterChart(self._chart())
        super().__init__([self.confounding_slider, self.effect_slider, self.readout, self.chart])
        widgets.link((self.confounding_slider, "value"), (self, "confounding"))
        widgets.link((self.effect_slider, "value"), (self, "effect"))
        self._refresh()

    @traitlets.validate("confounding", "effect")
    def _in_range(self, proposal):
        value = proposal["value"]
        if not -LIMIT <= value <= LIMIT:
            raise WidgetValueError(
                f"{proposal['trait'].name} must lie in [-{LIMIT}, {LIMIT}], got {value}.")
        return value

    @traitlets.observe("confounding", "effect")
    def _on_change(self, _change):
        self._refresh()

    def _chart(self) -> alt.LayerChart:
        data = sample_confounded(self.confounding, self.effect, self._n, self._seed)
        x_max, y_max = axis_limit(data["X"]), axis_limit(data["Y"])   # every point stays in view
        points = alt.Chart(alt.Data(values=[
            {"X": float(x), "Y": float(y)} for x, y in zip(data["X"], data["Y"])
        ])).mark_circle(size=16, opacity=0.35, clip=True).encode(
            x=alt.X("X:Q", title="X (treatment)", scale=alt.Scale(domain=[-x_max, x_max])),
            y=alt.Y("Y:Q", title="Y (outcome)", scale=alt.Scale(domain=[-y_max, y_max])))
        lines = alt.Chart(alt.Data(values=(
            _line(observational_slope(self.confounding, self.effect), "slope seen in data", (-x_max, x_max))
            + _line(self.effect, "causal effect (do)", (-x_max, x_max))
        ))).mark_line(strokeWidth=3, clip=True).encode(
            x="x:Q", y="y:Q",
            color=alt.Color("line:N", title=None, legend=alt.Legend(orient="top", labelFontSize=13)))
        return (points + lines).properties(width=480, height=340).configure_axis(
            labelFontSize=12, titleFontSize=13)

    def _refresh(self):
        self.set_trait("observational", observational_slope(self.confounding, self.effect))
        self.readout.value = (
            f"<b>slope seen in data</b> = {self.observational:.2f} &nbsp; "
            f"<b>causal effect</b> = {self.effect:.2f}")
        self.chart.chart = self._chart()
