"""The first widget: its numbers follow the closed form, and bad values are refused."""

from __future__ import annotations

import pytest
import torch

from workbench.errors import WidgetValueError, WorkbenchInputError
from workbench.widgets.start import ConfoundingExplorer, observational_slope, sample_confounded


@pytest.mark.parametrize("c,b", [(0.0, 0.5), (1.0, 0.5), (-2.0, 1.5), (3.0, -1.0)])
def test_closed_form_slope_matches_least_squares(c, b):
    data = sample_confounded(c, b, n=400_000, seed=3)
    x, y = data["X"], data["Y"]
    fitted = float(((x - x.mean()) * (y - y.mean())).mean() / x.var())
    assert fitted == pytest.approx(observational_slope(c, b), abs=0.02)


def test_intervening_recovers_the_effect_where_observing_does_not():
    # do(X = x): replace X's mechanism by the constant, keep Z and Y's noise.
    c, b, n = 1.5, 0.5, 200_000
    g = torch.Generator().manual_seed(0)
    z, ey = torch.randn(2, n, generator=g)
    y_at = lambda x: b * x + c * z + ey  # noqa: E731
    assert float((y_at(1.0) - y_at(0.0)).mean()) == pytest.approx(b)
    assert observational_slope(c, b) > b + 0.5


def test_sliders_drive_the_state_and_readout():
    w = ConfoundingExplorer(n=100)
    w.confounding_slider.value = 2.0
    w.effect_slider.value = -1.0
    assert w.confounding == 2.0 and w.effect == -1.0
    assert w.observational == pytest.approx(-1.0 + 4.0 / 5.0)
    assert "-0.20" in w.readout.value
    spec = w.chart.chart.to_dict()
    end = spec["layer"][1]["data"]["values"][1]
    assert end["y"] == pytest.approx(end["x"] * (-0.2))


@pytest.mark.parametrize("c", [0.0, 1.6, 3.0])
def test_every_point_is_in_view_and_the_legend_has_no_placeholder_title(c):
    w = ConfoundingExplorer(n=300)
    w.confounding, w.effect = c, 3.0
    spec = w.chart.chart.to_dict()
    points = spec["layer"][0]
    x_dom = points["encoding"]["x"]["scale"]["domain"]
    y_dom = points["encoding"]["y"]["scale"]["domain"]
    for p in points["data"]["values"]:
        assert x_dom[0] <= p["X"] <= x_dom[1] and y_dom[0] <= p["Y"] <= y_dom[1]
    assert spec["layer"][1]["encoding"]["color"]["title"] is None


@pytest.mark.parametrize("name", ["confounding", "effect"])
def test_out_of_range_values_are_refused(name):
    w = ConfoundingExplorer(n=50)
    with pytest.raises(WidgetValueError, match=name):
        setattr(w, name, 10.0)
    assert getattr(w, name) != 10.0


def test_observational_is_read_only():
    w = ConfoundingExplorer(n=50)
    with pytest.raises(Exception):
        w.observational = 3.0


@pytest.mark.parametrize("kwargs, match", [
    ({"n": -10}, "number of samples"),
    ({"n": 0}, "number of samples"),
    ({"n": 2.5}, "number of samples"),
    ({"n": True}, "number of samples"),
    ({"seed": -1}, "seed must be"),
    ({"seed": 2**64}, "seed must be"),
    ({"confounding": float("nan")}, "confounding must be a finite number"),
    ({"effect": float("inf")}, "effect must be a finite number"),
    ({"effect": "0.5"}, "effect must be a finite number"),
])
def test_bad_sample_settings_are_typed_errors(kwargs, match):
    args = {"confounding": 1.0, "effect": 0.5, **kwargs}
    with pytest.raises(WorkbenchInputError, match=match):
        sample_confounded(**args)


def test_numpy_integers_and_floats_are_accepted_and_draw_the_same_samples():
    import numpy as np

    plain = sample_confounded(1.0, 0.5, n=7, seed=3)
    from_numpy = sample_confounded(np.float64(1.0), np.float32(0.5), n=np.int64(7), seed=np.int32(3))
    assert all(torch.equal(plain[k], from_numpy[k]) for k in plain)


def test_the_explorer_refuses_a_bad_sample_size_before_building_anything():
    with pytest.raises(WorkbenchInputError, match="number of samples"):
        ConfoundingExplorer(n=-1)
