"""The counterfactual explorer: "what would this digit look like had it been thicker?"

Pick a digit (``index``), set ``do(thickness)`` and ``do(intensity)`` with sliders: the
factual image, each mechanism's counterfactual and the exact one side by side, each with
its pixel L1 to the exact counterfactual and the thickness and intensity measured on it.
State lives in traitlets (``index``, ``thickness``, ``intensity``) validated with
``@validate``; the callback calls :func:`workbench.deepscm.comparison.compare_counterfactuals`
and :mod:`workbench.plots.counterfactual_images`.

Examples
--------
>>> from workbench.deepscm import IntensityScaling
>>> view = CounterfactualExplorer({"toy": IntensityScaling()}, n=4)
>>> view.thickness_slider.value = 4.0
>>> round(view.scores["ground truth"]["thickness"], 2), view.scores["ground truth"]["truth_l1"]
(4.0, 0.0)
>>> view.intensity = 300
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: intensity = 300 is outside 64..255 grey levels (the range of the digits' intensity mechanism).
"""

from __future__ import annotations

from typing import Mapping

import ipywidgets as widgets
import traitlets

from workbench.deepscm.comparison import compare_counterfactuals
from workbench.deepscm.evaluation import evaluation_digits
from workbench.errors import WidgetValueError
from workbench.metrics.soundness import DigitsGroundTruth, digit_morphometrics
from workbench.plots.counterfactual_images import plot_counterfactual_row, scores_html
from workbench.widgets.images import picture, show_figure

__all__ = ["CounterfactualExplorer"]

THICKNESS_RANGE, INTENSITY_RANGE = (1.0, 6.0), (64.0, 255.0)


class CounterfactualExplorer(widgets.VBox):
    """Factual, each generator's ``do(thickness, intensity)`` counterfactual, and the truth.

    Parameters
    ----------
    generators : dict
        ``{name: ImageMechanism or generator}``, e.g. the pretrained mechanisms.
    n : int
        Number of test digits to pick from (:func:`workbench.deepscm.evaluation.evaluation_digits`).
    seed : int
        Their seed.

    Examples
    --------
    >>> from workbench.deepscm import IntensityScaling
    >>> explorer = CounterfactualExplorer({"toy": IntensityScaling()}, n=3)
    >>> explorer.thickness = 4.0                  # do(thickness = 4): the toy cannot follow
    >>> explorer.scores["toy"]["truth_l1"] > explorer.scores["ground truth"]["truth_l1"]
    True
    """

    index = traitlets.Int(0)
    thickness = traitlets.Float(2.5)
    intensity = traitlets.Float(160.0)

    def __init__(self, generators: Mapping, n: int = 100, seed: int = 2026):
        self.generators = dict(generators)
        self.truth = DigitsGroundTruth()
        self.measure = digit_morphometrics(self.truth.dataset)
        self.images, self.parents = evaluation_digits(n, seed)
        self.index_slider = widgets.IntSlider(0, min=0, max=n - 1, description="digit #",
                                              continuous_update=False)
        self.thickness_slider = widgets.FloatSlider(2.5, min=THICKNESS_RANGE[0], max=THICKNESS_RANGE[1], step=0.1,
                                                    description="do(thickness)", continuous_update=False,
                                                    style={"description_width": "initial"})
        self.intensity_slider = widgets.FloatSlider(160.0, min=INTENSITY_RANGE[0], max=INTENSITY_RANGE[1], step=1.0,
                                                    description="do(intensity)", continuous_update=False,
                                                    readout_format=".0f", style={"description_width": "initial"})
        self.label, self.image, self.table = widgets.HTML(), picture(), widgets.HTML()
        self.scores: dict = {}
        super().__init__([self.index_slider, self.thickness_slider, self.intensity_slider, self.label,
                          self.image, self.table])
        for slider, name in ((self.index_slider, "index"), (self.thickness_slider, "thickness"),
                             (self.intensity_slider, "intensity")):
            widgets.link((slider, "value"), (self, name))
        self._reset_to_factual()
        self._draw()

    @traitlets.validate("index")
    def _validate_index(self, proposal):
        n = len(self.images)
        if not 0 <= proposal["value"] < n:
            raise WidgetValueError(f"index = {proposal['value']} is outside 0..{n - 1} (the explorer holds {n} digits).")
        return proposal["value"]

    @traitlets.validate("thickness")
    def _validate_thickness(self, proposal):
        low, high = THICKNESS_RANGE
        if not low <= proposal["value"] <= high:
            raise WidgetValueError(f"thickness = {proposal['value']:g} is outside {low:g}..{high:g} pixels.")
        return proposal["value"]

    @traitlets.validate("intensity")
    def _validate_intensity(self, proposal):
        low, high = INTENSITY_RANGE
        if not low <= proposal["value"] <= high:
            raise WidgetValueError(f"intensity = {proposal['value']:g} is outside {low:g}..{high:g} grey levels "
                                   "(the range of the digits' intensity mechanism).")
        return proposal["value"]

    @traitlets.observe("index")
    def _digit_changed(self, change):
        self._reset_to_factual()
        self._draw()

    @traitlets.observe("thickness", "intensity")
    def _do_changed(self, change):
        if not getattr(self, "_resetting", False):
            self._draw()

    def _reset_to_factual(self):
        """Sliders to the picked digit's own thickness and intensity (the null intervention)."""
        self._resetting = True
        try:
            low, high = THICKNESS_RANGE
            self.thickness = round(min(max(float(self.parents["thickness"][self.index]), low), high), 1)
            self.intensity = round(float(self.parents["intensity"][self.index]))
        finally:
            self._resetting = False

    @property
    def factual(self) -> dict:
        """The picked digit's four factors."""
        return {k: float(v[self.index]) for k, v in self.parents.items()}

    def _draw(self):
        one = slice(self.index, self.index + 1)
        out = compare_counterfactuals(self.generators, self.images[one], {k: v[one] for k, v in self.parents.items()},
                                      {"thickness": self.thickness, "intensity": self.intensity},
                                      truth=self.truth, measure=self.measure)
        self.scores = {label: {k: float(v[0]) for k, v in panel.items() if k != "image"} for label, panel in out.items()}
        panels = {label: {**self.scores[label], "image": panel["image"][0]} for label, panel in out.items()}
        show_figure(self.image, plot_counterfactual_row(panels), dpi=80)
        f = self.factual
        self.label.value = (f"<b>digit {int(f['digit'])}</b>: factual thickness {f['thickness']:.2f}, "
                            f"intensity {f['intensity']:.0f}; showing do(thickness = {self.thickness:.1f}, "
                            f"intensity = {self.intensity:.0f})")
        self.table.value = scores_html(self.scores)
