"""Widgets for diffusion latents: scrub a denoising trajectory, round-trip an inversion, edit z_sem.

* :class:`DenoisingScrubber`: a step slider over a recorded
  :class:`~workbench.latents.diffusion.samplers.DenoisingTrajectory`; ``x_t`` and the
  predicted ``x_0`` side by side.
* :class:`InversionViewer`: a steps slider; original, ``x_T`` (DDIM inversion), the
  reconstruction and the error, with the measured MSE.
* :class:`SemanticEditSlider`: an edit-strength slider moving ``z_sem`` along a direction;
  the edited image and the factor values a regressor measures on it.

State lives in traitlets (``step``, ``steps``, ``strength``) validated with ``@validate``;
callbacks only call :mod:`workbench.latents.diffusion` and :mod:`workbench.plots`.

Examples
--------
>>> from workbench.latents.diffusion.toy import GaussianToyModel
>>> from workbench.latents.diffusion.samplers import sample_ddim
>>> _, path = sample_ddim(GaussianToyModel(image_shape=(1, 8, 8)), 1, steps=10, generator=0, trajectory=True)
>>> view = DenoisingScrubber(path)
>>> view.step = 9
>>> view.timestep
0
>>> view.step = 10
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: step = 10 is outside 0..9 (the trajectory has 10 recorded steps).
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
import traitlets

from workbench.errors import WidgetValueError
from workbench.latents.diffusion.autoencoder import decode, edit, encode
from workbench.plots.diffusion import abs_error_image, noise_image
from workbench.plots.latents import tile, to_png

__all__ = ["DenoisingScrubber", "InversionViewer", "SemanticEditSlider"]


def _caption(labels) -> widgets.HTML:
    cells = "".join(f"<td style='text-align:center;padding:0 6px'>{html.escape(str(s))}</td>" for s in labels)
    return widgets.HTML(f"<table><tr>{cells}</tr></table>")


class DenoisingScrubber(widgets.VBox):
    """Scrub through a sampler's steps: ``x_t`` (left) and the model's predicted ``x_0`` (right).

    ``step`` counts visited steps from the noisiest (0) to the last (``len - 1``).

    Examples
    --------
    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> from workbench.latents.diffusion.samplers import sample_ddim
    >>> toy = GaussianToyModel(image_shape=(1, 8, 8), num_steps=1000)
    >>> _, path = sample_ddim(toy, 2, steps=10, generator=0, trajectory=True)
    >>> view = DenoisingScrubber(path, index=1)
    >>> view.timestep, view.label.value.startswith("<b>t = 900</b>")
    (900, True)
    >>> view.slider.value = 5                            # the slider drives the state
    >>> view.step, view.timestep
    (5, 400)
    """

    step = traitlets.Int(0)

    def __init__(self, trajectory, index: int = 0, scale: int = 5):
        self.trajectory, self.index, self.scale = trajectory, int(index), int(scale)
        batch = trajectory.x_t.shape[1]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < batch:
            raise WidgetValueError(f"index = {index!r} is outside 0..{batch - 1} (the trajectory holds {batch} "
                                   "sample(s)); pick one of them.")
        n = len(trajectory.timesteps)
        self.slider = widgets.IntSlider(value=0, min=0, max=n - 1, description="step",
                                        continuous_update=True)
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        super().__init__([self.slider, self.label, self.image])
        widgets.link((self.slider, "value"), (self, "step"))
        self._draw()

    @traitlets.validate("step")
    def _validate_step(self, proposal):
        n = len(self.trajectory.timesteps)
        if not 0 <= proposal["value"] < n:
            raise WidgetValueError(f"step = {proposal['value']} is outside 0..{n - 1} "
                                   f"(the trajectory has {n} recorded steps).")
        return proposal["value"]

    @traitlets.observe("step")
    def _changed(self, change):
        self._draw()

    @property
    def timestep(self) -> int:
        """The sampler's timestep ``t`` at the current ``step``."""
        return int(self.trajectory.timesteps[self.step])

    def _draw(self):
        pair = torch.stack([self.trajectory.x_t[self.step, self.index],
                            self.trajectory.x0_hat[self.step, self.index]])
        self.image.value = to_png(tile(pair, pad=2), scale=self.scale)
        self.label.value = (f"<b>t = {self.timestep}</b> &nbsp; left: x<sub>t</sub> &nbsp; "
                            "right: predicted x<sub>0</sub>")


class InversionViewer(widgets.VBox):
    """DDIM inversion round trip at ``steps`` steps each way, for a few images.

    Rows: original, ``x_T`` (grey = 0, black/white = -/+3), reconstruction, 5 x |error|.

    Examples
    --------
    With the exact Gaussian toy model, more steps give a smaller round-trip error:

    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(image_shape=(1, 8, 8), num_steps=1000)
    >>> images = 0.4 + 0.2 * torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> viewer = InversionViewer(toy, images, steps=5)
    >>> coarse = viewer.mse
    >>> viewer.steps = 50
    >>> viewer.mse < coarse, viewer.label.value.startswith("<b>S = 50</b>")
    (True, True)
    >>> viewer.steps = 7
    Traceback (most recent call last):
    ...
    workbench.errors.WidgetValueError: steps = 7 is not one of [2, 5, 10, 20, 50, 100].
    """

    steps = traitlets.Int(20)
    STEP_CHOICES = (2, 5, 10, 20, 50, 100)

    def __init__(self, model, images: torch.Tensor, steps: int = 20, scale: int = 3):
        if steps not in self.STEP_CHOICES:
            raise WidgetValueError(f"steps = {steps!r} is not one of {list(self.STEP_CHOICES)}.")
        self.model, self.images, self.scale = model, images[:6].cpu(), int(scale)
        self.results: dict[int, tuple] = {}
        self.slider = widgets.SelectionSlider(options=self.STEP_CHOICES, value=steps, description="steps",
                                              continuous_update=False)
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        super().__init__([self.slider, self.label, self.image, _caption(
            ["rows: original", "x_T", "reconstruction", "5 x |error|"])])
        widgets.link((self.slider, "value"), (self, "steps"))
        self.steps = steps
        self._draw()

    @traitlets.validate("steps")
    def _validate_steps(self, proposal):
        if proposal["value"] not in self.STEP_CHOICES:
            raise WidgetValueError(f"steps = {proposal['value']} is not one of {list(self.STEP_CHOICES)}.")
        return proposal["value"]

    @traitlets.observe("steps")
    def _changed(self, change):
        if self.steps not in self.results:         # the heading never names an S it does not show
            self.label.value = f"<b>S = {self.steps}</b>: computing the round trip ..."
        self._draw()

    def round_trip(self, steps: int):
        """``(x_T, reconstruction, mse)`` at ``steps`` (cached)."""
        if steps not in self.results:
            z_sem, x_T = encode(self.model, self.images, steps=steps)
            rec = decode(self.model, z_sem, x_T, steps=steps).cpu()
            self.results[steps] = (x_T.cpu(), rec, float((rec - self.images).pow(2).mean()))
        return self.results[steps]

    @property
    def mse(self) -> float:
        """The per-pixel MSE of the round trip at the current ``steps``."""
        return self.round_trip(self.steps)[2]

    def _draw(self):
        x_T, rec, mse = self.round_trip(self.steps)
        grid = torch.stack([self.images, noise_image(x_T), rec, abs_error_image(rec, self.images)])
        self.image.value = to_png(tile(grid), scale=self.scale)
        self.label.value = f"<b>S = {self.steps}</b>: per-pixel MSE {mse:.2e}"


class SemanticEditSlider(widgets.VBox):
    """Move one image's ``z_sem`` along ``delta`` by ``strength``; keep its ``x_T``; measure factors.

    Parameters
    ----------
    model : DiffusionAutoencoder
    regressor : FactorRegressor
        Reads the factors off the edited image.
    image : Tensor ``(C, H, W)``
    delta : Tensor ``(semantic_dim,)``
        The direction, best
        :func:`~workbench.latents.diffusion.edits.calibrate_direction`'s ``.direction``
        (measured: one unit of its factor per unit of strength); an uncalibrated
        :func:`~workbench.latents.diffusion.directions.edit_direction` is one unit only to
        first order.
    name : str
        What the direction is called (shown, escaped).
    limit : float
        The slider runs over ``[-limit, limit]``.

    Examples
    --------
    At strength 0 the edit is the plain reconstruction, so the readings agree:

    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> from workbench.latents.diffusion.regressors import FactorRegressor
    >>> _ = torch.manual_seed(0)
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=50, device="cpu").eval()
    >>> regressor = FactorRegressor((1, 8, 8), ["size"], [[0.0, 1.0]], channels=4)
    >>> slider = SemanticEditSlider(model, regressor, torch.rand(1, 8, 8), torch.tensor([1.0, 0.0]),
    ...                             name="size", steps=5)
    >>> torch.allclose(slider.measured, slider.before)
    True
    >>> unedited = slider.edited
    >>> slider.strength = 1.0                            # same x_T, moved z_sem: a new image
    >>> slider.edited.shape, torch.equal(slider.edited, unedited)
    (torch.Size([1, 8, 8]), False)
    >>> slider.strength = 2.0
    Traceback (most recent call last):
    ...
    workbench.errors.WidgetValueError: strength = 2.0 is outside [-1.5, 1.5].
    """

    strength = traitlets.Float(0.0)

    def __init__(self, model, regressor, image, delta, name: str = "direction", limit: float = 1.5,
                 steps: int = 20, scale: int = 5):
        self.model, self.regressor, self.delta, self.name = model, regressor, delta, str(name)
        self.limit, self.steps, self.scale = float(limit), int(steps), int(scale)
        if not 0 < self.limit < float("inf"):
            raise WidgetValueError(f"limit = {limit!r} must be a positive finite number: the slider runs "
                                   "from -limit to +limit.")
        self.z_sem, self.x_T = encode(model, image.unsqueeze(0), steps=self.steps)    # abduction, once
        self.original = image.cpu()
        self.slider = widgets.FloatSlider(value=0.0, min=-self.limit, max=self.limit, step=0.1,
                                          description="strength", continuous_update=False)
        self.table = widgets.HTML()
        self.image = widgets.Image(format="png")
        super().__init__([widgets.HTML(f"direction: <b>{html.escape(self.name)}</b>"), self.slider,
                          widgets.HBox([self.image, self.table])])
        widgets.link((self.slider, "value"), (self, "strength"))
        self.before = regressor.predict(decode(model, self.z_sem, self.x_T, steps=self.steps))[0]
        self._draw()

    @traitlets.validate("strength")
    def _validate_strength(self, proposal):
        if not -self.limit <= proposal["value"] <= self.limit:
            raise WidgetValueError(f"strength = {proposal['value']} is outside [-{self.limit}, {self.limit}].")
        return proposal["value"]

    @traitlets.observe("strength")
    def _changed(self, change):
        self._draw()

    def _draw(self):
        self.edited = edit(self.model, self.z_sem, self.x_T, self.delta, self.strength, self.steps)[0].cpu()
        self.measured = self.regressor.predict(self.edited.unsqueeze(0))[0]
        rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{b:.2f}</td><td>{m:.2f}</td></tr>"
                       for n, b, m in zip(self.regressor.factor_names, self.before.tolist(),
                                          self.measured.tolist()))
        self.table.value = ("<table><tr><th>factor</th><th>strength 0</th><th>now</th></tr>"
                            f"{rows}</table>")
        self.image.value = to_png(tile(torch.stack([self.original, self.edited]), pad=2), scale=self.scale)
