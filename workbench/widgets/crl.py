"""Widgets for causal representation learning.

* :class:`InterventionExplorer`: pick a concept of a trained :class:`CausalVAE` and drag
  its value; the model's image of that intervention sits beside the exact render of the
  same intervention on the same unit, with the factors a reader sees in each.
* :class:`GraphView`: the learned latent graph against the true one, with a threshold.
* :class:`IdentifiabilityExplorer`: MCC and R^2 of interventional CRL against the number
  of intervened latents and the size of each interventional data set.

State lives in traitlets (``target``, ``value``, ``unit``; ``threshold``;
``num_intervened``, ``num_samples``) validated with ``@validate``; callbacks call
:mod:`workbench.crl` and :mod:`workbench.plots.crl` only.

Examples
--------
>>> import networkx as nx
>>> from workbench.latents import LatentSCM
>>> view = GraphView(LatentSCM(2, structure="order"), nx.DiGraph([(0, 1)]))
>>> view.threshold = 0.05          # an untrained mechanism reads its parent: one edge
>>> sorted(view.learned.edges), view.summary.value.startswith("<b>equal to")
([(0, 1)], True)
>>> view.threshold = 7.0
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: threshold = 7.0 is outside [0.0, 2.0]; choose a value in that range.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import traitlets

from workbench.errors import WidgetValueError
from workbench.plots.crl import plot_graph_comparison, plot_identifiability_curves
from workbench.plots.latents import to_png
from workbench.plots.png import figure_to_png
from workbench.widgets.controls import FiniteFloatSlider

__all__ = ["InterventionExplorer", "GraphView", "IdentifiabilityExplorer"]


def _in_range(name, value, low, high):
    if not (low <= value <= high):
        raise WidgetValueError(f"{name} = {value} is outside [{low}, {high}]; choose a value in that range.")
    return value


def _inward(low: float, high: float) -> tuple[float, float]:
    """The range rounded inwards to two decimals (a slider's grid inside the model's range)."""
    return math.ceil(low * 100) / 100, math.floor(high * 100) / 100


def _readings_table(result: dict, target: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}{' (set)' if name == target else ''}</td>"
        f"<td>{result['factual_values'][name]:.2f}</td><td>{result['true_values'][name]:.2f}</td>"
        f"<td>{result['read_generated'][name]:.2f}</td></tr>"
        for name in result["true_values"])
    return ("<style>.wb-crl-readings td, .wb-crl-readings th {padding: 2px 12px; text-align: right}</style>"
            "<table class='wb-crl-readings' style='font-size:12px'><tr><th>factor</th><th>before</th>"
            f"<th>true after</th><th>read off the model's image</th></tr>{rows}</table>")


class InterventionExplorer(widgets.VBox):
    """do(concept = value) on one unit: the model's image, the true render, the readings.

    Parameters
    ----------
    model : CausalVAE
    reader : FactorReader
        Reads the factors off both images.
    ranges : dict
        ``{factor: (min, max)}``, e.g. :func:`workbench.crl.pendulum.factor_ranges`.
    target : str, optional
        The first concept to intervene on (default the second factor).
    scale : int
        Display pixels per image pixel.

    Examples
    --------
    >>> from workbench.latents import load_pretrained
    >>> from workbench.crl.pendulum import factor_ranges
    >>> model = load_pretrained("causal_vae_pendulum", device="cpu")
    >>> reader = load_pretrained("factor_reader_pendulum", device="cpu")
    >>> explorer = InterventionExplorer(model, reader, factor_ranges())
    >>> explorer.target, explorer.value                  # phi, at the middle of its range
    ('phi', 1.62)
    >>> explorer.value = 2.0
    >>> explorer.result["true_values"]["phi"], abs(explorer.result["read_generated"]["phi"] - 2.0) < 0.1
    (2.0, True)
    >>> explorer.value = 5.0
    Traceback (most recent call last):
    ...
    workbench.errors.WidgetValueError: phi = 5.0 is outside [0.95, 2.3]; choose a value in that range.
    """

    target = traitlets.Unicode()
    value = traitlets.Float()
    unit = traitlets.Int(0)

    def __init__(self, model, reader, ranges: dict, target: str | None = None, scale: int = 4):
        from workbench.crl.pendulum import compare_unit

        self.model, self.reader, self.ranges, self.scale = model, reader, dict(ranges), int(scale)
        self._compare_unit = compare_unit
        names = list(model.factor_names)
        self.target_picker = widgets.Dropdown(options=names, description="intervene on")
        self.value_slider = FiniteFloatSlider(description="value", step=0.01, readout_format=".2f",
                                              continuous_update=False)
        self.unit_slider = widgets.IntSlider(value=0, min=0, max=49, description="unit", continuous_update=False)
        side = model.image_shape[-1] * self.scale
        self.images = [widgets.Image(format="png", layout=widgets.Layout(width=f"{side}px", height=f"{side}px"))
                       for _ in range(3)]
        self.captions = [widgets.HTML() for _ in range(3)]
        panels = [widgets.VBox([c, im], layout=widgets.Layout(margin="0 24px 0 0"))
                  for c, im in zip(self.captions, self.images)]
        self.table = widgets.HTML()
        super().__init__([widgets.HBox([self.target_picker, self.value_slider, self.unit_slider]),
                          widgets.HBox(panels), self.table])
        widgets.link((self.unit_slider, "value"), (self, "unit"))
        self.target_picker.observe(lambda c: setattr(self, "target", c["new"]), names="value")
        self.value_slider.observe(lambda c: setattr(self, "value", c["new"]), names="value")
        self.target = target or names[1]

    @traitlets.validate("target")
    def _validate_target(self, proposal):
        if proposal["value"] not in self.model.factor_names:
            raise WidgetValueError(f"target {proposal['value']!r} is not a concept; pick one of {self.model.factor_names}.")
        return proposal["value"]

    @traitlets.validate("value")
    def _validate_value(self, proposal):
        low, high = _inward(*self.ranges[self.target])
        return _in_range(f"{self.target}", proposal["value"], low, high)

    @traitlets.validate("unit")
    def _validate_unit(self, proposal):
        return _in_range("unit", proposal["value"], 0, 49)

    @traitlets.observe("target")
    def _target_changed(self, change):
        low, high = _inward(*self.ranges[change["new"]])
        self.target_picker.value = change["new"]
        with self.hold_trait_notifications():
            self.value_slider.min, self.value_slider.max = min(low, self.value_slider.max), high
            self.value_slider.min = low
        self.value = round((low + high) / 2, 2)
        self.value_slider.value = self.value
        self._draw()

    @traitlets.observe("value", "unit")
    def _changed(self, change):
        if self.value_slider.value != self.value:
            self.value_slider.value = self.value
        self._draw()

    def _draw(self):
        self.result = self._compare_unit(self.model, self.reader, self.unit, self.target, self.value)
        for image, key in zip(self.images, ("factual", "generated", "truth")):
            image.value = to_png(self.result[key], scale=self.scale)
        action = f"do({html.escape(self.target)} = {self.value:.2f})"
        for caption, text in zip(self.captions, ("before: true render", f"model: {action}", f"truth: {action}")):
            caption.value = f"<b>{text}</b>"
        self.table.value = _readings_table(self.result, self.target)


class GraphView(widgets.VBox):
    """A learned :class:`LatentSCM` graph at a threshold, against the true graph.

    Examples
    --------
    The committed pendulum CausalVAE learned the true graph:

    >>> from workbench.latents import load_pretrained
    >>> from workbench.crl.pendulum import FACTORS, TRUE_GRAPH
    >>> prior = load_pretrained("causal_vae_pendulum", device="cpu").prior
    >>> view = GraphView(prior, TRUE_GRAPH, names=list(FACTORS))
    >>> view.learned.number_of_edges(), view.summary.value.startswith("<b>equal to")
    (4, True)
    >>> view.threshold = 2.0                             # too high: every edge is cut
    >>> view.learned.number_of_edges()
    0
    """

    threshold = traitlets.Float(0.1)

    def __init__(self, prior, true_graph, names=None, threshold: float = 0.1):
        self.prior, self.true_graph, self.names = prior, true_graph, names
        self.slider = FiniteFloatSlider(value=threshold, min=0.0, max=2.0, step=0.01, description="threshold",
                                        continuous_update=False)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="640px"))
        self.summary = widgets.HTML()
        super().__init__([self.slider, self.image, self.summary])
        widgets.link((self.slider, "value"), (self, "threshold"))
        self.threshold = float(threshold)
        self._draw()

    @traitlets.validate("threshold")
    def _validate_threshold(self, proposal):
        return _in_range("threshold", proposal["value"], 0.0, 2.0)

    @traitlets.observe("threshold")
    def _changed(self, change):
        self._draw()

    def _draw(self):
        self.learned = self.prior.graph(self.threshold, self.names)
        weights = {(u, v): d["weight"] for u, v, d in self.learned.edges(data=True)}
        self.image.value = figure_to_png(plot_graph_comparison(self.learned, self.true_graph, weights))
        same = set(self.learned.edges) == set(self.true_graph.edges)
        self.summary.value = (f"<b>{'equal to' if same else 'differs from'}</b> the true graph: "
                              f"{self.learned.number_of_edges()} learned edges, "
                              f"{self.true_graph.number_of_edges()} true.")


class IdentifiabilityExplorer(widgets.VBox):
    """MCC and R^2 after unmixing with ``num_intervened`` do-data sets of ``num_samples`` points.

    Parameters
    ----------
    model : PolynomialAutoencoder
    data : InterventionalData

    Examples
    --------
    >>> import torch
    >>> from workbench.crl.interventional import PolynomialAutoencoder
    >>> from workbench.crl.polynomial import make_interventional_data
    >>> data = make_interventional_data(latent_dim=2, degree=2, data_dim=10, n_obs=500, n_int=300)
    >>> _ = torch.manual_seed(0)
    >>> model = PolynomialAutoencoder(10, 2, 2)
    >>> explorer = IdentifiabilityExplorer(model, data)
    >>> explorer.num_intervened, explorer.num_samples, list(explorer.n_slider.options)
    (1, 100, [10, 30, 100, 300])
    >>> from workbench.crl.interventional import interventional_scores
    >>> before = interventional_scores(model, data)["observational"]["r2"]
    >>> abs(explorer.scores["r2"] - before) < 1e-6       # unmixing never changes R^2
    True
    >>> explorer.num_samples = 50
    Traceback (most recent call last):
    ...
    workbench.errors.WidgetValueError: num_samples must be one of [10, 30, 100, 300], got 50.
    """

    num_intervened = traitlets.Int()
    num_samples = traitlets.Int()

    SAMPLES = (10, 30, 100, 300, 1000, 2000)
    _ready = False

    def __init__(self, model, data):
        from workbench.crl.interventional import interventional_scores

        self.model, self.data, self._interventional_scores = model, data, interventional_scores
        d = data.z_obs.shape[1]
        # start half-way on both, so either slider can move both ways
        self.k_slider = widgets.IntSlider(value=d // 2, min=0, max=d, description="intervened",
                                          continuous_update=False)
        options = [n for n in self.SAMPLES if n <= len(data.x_int[0])]
        self.n_slider = widgets.SelectionSlider(options=options, value=options[len(options) // 2],
                                                description="samples", continuous_update=False)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="640px"))
        self.summary = widgets.HTML()
        super().__init__([widgets.HBox([self.k_slider, self.n_slider]), self.image, self.summary])
        widgets.link((self.k_slider, "value"), (self, "num_intervened"))
        widgets.link((self.n_slider, "value"), (self, "num_samples"))
        self._ready = True
        self._draw()

    @traitlets.validate("num_intervened")
    def _validate_k(self, proposal):
        return _in_range("num_intervened", proposal["value"], 0, self.data.z_obs.shape[1])

    @traitlets.validate("num_samples")
    def _validate_n(self, proposal):
        if proposal["value"] not in self.n_slider.options:
            raise WidgetValueError(f"num_samples must be one of {list(self.n_slider.options)}, got {proposal['value']}.")
        return proposal["value"]

    @traitlets.observe("num_intervened", "num_samples")
    def _changed(self, change):
        if self._ready:
            self._draw()

    def _score(self, k, n):
        return self._interventional_scores(self.model, self.data, num_intervened=k, num_samples=n)["interventional"]

    def _draw(self):
        k, n = self.num_intervened, self.num_samples
        by_k = [(j, self._score(j, n)) for j in range(self.data.z_obs.shape[1] + 1)]
        by_n = [(m, self._score(k, m)) for m in self.n_slider.options]
        self.scores = dict(by_k)[k]
        self.image.value = figure_to_png(plot_identifiability_curves(by_k, by_n, (k, n)))
        self.summary.value = f"MCC <b>{self.scores['mcc']:.3f}</b>, R<sup>2</sup> <b>{self.scores['r2']:.3f}</b>"
