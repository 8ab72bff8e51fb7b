"""Latent widgets, headless: set values, assert on Python state and on what is drawn."""

import pytest
import torch

import workbench as wb
from workbench.errors import WidgetValueError
from workbench.latents import VAE, traverse
from workbench.plots.latents import to_png
from workbench.widgets.latents import LatentTraversal, MeanVsSampled, TraversalGrid


@pytest.fixture(scope="module")
def model():
    wb.seed_everything(0)
    return VAE((1, 32, 32), latent_dim=3, device="cpu").eval()


def test_slider_moves_code_and_redraws(model):
    view = LatentTraversal(model)
    before = view.image.value
    view.sliders[2].value = -1.25
    assert view.code == [0.0, 0.0, -1.25]
    expected = traverse(model, torch.zeros(3), 2, [-1.25])[0]
    assert torch.allclose(view.decoded, expected, atol=1e-6)
    assert view.image.value == to_png(expected, scale=view.scale) != before


def test_setting_code_moves_sliders(model):
    view = LatentTraversal(model)
    view.code = [0.5, -0.5, 2.0]
    assert [s.value for s in view.sliders] == [0.5, -0.5, 2.0]


def test_out_of_range_values_raise_and_leave_state(model):
    view = LatentTraversal(model, limit=2.0)
    with pytest.raises(WidgetValueError, match="outside"):
        view.sliders[0].value = 2.5
    with pytest.raises(WidgetValueError):
        view.code = [0.0, 3.0, 0.0]
    with pytest.raises(WidgetValueError, match="3 numbers"):
        view.code = [0.0]
    assert view.code == [0.0, 0.0, 0.0] and view.sliders[0].value == 0.0


def test_start_from_an_image_uses_its_posterior_mean(model):
    view = LatentTraversal(model)
    image = torch.rand(1, 32, 32)
    view.start_from(image)
    mean = model.encode(image.unsqueeze(0))[0][0]
    assert view.code == pytest.approx(mean.tolist(), abs=1e-6)


def test_traversal_grid_follows_its_controls(model):
    grid = TraversalGrid(model, num_values=5)
    assert tuple(grid.grid.shape) == (3, 5, 1, 32, 32)
    grid.count_slider.value = 9
    assert grid.num_values == 9 and grid.grid.shape[1] == 9
    grid.limit = 1.0
    assert grid.limit_slider.value == 1.0
    assert torch.allclose(grid.grid[1], traverse(model, torch.zeros(3), 1, torch.linspace(-1, 1, 9)))
    with pytest.raises(WidgetValueError):
        grid.limit_slider.value = 10.0
    with pytest.raises(WidgetValueError):
        grid.num_values = 2


def test_mean_vs_sampled_marks_active_and_passive(model):
    wb.seed_everything(0)
    collapsed = VAE((1, 32, 32), latent_dim=2, device="cpu").eval()
    last = collapsed.encoder.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        last.weight[0] = 50.0              # z0 follows the input; z1 is the prior for every x
    view = MeanVsSampled(collapsed, torch.rand(100, 1, 32, 32))
    assert [label for label, _ in view.dropdown.options] == ["z0 (active)", "z1 (passive)"]
    assert "passive" in view.table.value and "<script" not in view.table.value
    first = view.image.value
    view.dropdown.value = 1
    assert view.dim == 1 and view.image.value != first
    # a passive latent: mean representation ~ 0, sampled one ~ N(0, 1)
    assert view.means[:, 1].abs().max() < 1e-6 and 0.7 < view.samples[:, 1].std() < 1.3
    with pytest.raises(WidgetValueError):
        view.dim = 5
