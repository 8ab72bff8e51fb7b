"""Headless tests of the metrics dashboard: set traitlets, assert on Python state."""

import pytest

from workbench import metrics
from workbench.errors import NonFiniteValueError, UnknownVariableError, WidgetValueError
from workbench.widgets.metrics import SENSITIVITY_GRID, MetricsDashboard


@pytest.fixture(scope="module")
def models():
    return {
        "disentangled": metrics.constructed_codes("disentangled", n_points=1200, seed=0),
        "rotated": metrics.constructed_codes("rotated", n_points=1200, seed=0),
        "<b>redundant</b>": metrics.constructed_codes("redundant", n_points=1200, seed=0),
    }


@pytest.fixture()
def board(models):
    return MetricsDashboard(models, metrics=("mig", "modularity", "mcc"))


def test_scores_equal_direct_metric_calls_at_slider_values(board, models):
    board.bins = 8
    board.num_points = 700
    for name, (codes, factors) in models.items():
        assert board.scores[name]["mig"] == metrics.mig(codes[:700], factors[:700], bins=8).score
        assert board.scores[name]["mcc"] == metrics.mcc(codes[:700], factors[:700]).score
    assert board.bins_slider.value == 8 and board.points_slider.value == 700


def test_movement_is_the_change_from_the_published_choices(board, models):
    board.bins = 50
    codes, factors = models["rotated"]
    published = metrics.mig(codes, factors).score
    assert board.movement["rotated"] == pytest.approx(board.scores["rotated"]["mig"] - published)
    board.bins = 20
    assert board.movement["rotated"] == pytest.approx(0.0, abs=1e-12)


def test_slider_moves_update_state_and_charts(board):
    before = board.scores_view.chart.to_dict()
    board.bins_slider.value = 40
    assert board.bins == 40
    after = board.scores_view.chart.to_dict()
    assert before != after
    curve = board.curve_view.chart.to_dict()
    values = [row["value"] for row in curve["layer"][0]["data"]["values"]]
    assert sorted(set(values)) == list(SENSITIVITY_GRID)
    assert curve["layer"][1]["data"]["values"] == [{"value": 40.0}]


@pytest.mark.parametrize("trait,value", [("bins", 1), ("bins", 101), ("num_points", 50),
                                         ("num_points", 5000)])
def test_out_of_range_values_raise_widget_value_error(board, trait, value):
    old = getattr(board, trait)
    with pytest.raises(WidgetValueError):
        setattr(board, trait, value)
    assert getattr(board, trait) == old


def test_model_names_are_escaped_in_html(board):
    assert "&lt;b&gt;redundant&lt;/b&gt;" in board.readout.value
    assert "<b>redundant</b>" not in board.readout.value


def test_bad_construction_raises_typed_errors(models):
    with pytest.raises(UnknownVariableError):
        MetricsDashboard(models, metrics=("mgi",))
    codes, factors = models["rotated"]
    bad = codes.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(NonFiniteValueError):
        MetricsDashboard({"bad": (bad, factors)})
