"""The counterfactual explorer, headless: set slider values, assert on Python state and the drawing."""

import html

import pytest
import torch

from workbench.deepscm import IntensityScaling
from workbench.errors import WidgetValueError
from workbench.metrics.soundness import DigitsGroundTruth, pixel_l1
from workbench.widgets.counterfactual_images import CounterfactualExplorer
from workbench.widgets.images import png_size


@pytest.fixture()
def view():
    identity = lambda images, parents, interventions: images  # noqa: E731
    return CounterfactualExplorer({"toy <exact>": IntensityScaling(), "unchanged": identity}, n=5, seed=1)


def test_opens_on_the_null_intervention_of_digit_zero(view):
    f = view.factual
    assert view.index == 0 and view.intensity == round(f["intensity"])
    assert view.thickness == pytest.approx(round(f["thickness"], 1))
    assert list(view.scores) == ["factual", "toy <exact>", "unchanged", "ground truth"]
    assert view.scores["ground truth"]["truth_l1"] == 0.0


def test_thickness_slider_moves_the_truth_and_not_the_toy(view):
    view.thickness_slider.value = 5.0
    assert view.thickness == 5.0
    s = view.scores
    assert s["ground truth"]["thickness"] == pytest.approx(5.0, abs=1e-3)
    assert s["toy <exact>"]["thickness"] == pytest.approx(view.factual["thickness"], abs=1e-3)
    assert s["unchanged"]["truth_l1"] == s["factual"]["truth_l1"] > 0
    # independent route: the exact twin of digit 0 rendered by the data set's SCM
    pa = {k: v[:1] for k, v in view.parents.items()}
    twin = DigitsGroundTruth().scm.render({**pa, "thickness": torch.tensor([5.0]), "intensity": torch.tensor([view.intensity])})
    assert float(pixel_l1(view.images[:1], twin)[0]) == pytest.approx(s["factual"]["truth_l1"], abs=1e-4)


def test_intensity_slider_is_followed_exactly_by_the_toy(view):
    view.intensity_slider.value = 250.0
    s = view.scores
    assert s["toy <exact>"]["intensity"] == pytest.approx(250.0, abs=0.5)
    assert s["ground truth"]["intensity"] == pytest.approx(250.0, abs=0.5)


def test_picking_another_digit_resets_the_sliders(view):
    view.thickness_slider.value = 5.5
    view.index_slider.value = 3
    assert view.index == 3 and view.thickness == pytest.approx(round(float(view.parents["thickness"][3]), 1))
    assert view.thickness_slider.value == view.thickness and view.intensity_slider.value == view.intensity
    assert f"digit {int(view.parents['digit'][3])}" in view.label.value
    assert view.scores["ground truth"]["truth_l1"] == 0.0


def test_drawn_at_display_size_with_escaped_names(view):
    width, height = png_size(view.image.value)
    assert view.image.layout.width == f"{width / 2:g}px" and view.image.layout.height == "auto"
    assert width > 3 * height            # four panels in one row
    assert html.escape("toy <exact>") in view.table.value and "<exact>" not in view.table.value


def test_out_of_range_values_are_refused(view):
    with pytest.raises(WidgetValueError, match="outside 0..4"):
        view.index = 5
    with pytest.raises(WidgetValueError, match="pixels"):
        view.thickness = 0.2
    with pytest.raises(WidgetValueError, match="grey levels"):
        view.intensity = 20.0
