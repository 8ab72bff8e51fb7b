"""Headless tests of the SCM widgets: set values, assert on Python state."""


import ipywidgets as widgets
import pytest
import torch

from workbench.errors import CycleError, UnknownVariableError, WidgetValueError
from workbench.scm import SCM, LinearGaussian, backdoor_example, random_linear_scm, smoking_front_door
from workbench.widgets.scm import CounterfactualPanel, GraphEditor, InterventionPanel


# ------------------------------------------------------------------ graph editor
def test_editor_adds_and_removes_edges():
    e = GraphEditor(["a", "b", "c"], [("a", "b")])
    png = e.image.value
    assert e.add_edge("b", "c") and e.edges == [["a", "b"], ["b", "c"]]
    assert e.image.value != png
    assert sorted(e.graph.edges()) == [("a", "b"), ("b", "c")]
    assert e.remove_edge("a", "b") and e.edges == [["b", "c"]]
    assert not e.remove_edge("a", "b") and "no edge" in e.message


def test_editor_refuses_a_cycle_explains_and_keeps_state():
    e = GraphEditor(["a", "b", "c"], [("a", "b"), ("b", "c")])
    before = list(e.edges)
    assert e.add_edge("c", "a") is False
    assert e.edges == before
    assert "cycle a → b → c → a" in e.message
    assert "cycle" in e.status.value
    with pytest.raises(CycleError, match="cycle"):
        e.edges = before + [["c", "a"]]
    assert e.edges == before
    assert e.add_edge("a", "a") is False and e.edges == before  # a self-loop is a cycle too


def test_editor_buttons_use_the_dropdowns():
    e = GraphEditor(["a", "b"])
    e.source.value, e.target.value = "a", "b"
    e.add_button.click()
    assert e.edges == [["a", "b"]]
    e.source.value, e.target.value = "b", "a"
    e.add_button.click()
    assert e.edges == [["a", "b"]] and "Refused" in e.message
    e.source.value, e.target.value = "a", "b"
    e.remove_button.click()
    assert e.edges == []


def test_editor_rejects_unknown_nodes_and_escapes_html():
    e = GraphEditor(["<b>x</b>", "y"])
    with pytest.raises(UnknownVariableError, match="Did you mean 'y'"):
        e.add_edge("<b>x</b>", "yy")
    e.add_edge("<b>x</b>", "y")
    assert "<b>x</b>" not in e.status.value and "&lt;b&gt;x&lt;/b&gt;" in e.status.value


def test_editor_starts_from_a_model():
    m = smoking_front_door()
    e = GraphEditor.for_scm(m)
    assert sorted(map(tuple, e.edges)) == sorted(m.graph.edges())
    assert e.add_edge("cancer", "genotype") is False and "cycle" in e.message


# ------------------------------------------------------------ intervention panel
def test_panel_has_one_standard_slider_per_observed_variable():
    p = InterventionPanel(smoking_front_door(), outcome="cancer", n=2000)
    assert set(p.sliders) == {"smoking", "tar", "cancer"}        # the latent has none
    assert all(isinstance(s, widgets.IntSlider) for s in p.sliders.values())
    q = InterventionPanel(backdoor_example(), n=2000)
    assert all(isinstance(s, widgets.FloatSlider) for s in q.sliders.values())


def test_moving_a_slider_intervenes_and_redraws():
    p = InterventionPanel(backdoor_example(), outcome="y", n=20000)
    png = p.image.value
    p.sliders["x"].value = 1.0
    assert p.interventions == {"x": 1.0} and p.active["x"].value is True
    assert p.image.value != png
    assert abs(p.interventional_mean - 1.5) < 0.1                 # E[y | do(x=1)] = 1.5
    assert abs(p.observational_mean) < 0.1
    p.active["x"].value = False
    assert p.interventions == {} and abs(p.interventional_mean - p.observational_mean) < 0.1


def test_panel_matches_the_model_for_a_discrete_outcome():
    m = smoking_front_door()
    p = InterventionPanel(m, outcome="cancer", n=20000)
    p.set_intervention("smoking", 1)
    truth = float(m.do(smoking=1).sample(200_000, seed=5)["cancer"].float().mean())
    assert abs(p.interventional_mean - truth) < 0.02
    assert p.sliders["smoking"].value == 1


def test_panel_outcome_and_state_validation():
    p = InterventionPanel(backdoor_example(), n=2000)
    p.outcome = "z"
    assert p.readout.value.startswith("<b>z</b>")
    with pytest.raises(UnknownVariableError, match="Did you mean 'x'"):
        p.interventions = {"xx": 0.0}
    with pytest.raises(WidgetValueError, match="range"):
        p.set_intervention("x", 1e6)
    with pytest.raises(UnknownVariableError):
        p.outcome = "w"
    d = InterventionPanel(smoking_front_door(), n=2000)
    with pytest.raises(WidgetValueError):
        d.set_intervention("smoking", 5)
    with pytest.raises(WidgetValueError):
        d.set_intervention("smoking", 0.5)
    assert d.interventions == {}


# --------------------------------------------------------- counterfactual panel
def test_counterfactual_panel_shows_factual_counterfactual_and_noise():
    m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, bias=1.0)})
    data = {"x": torch.tensor([1.0, 0.0]), "y": torch.tensor([3.5, 0.0])}
    p = CounterfactualPanel(m, data, target="x")
    p.value = 0.0
    assert float(p.result.counterfactual["y"]) == pytest.approx(1.5)   # u_y = 0.5 kept
    assert float(p.result.noise["U_y"]) == pytest.approx(0.5)
    assert "1.500" in p.table.value and "3.500" in p.table.value and "0.50" in p.table.value
    p.unit = 1
    assert float(p.result.counterfactual["y"]) == pytest.approx(0.0)   # do(x=0) is its factual x
    p.value = 1.0
    assert float(p.result.counterfactual["y"]) == pytest.approx(2.0)   # 2 * 1 + 1 + u_y, u_y = -1
    with pytest.raises(WidgetValueError, match="unit 2"):
        p.unit = 2
    with pytest.raises(WidgetValueError):
        p.value = 1e9
    with pytest.raises(UnknownVariableError):
        p.target = "z"


def test_counterfactual_panel_discrete_with_latent_shows_probabilities():
    m = smoking_front_door()
    data = m.sample(10, seed=0)
    p = CounterfactualPanel(m, data, target="smoking", n_samples=300)
    p.value = 1 - int(data["smoking"][0])
    assert p.result.counterfactual["cancer"].shape == (300, 1)
    assert "P(cancer=1)" in p.table.value or "P(tar=1)" in p.table.value
    with pytest.raises(WidgetValueError, match="discrete"):
        p.value = 0.5


def test_slider_steps_are_round_numbers_and_values_sit_on_the_grid():
    import math

    panel = InterventionPanel(backdoor_example(), outcome="y", n=2000)
    for slider in panel.sliders.values():
        mantissa = slider.step / 10 ** math.floor(math.log10(slider.step))
        assert round(mantissa, 9) in (1.0, 2.0, 5.0)
        for value in (slider.min, slider.max, slider.value):
            assert abs(value / slider.step - round(value / slider.step)) < 1e-6


def test_without_an_intervention_the_panel_compares_nothing():
    panel = InterventionPanel(backdoor_example(), outcome="y", n=2000)
    assert panel.interventional_mean == panel.observational_mean
    assert "no intervention yet" in panel.readout.value
    panel.set_intervention("x", 1.0)
    assert "do(x=1)" in panel.readout.value


def test_counterfactual_panel_draws_the_twin_network_and_the_unit_curve():
    from workbench.plots.counterfactuals import twin_network
    from workbench.widgets.images import png_size

    bd = backdoor_example()
    g, pos = twin_network(bd, "x")
    assert set(g.successors("U_z")) == {"z", "z*"} and set(g.successors("U_x")) == {"x"}
    assert not list(g.predecessors("x*")) and set(pos) == set(g.nodes)
    panel = CounterfactualPanel(bd, bd.sample(10, seed=1), target="x")
    width, _ = png_size(panel.picture.value)
    assert panel.picture.layout.width == f"{width / 2:g}px"      # drawn at 2x, shown at 1x
    before = panel.picture.value
    panel.value = 1.0
    assert panel.picture.value != before
