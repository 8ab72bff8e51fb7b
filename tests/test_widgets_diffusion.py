"""Diffusion widgets, headless: set values, assert on Python state and on what is drawn."""

import pytest
import torch

import workbench as wb
import workbench.latents.diffusion as wd
from workbench.datasets import Digits
from workbench.errors import WidgetValueError
from workbench.plots.latents import tile, to_png
from workbench.widgets.diffusion import DenoisingScrubber, InversionViewer, SemanticEditSlider


@pytest.fixture(scope="module")
def model():
    wb.seed_everything(0)
    return wd.DiffusionAutoencoder((1, 32, 32), channels=4, semantic_dim=3, num_steps=100, device="cpu").eval()


@pytest.fixture(scope="module")
def images():
    return Digits().sample(3, generator=0)[0]


def test_scrubber_shows_the_recorded_step(model):
    _, path = wd.sample_ddim(model, 2, steps=5, generator=1, trajectory=True)
    view = DenoisingScrubber(path, index=1)
    view.slider.value = 3
    assert view.step == 3 and view.timestep == path.timesteps[3] == 20
    expected = to_png(tile(torch.stack([path.x_t[3, 1], path.x0_hat[3, 1]]), pad=2), scale=view.scale)
    assert view.image.value == expected and "t = 20" in view.label.value
    with pytest.raises(WidgetValueError, match="outside"):
        view.step = 5


def test_inversion_viewer_round_trip_matches_the_library(model, images):
    view = InversionViewer(model, images, steps=5)
    headings = []
    view.label.observe(lambda change: headings.append(change["new"]), "value")
    view.slider.value = 10
    assert view.steps == 10
    assert ["computing" in h for h in headings] == [True, False] and all("S = 10" in h for h in headings)
    view.slider.value = 5                                   # cached: straight to the result
    assert len(headings) == 3 and "S = 5</b>: per-pixel MSE" in headings[-1]
    view.slider.value = 10
    assert view.mse == pytest.approx(wd.inversion_mse(model, images, steps=10), rel=1e-5)
    assert "S = 10" in view.label.value and set(view.results) == {5, 10}
    with pytest.raises(WidgetValueError, match="not one of"):
        view.steps = 7


class _Reader:
    """A stand-in regressor: mean brightness and a name that needs escaping."""

    factor_names = ["<b>ink</b>"]

    def predict(self, x):
        return x.mean(dim=(1, 2, 3), keepdim=False)[:, None].cpu()


def test_edit_slider_moves_z_sem_and_escapes_names(model, images):
    delta = torch.tensor([1.0, 0.0, 0.0])
    view = SemanticEditSlider(model, _Reader(), images[0], delta, name="<i>thick</i>", limit=1.0, steps=5)
    view.slider.value = 0.5
    z, x_T = wd.encode(model, images[:1], steps=5)
    expected = wd.edit(model, z, x_T, delta, 0.5, steps=5)[0]
    assert torch.allclose(view.edited, expected, atol=1e-6)
    assert "&lt;b&gt;ink&lt;/b&gt;" in view.table.value and "<b>ink</b>" not in view.table.value
    assert "&lt;i&gt;thick&lt;/i&gt;" in view.children[0].value
    with pytest.raises(WidgetValueError, match="outside"):
        view.strength = 2.0
