"""The flow-layers widget: state in a traitlet, the picture and text follow it."""

import pytest
import torch

from workbench.errors import WidgetValueError
from workbench.latents.flows import two_moons_flow
from workbench.widgets.flows import FlowLayers


@pytest.fixture(scope="module")
def view():
    return FlowLayers(two_moons_flow(steps=30), n_points=200)


def test_slider_and_step_follow_each_other(view):
    first = view.image.value
    view.slider.value = 3
    assert view.step == 3 and view.stage_name == "layer 1 inverted" and view.image.value != first
    view.step = 4
    assert view.slider.value == 4 and "standardisation undone" in view.label.value
    assert view.mean_log_det == pytest.approx(float(view.stages.log_det[4].mean()))
    view.step = 0
    assert view.mean_log_det == 0.0 and "+0.000" in view.label.value


def test_out_of_range_step_raises(view):
    with pytest.raises(WidgetValueError, match="outside"):
        view.step = 5
    with pytest.raises(WidgetValueError):
        view.step = -1


def test_image_keeps_its_aspect_ratio(view):
    import io
    from PIL import Image
    w, h = Image.open(io.BytesIO(view.image.value)).size   # square axes plus a colour bar
    assert view.image.layout.height == "auto" and view.image.layout.width.endswith("px") and h < w
    assert torch.isfinite(view.stages.log_det[-1]).all()
