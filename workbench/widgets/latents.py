"""Widgets for walking a latent space.

* :class:`LatentTraversal`: one slider per latent; the decoded image updates as you drag.
* :class:`TraversalGrid`: every latent swept over a range, as one picture.
* :class:`MeanVsSampled`: for a chosen latent, its mean and sampled values over the
  data, with every latent marked active or passive (Bonheme & Grzes, "Be More Active!").

State lives in traitlets (``code``, ``limit``, ``num_values``, ``dim``), validated with
``@validate`` and drawn with ``@observe``; callbacks only call
:mod:`workbench.latents` and :mod:`workbench.plots.latents`. Values outside a
control's range raise :class:`~workbench.errors.WidgetValueError` rather than being
silently clamped.

Examples
--------
>>> import torch
>>> from workbench.latents import VAE
>>> view = LatentTraversal(VAE((1, 32, 32), latent_dim=3, device="cpu"))
>>> view.sliders[1].value = 1.5
>>> view.code
[0.0, 1.5, 0.0]
>>> view.sliders[1].value = 9.0
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: z1 = 9.0 is outside [-3.0, 3.0]; choose a value in that range.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
import traitlets

from workbench.errors import WidgetValueError
from workbench.latents.analysis import latent_activity, mean_and_sampled, traversal_grid
from workbench.plots.latents import plot_mean_vs_sampled, plot_traversal_grid, to_png
from workbench.widgets.images import picture, show_figure, show_png

__all__ = ["StrictFloatSlider", "LatentTraversal", "TraversalGrid", "MeanVsSampled"]


class StrictFloatSlider(widgets.FloatSlider):
    """A FloatSlider that refuses out-of-range values instead of clamping them.

    Examples
    --------
    >>> s = StrictFloatSlider(value=0.0, min=-1.0, max=1.0, description="z0")
    >>> s.value = 2.0
    Traceback (most recent call last):
    ...
    workbench.errors.WidgetValueError: z0 = 2.0 is outside [-1.0, 1.0]; choose a value in that range.
    """

    @traitlets.validate("value")
    def _validate_value(self, proposal):
        value = proposal["value"]
        if not (self.min <= value <= self.max):
            raise WidgetValueError(
                f"{self.description} = {value} is outside [{self.min}, {self.max}]; "
                "choose a value in that range."
            )
        return value


def _decode_one(model, code) -> torch.Tensor:
    with torch.no_grad():
        return model.decode(torch.tensor([code], dtype=torch.float32))[0].cpu()


class LatentTraversal(widgets.VBox):
    """Sliders for each latent of ``model`` and the image they decode to.

    Parameters
    ----------
    model : VAE
        Anything with ``latent_dim`` and ``decode``.
    code : sequence of float, optional
        Starting code (zeros, the prior's mean, by default).
    limit : float
        Sliders run over ``[-limit, limit]``.
    scale : int
        Display upscaling of the decoded image.

    Examples
    --------
    >>> from workbench.latents import VAE
    >>> LatentTraversal(VAE((1, 32, 32), latent_dim=2, device="cpu")).code
    [0.0, 0.0]
    """

    code = traitlets.List(traitlets.Float())

    def __init__(self, model, code=None, limit: float = 3.0, scale: int = 4):
        self.model, self.limit, self.scale = model, float(limit), int(scale)
        self.sliders = [StrictFloatSlider(value=0.0, min=-self.limit, max=self.limit, step=0.05,
                                          description=f"z{k}", continuous_update=True,
                                          readout_format=".2f")
                        for k in range(model.latent_dim)]
        self.image = picture()
        super().__init__([widgets.HBox([widgets.VBox(self.sliders), self.image])])
        for k, slider in enumerate(self.sliders):
            slider.observe(lambda change, k=k: self._slider_moved(k, change["new"]), names="value")
        self.code = [0.0] * model.latent_dim if code is None else [float(v) for v in code]
        self._draw()

    @traitlets.validate("code")
    def _validate_code(self, proposal):
        code = list(proposal["value"])
        if len(code) != self.model.latent_dim:
            raise WidgetValueError(f"code must have {self.model.latent_dim} numbers, got {len(code)}.")
        for k, v in enumerate(code):
            if not (-self.limit <= v <= self.limit):
                raise WidgetValueError(f"z{k} = {v} is outside [-{self.limit}, {self.limit}].")
        return code

    @traitlets.observe("code")
    def _code_changed(self, change):
        for slider, v in zip(self.sliders, change["new"]):
            if slider.value != v:
                slider.value = v
        self._draw()

    def _slider_moved(self, k: int, value: float):
        if self.code[k] != value:
            code = list(self.code)
            code[k] = value
            self.code = code

    def _draw(self):
        self.decoded = _decode_one(self.model, self.code)
        show_png(self.image, to_png(self.decoded, scale=self.scale))

    def start_from(self, image: torch.Tensor) -> None:
        """Set the sliders to the posterior mean of one image ``(C, H, W)``."""
        with torch.no_grad():
            mean = self.model.encode(image.unsqueeze(0))[0][0].cpu()
        self.code = [float(v) for v in mean.clamp(-self.limit, self.limit)]


class TraversalGrid(widgets.VBox):
    """All latents traversed around a base code: one row per latent, one picture.

    Controls: ``limit`` (the sweep is ``[-limit, limit]``) and ``num_values`` (columns).

    Examples
    --------
    >>> from workbench.latents import VAE
    >>> grid = TraversalGrid(VAE((1, 32, 32), latent_dim=1, device="cpu"), num_values=3)
    >>> len(grid.values)
    3
    """

    limit = traitlets.Float(2.0)
    num_values = traitlets.Int(7)

    def __init__(self, model, code=None, limit: float = 2.0, num_values: int = 7, scale: int = 2):
        self.model, self.scale = model, int(scale)
        self.base = torch.zeros(model.latent_dim) if code is None else torch.as_tensor(code, dtype=torch.float32)
        self.limit_slider = StrictFloatSlider(value=limit, min=0.5, max=4.0, step=0.5, description="limit")
        self.count_slider = widgets.IntSlider(value=num_values, min=3, max=11, step=2, description="columns")
        self.image = picture()
        super().__init__([widgets.HBox([self.limit_slider, self.count_slider]), self.image])
        widgets.link((self.limit_slider, "value"), (self, "limit"))
        widgets.link((self.count_slider, "value"), (self, "num_values"))
        self.limit, self.num_values = float(limit), int(num_values)
        self._draw()

    @traitlets.validate("limit")
    def _validate_limit(self, proposal):
        if not (0.5 <= proposal["value"] <= 4.0):
            raise WidgetValueError(f"limit = {proposal['value']} is outside [0.5, 4.0].")
        return proposal["value"]

    @traitlets.validate("num_values")
    def _validate_count(self, proposal):
        if not (3 <= proposal["value"] <= 11):
            raise WidgetValueError(f"num_values = {proposal['value']} is outside [3, 11].")
        return proposal["value"]

    @traitlets.observe("limit", "num_values")
    def _changed(self, change):
        self._draw()

    @property
    def values(self) -> torch.Tensor:
        """The traversal values, ``num_values`` evenly spaced in ``[-limit, limit]``."""
        return torch.linspace(-self.limit, self.limit, self.num_values)

    def _draw(self):
        self.grid = traversal_grid(self.model, self.base, values=self.values)
        show_figure(self.image, plot_traversal_grid(self.grid, values=self.values), dpi=40 * self.scale)


class MeanVsSampled(widgets.VBox):
    """Mean vs sampled values of one latent over ``images``; active/passive marked.

    The dropdown chooses the latent (``dim``); the table lists every latent's variance of
    its mean over the data and its label.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents import VAE
    >>> view = MeanVsSampled(VAE((1, 32, 32), latent_dim=2, device="cpu"), torch.rand(8, 1, 32, 32))
    >>> len(view.activity.labels())
    2
    """

    dim = traitlets.Int(0)

    def __init__(self, model, images, threshold: float = 0.01, seed: int = 0):
        self.model = model
        self.activity = latent_activity(model, images, threshold)
        self.means, self.samples = mean_and_sampled(model, images, torch.Generator().manual_seed(seed))
        labels = self.activity.labels()
        self.dropdown = widgets.Dropdown(options=[(f"z{k} ({lab})", k) for k, lab in enumerate(labels)],
                                         value=0, description="latent")
        self.table = widgets.HTML(self._table_html())
        self.image = picture()
        super().__init__([self.dropdown, widgets.HBox([self.image, self.table])])
        widgets.link((self.dropdown, "value"), (self, "dim"))
        self._draw()

    @traitlets.validate("dim")
    def _validate_dim(self, proposal):
        if not (0 <= proposal["value"] < self.model.latent_dim):
            raise WidgetValueError(f"dim = {proposal['value']} is outside 0..{self.model.latent_dim - 1}.")
        return proposal["value"]

    @traitlets.observe("dim")
    def _changed(self, change):
        self._draw()

    def _table_html(self) -> str:
        rows = "".join(
            f"<tr><td>z{k}</td><td>{v:.3g}</td><td>{html.escape(lab)}</td></tr>"
            for k, (v, lab) in enumerate(zip(self.activity.mean_variance.tolist(), self.activity.labels())))
        return ("<table><tr><th>latent</th><th>Var[mean]</th><th>status</th></tr>"
                f"{rows}</table>")

    def _draw(self):
        fig = plot_mean_vs_sampled(self.means, self.samples, self.activity, self.dim)
        show_figure(self.image, fig, dpi=96)
