"""The counterfactual panel: pick a unit and a do-value, read both worlds and the noise.

Split out of :mod:`workbench.widgets.scm` (which re-exports it); callbacks call
:func:`workbench.scm.counterfactual` and :mod:`workbench.plots`.
"""

from __future__ import annotations

from typing import Mapping

import ipywidgets as widgets
import torch
import traitlets

from workbench.errors import UnknownVariableError, WidgetValueError
from workbench.plots.counterfactuals import plot_counterfactual
from workbench.plots.scm import counterfactual_table
from workbench.scm.model import SCM
from workbench.widgets.controls import FiniteFloatSlider
from workbench.widgets.images import picture, show_figure

__all__ = ["CounterfactualPanel"]


# --------------------------------------------------------- counterfactual panel
class CounterfactualPanel(widgets.VBox):
    """Pick a unit, set a do-value: factual and counterfactual values side by side.

    State: ``unit`` (row of ``data``), ``target`` and ``value``. The table shows,
    for every variable, its factual value, its counterfactual value and the
    abducted noise. For discrete models the counterfactual is a posterior
    (``n_samples`` draws) and the table shows the probability of each category.

    Examples
    --------
    >>> from workbench.scm import backdoor_example
    >>> m = backdoor_example()
    >>> panel = CounterfactualPanel(m, m.sample(5, seed=0), target="x")
    >>> panel.result.exact, sorted(panel.result.counterfactual) == sorted(m.variables)
    (True, True)
    """

    unit = traitlets.Int(0)
    target = traitlets.Unicode()
    value = traitlets.Float(0.0)
    result = traitlets.Any(read_only=True)

    def __init__(self, scm: SCM, data: Mapping[str, torch.Tensor], target: str | None = None, *,
                 n_samples: int = 500):
        self.scm, self._n_samples = scm, n_samples
        self.data = {v: torch.as_tensor(x) for v, x in data.items()}
        self._n = len(next(iter(self.data.values())))
        names = [v for v in scm.observed]
        target = target or names[0]
        self.unit_picker = widgets.BoundedIntText(value=0, min=0, max=self._n - 1, description="unit")
        self.target_picker = widgets.Dropdown(options=names, value=target, description="do")
        self.value_slider = FiniteFloatSlider(description="value", continuous_update=False)
        self.table = widgets.HTML()
        self.picture = picture()
        super().__init__([widgets.HBox([self.unit_picker, self.target_picker, self.value_slider]),
                          self.table, self.picture])
        self.target = target
        self._set_slider_range()
        self.value = float(self.data[target][0]) if target in self.data else 0.0
        widgets.link((self.unit_picker, "value"), (self, "unit"))
        widgets.link((self.target_picker, "value"), (self, "target"))
        widgets.link((self.value_slider, "value"), (self, "value"))
        self._update()

    def _set_slider_range(self):
        mech = self.scm.mechanisms[self.target]
        s = self.value_slider
        if mech.cardinality is not None:
            s.min, s.max, s.step = 0, mech.cardinality - 1, 1
        else:
            x = self.data[self.target].float()
            lo, hi = float(x.min()), float(x.max())
            pad = 0.5 * (hi - lo) + 1.0
            s.max, s.min = round(hi + pad, 1), round(lo - pad, 1)
            s.step = 0.05

    @traitlets.validate("unit")
    def _valid_unit(self, proposal):
        u = proposal["value"]
        if not 0 <= u < self._n:
            raise WidgetValueError(f"unit {u} does not exist: pick 0..{self._n - 1}.")
        return u

    @traitlets.validate("target")
    def _valid_target(self, proposal):
        if proposal["value"] not in self.scm.observed:
            raise UnknownVariableError(proposal["value"], self.scm.observed)
        return proposal["value"]

    @traitlets.validate("value")
    def _valid_value(self, proposal):
        x, s = proposal["value"], self.value_slider
        if not (s.min <= x <= s.max):
            raise WidgetValueError(f"do({self.target}={x}) is outside [{s.min}, {s.max}].")
        if self.scm.mechanisms[self.target].cardinality is not None and x != int(x):
            raise WidgetValueError(f"{self.target} is discrete: pick a category {int(s.min)}..{int(s.max)}.")
        return x

    @traitlets.observe("target")
    def _new_target(self, change):
        self._set_slider_range()
        self.value = min(max(self.value, self.value_slider.min), self.value_slider.max)
        self._update()

    @traitlets.observe("unit", "value")
    def _changed(self, change):
        self._update()

    def _update(self):
        if not hasattr(self, "table"):
            return
        unit = {v: x[self.unit:self.unit + 1] for v, x in self.data.items()}
        discrete = self.scm.mechanisms[self.target].cardinality is not None
        act = {self.target: int(self.value) if discrete else float(self.value)}
        r = self.scm.counterfactual(unit, act, n_samples=self._n_samples, sample_only_if_needed=True)
        self.set_trait("result", r)
        self.table.value = counterfactual_table(self.scm, r, f"do({self.target}={self.value:g})")
        self._draw(unit, r)

    @property
    def outcome(self) -> str:
        """The variable the picture follows: the last observed one that is not the target."""
        return [v for v in self.scm.observed if v != self.target][-1]

    def _draw(self, unit, r):
        """The twin network and the unit's counterfactual outcome along the slider's range."""
        s, y = self.value_slider, self.outcome
        grid = torch.linspace(s.min, s.max, int(s.max - s.min) + 1 if self.scm.mechanisms[self.target].cardinality
                              else 41)
        if self.scm.mechanisms[self.target].cardinality is not None:
            grid = grid.round().long()
        many = {v: x.expand(len(grid)) for v, x in unit.items()}
        sweep = self.scm.counterfactual(many, {self.target: grid}, n_samples=self._n_samples,
                                        sample_only_if_needed=True).counterfactual[y].float()
        sweep = sweep.mean(0) if sweep.dim() > 1 else sweep
        now = r.counterfactual[y].float().mean()
        fig = plot_counterfactual(self.scm, self.target, y, grid.float(), sweep,
                                  current=(float(self.value), float(now)),
                                  factual=(float(unit[self.target].float()), float(unit[y].float())))
        show_figure(self.picture, fig, dpi=80)
