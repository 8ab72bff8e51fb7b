"""Step through a 2-D normalizing flow one layer at a time.

:class:`FlowLayers` shows the stages of :func:`workbench.latents.flows.flow_stages`:
base samples and a grid, pushed through the flow's inverted layers towards the data,
with each point's cumulative log-determinant as its colour and the mean log|det| of the
stage written out. The stage is the traitlet ``step`` (validated, never clamped); the
slider, the picture and the text follow it.

Examples
--------
>>> from workbench.latents.flows.layers import two_moons_flow
>>> view = FlowLayers(two_moons_flow(steps=0), n_points=100)
>>> view.slider.value = 2
>>> view.step, view.stage_name
(2, 'layer 2 inverted')
>>> view.step = 9
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: step = 9 is outside [0, 4]; choose a stage in that range.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import traitlets

from workbench.errors import WidgetValueError
from workbench.latents.flows.layers import flow_stages
from workbench.plots.flows import plot_flow_stage
from workbench.plots.latents import figure_to_png

__all__ = ["FlowLayers"]


class FlowLayers(widgets.VBox):
    """A slider over the stages of an unconditional 2-D flow, and the picture of each.

    Parameters
    ----------
    flow : ConditionalFlow
        Two features, no context (e.g. :func:`~workbench.latents.flows.two_moons_flow`).
    n_points, seed : the base samples drawn once and pushed through every stage.
    width : int
        Display width of the picture in pixels (its height follows, aspect kept).

    Examples
    --------
    >>> from workbench.latents.flows.layers import two_moons_flow
    >>> FlowLayers(two_moons_flow(steps=0), n_points=50).step
    0
    """

    step = traitlets.Int(0)

    def __init__(self, flow, *, n_points: int = 1000, seed: int = 0, width: int = 420):
        self.stages = flow_stages(flow, n_points=n_points, seed=seed)
        last = len(self.stages) - 1
        self.slider = widgets.IntSlider(value=0, min=0, max=last, description="stage",
                                        continuous_update=False)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(width)}px", height="auto"))
        self.label = widgets.HTML()
        super().__init__([self.slider, self.label, self.image])
        self.slider.observe(lambda change: setattr(self, "step", change["new"]), names="value")
        self._draw()

    @property
    def stage_name(self) -> str:
        """The name of the stage shown (``'base noise'``, ``'layer k inverted'``, ...)."""
        return self.stages.names[self.step]

    @property
    def mean_log_det(self) -> float:
        """The mean over the base samples of this stage's cumulative log|det|."""
        return float(self.stages.log_det[self.step].mean())

    @traitlets.validate("step")
    def _validate_step(self, proposal):
        k, last = proposal["value"], len(self.stages) - 1
        if not (0 <= k <= last):
            raise WidgetValueError(f"step = {k} is outside [0, {last}]; choose a stage in that range.")
        return k

    @traitlets.observe("step")
    def _step_changed(self, change):
        if self.slider.value != change["new"]:
            self.slider.value = change["new"]
        self._draw()

    def _draw(self):
        self.label.value = (f"<b>{html.escape(self.stage_name)}</b> &nbsp; mean log|det dz<sub>k</sub>/dz<sub>0</sub>| "
                            f"= {self.mean_log_det:+.3f}")
        self.image.value = figure_to_png(plot_flow_stage(self.stages, self.step))
