"""The domain-counterfactual explorer, headless: set values, assert on Python state."""

import pytest
import torch

from workbench.errors import ShapeError, WidgetValueError
from workbench.latents.domain_counterfactuals import DomainModel, LatentDomainSCM
from workbench.latents.domain_counterfactuals.demo import load_demo
from workbench.widgets.domain_counterfactuals import DomainCounterfactualExplorer
from workbench.widgets.images import png_size


@pytest.fixture(scope="module")
def world():
    scm = LatentDomainSCM(3, latent_dim=4, seed=0, scale_samples=300)
    x, d, _ = scm.sample(5, seed=1)
    models = {"sparse": DomainModel(3, 4, k=2, seed=0), "<dense>": DomainModel(3, 4, kind="dense", seed=1)}
    return scm, models, x, d


def test_sample_and_target_drive_the_comparison(world):
    scm, models, x, d = world
    view = DomainCounterfactualExplorer(scm, models, x, d)
    before = view.image.value
    view.sample, view.target = 7, 2                     # sample 7 is in domain 1
    r = view.result
    assert (r["domain"], r["target"]) == (1, 2)
    torch.testing.assert_close(r["true"], scm.counterfactual(x[7:8], 1, 2)[0])
    for name, model in models.items():
        estimate = model.counterfactual(x[7:8], 1, 2)[0].detach()
        torch.testing.assert_close(r["estimates"][name], estimate)
        assert r["errors"][name] == pytest.approx(float((estimate - r["true"]).square().mean()), rel=1e-5)
    assert r["identity_error"] == pytest.approx(float((x[7] - r["true"]).square().mean()), rel=1e-5)
    assert view.image.value != before
    assert view.sample_slider.value == 7 and view.target_picker.value == 2
    assert "&lt;dense&gt;" in view.table.value and "<dense>" not in view.table.value


def test_controls_drive_the_traits_and_same_domain_is_the_identity(world):
    scm, models, x, d = world
    view = DomainCounterfactualExplorer(scm, models, x, d)
    view.sample_slider.value = 3                        # domain 0
    view.target_picker.value = 0
    assert (view.sample, view.target) == (3, 0)
    assert view.result["identity_error"] == pytest.approx(0.0, abs=1e-8)
    assert all(err == pytest.approx(0.0, abs=1e-8) for err in view.result["errors"].values())


def test_figure_keeps_its_aspect_ratio(world):
    scm, models, x, d = world
    view = DomainCounterfactualExplorer(scm, models, x, d, width=7.0)
    w, h = png_size(view.image.value)
    assert view.image.layout.width == f"{w / 2:g}px" and view.image.layout.height == "auto"
    assert 2.0 < w / h < 4.0                            # 7 x 2.6 inches, tight bounding box


def test_out_of_range_values_raise(world):
    scm, models, x, d = world
    view = DomainCounterfactualExplorer(scm, models, x, d)
    with pytest.raises(WidgetValueError, match="sample"):
        view.sample = 15
    with pytest.raises(WidgetValueError, match="not a domain"):
        view.target = 3
    assert (view.sample, view.target) == (0, 1)
    with pytest.raises(ShapeError):
        DomainCounterfactualExplorer(scm, {}, x, d)
    with pytest.raises(ShapeError):
        DomainCounterfactualExplorer(scm, models, x[:, :3], d)


def test_shipped_demo_models_beat_doing_nothing():
    demo = load_demo()
    view = DomainCounterfactualExplorer(demo.scm, demo.models, demo.x, demo.domains)
    view.sample, view.target = 1500, 0
    assert view.result["domain"] == 1
    assert set(view.result["errors"]) == {"sparse", "dense"}
    sparse = demo.info["sparse"]["evaluation"]
    assert sparse["counterfactual_error"] < 0.5 * sparse["identity_error"]
