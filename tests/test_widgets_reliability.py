"""Widgets never show one value while holding another, and read node names as nodes.

Reproducers from issue 11 ("no silent wrong answers").
"""

import math

import pytest

from workbench.errors import UnknownVariableError, WidgetValueError
from workbench.graphs import admg
from workbench.identification import FIXTURES
from workbench.scm import random_linear_scm
from workbench.widgets.controls import FiniteFloatSlider
from workbench.widgets.identification import IdentificationExplorer
from workbench.widgets.scm import CounterfactualPanel, InterventionPanel
from workbench.widgets.start import ConfoundingExplorer


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_slider_value_is_refused_and_nothing_desynchronises(bad):
    """Before: effect_slider.value = nan showed NaN while the state kept 0.5."""
    w = ConfoundingExplorer(n=50)
    with pytest.raises(WidgetValueError, match="not a finite number"):
        w.effect_slider.value = bad
    assert w.effect_slider.value == w.effect == 0.5
    with pytest.raises(WidgetValueError):
        w.confounding_slider.value = bad
    assert w.confounding_slider.value == w.confounding == 1.0


def test_scm_panels_refuse_non_finite_slider_values():
    scm = random_linear_scm(4, seed=0)
    p = InterventionPanel(scm, n=500)
    slider = next(s for s in p.sliders.values() if isinstance(s, FiniteFloatSlider))
    before = slider.value
    with pytest.raises(WidgetValueError):
        slider.value = math.nan
    assert slider.value == before
    with pytest.raises(WidgetValueError):
        p.set_intervention(next(iter(p.sliders)), math.nan)
    c = CounterfactualPanel(scm, scm.sample(3, seed=0))
    with pytest.raises(WidgetValueError):
        c.value_slider.value = math.nan
    with pytest.raises(WidgetValueError):
        c.value = math.nan


def test_finite_slider_still_clamps_like_a_float_slider():
    s = FiniteFloatSlider(value=0.0, min=-1.0, max=1.0)
    s.value = 5.0
    assert s.value == 1.0


def test_integer_node_names_are_nodes_not_text():
    """Before: the boxes held '2' for the node 2, and the error said "Did you mean '2'?"."""
    g = admg([(0, 1), (1, 2)], bidirected=[(0, 2)])
    w = IdentificationExplorer(g, (0,), (2,), n=500)
    assert w.result.identifiable and w.max_error_exact < 1e-10
    w.outcome_box.value = (1,)
    assert w.outcomes == (1,)
    with pytest.raises(WidgetValueError) as info:
        w.treatments = ("2",)
    assert "Did you mean '2'" not in str(info.value) and "pass 2" in str(info.value)
    with pytest.raises(UnknownVariableError, match="pass 2"):
        raise UnknownVariableError("2", [0, 1, 2], what="node")


def test_positivity_failure_in_the_samples_is_shown_not_hidden():
    """With 6 samples some (x, z) cell is empty: the sampled estimate is undefined, and said so."""
    w = IdentificationExplorer(FIXTURES["backdoor"].graph, ("x",), ("y",), n=6, seed=0)
    assert w.max_error_exact < 1e-10
    assert math.isnan(w.max_error_sampled)
    assert "undefined" in w.comparison_view.value and "positivity" in w.comparison_view.value


def test_editable_explorer_keeps_integer_nodes():
    """Before: editable=True with integer nodes crashed ("Unknown node 0")."""
    g = admg([(0, 1), (1, 2)], bidirected=[(0, 2)])
    w = IdentificationExplorer(g, (0,), (2,), n=300, editable=True)
    assert w.result.identifiable
    w.confounder_a.value, w.confounder_b.value = 0, 2
    w._edit_bidirected(False)
    assert w.bidirected == [] and w.result.identifiable
    assert w.editor.add_edge(0, 2) and (0, 2) in w.graph.directed.edges()


def test_crl_sliders_refuse_nan():
    from workbench.crl import pendulum
    from workbench.latents import load_pretrained
    from workbench.widgets.crl import GraphView, InterventionExplorer

    model = load_pretrained("causal_vae_pendulum", device="cpu")
    reader = load_pretrained("factor_reader_pendulum", device="cpu")
    view = InterventionExplorer(model, reader, pendulum.factor_ranges())
    before = view.value
    with pytest.raises(WidgetValueError, match="not a finite number"):
        view.value_slider.value = math.nan
    assert view.value_slider.value == view.value == before
    graph = GraphView(model.prior, pendulum.TRUE_GRAPH, names=list(model.factor_names))
    with pytest.raises(WidgetValueError):
        graph.slider.value = math.inf
    assert graph.slider.value == graph.threshold
