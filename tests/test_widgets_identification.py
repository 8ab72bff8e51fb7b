"""IdentificationExplorer: set traitlets / box values and assert on Python state."""


import pytest

from workbench.errors import WidgetValueError
from workbench.graphs import admg
from workbench.identification import FIXTURES
from workbench.widgets.identification import IdentificationExplorer


@pytest.fixture(scope="module")
def napkin():
    f = FIXTURES["napkin"]
    return IdentificationExplorer(f.graph, ("x",), ("y",), n=20_000, seed=1)


def test_identifiable_query_shows_estimand_and_matches_truth(napkin):
    w = napkin
    w.treatments, w.outcomes = ("x",), ("y",)
    assert w.result.identifiable
    assert r"\mathrm{do}(x)" in w.estimand_view.value and r"\frac" in w.estimand_view.value
    assert "Line" in w.derivation_view.value and "<svg" in w.graph_view.value
    assert w.max_error_exact < 1e-10
    assert w.max_error_sampled < 0.08
    assert "truth" in w.comparison_view.value


def test_boxes_drive_the_traitlets(napkin):
    w = napkin
    w.outcome_box.value = ("w2",)
    assert w.outcomes == ("w2",)
    w.treatment_box.value = ("w1",)
    assert w.treatments == ("w1",) and str(w.result.estimand) == "P(w2 | w1)"
    # picking a node already used as the outcome is refused with a message, state unchanged
    w.treatment_box.value = ("w2",)
    assert w.treatments == ("w1",) and "both treatment and outcome" in w.estimand_view.value
    assert w.treatment_box.value == ("w1",)  # the box is put back too


def test_hedge_is_shown_and_highlighted():
    f = FIXTURES["iv"]
    w = IdentificationExplorer(f.graph, ("x",), ("y",), n=1000)
    assert not w.result.identifiable
    assert "not identifiable" in w.estimand_view.value
    assert "#f6b26b" in w.graph_view.value or "#F6B26B" in w.graph_view.value.upper()
    assert w.comparison_view.value == ""
    assert "Line 5" in w.derivation_view.value


def test_bad_values_raise_widget_value_error(napkin):
    with pytest.raises(WidgetValueError, match="Did you mean 'x'"):
        napkin.treatments = ("xx",)
    napkin.treatments, napkin.outcomes = ("x",), ("y",)
    with pytest.raises(WidgetValueError, match="both treatment and outcome"):
        napkin.outcomes = ("x",)


def test_names_are_escaped_in_html():
    g = admg([("<b>a</b>", "y")], bidirected=[])
    w = IdentificationExplorer(g, ("<b>a</b>",), ("y",), n=500)
    assert "<b>a</b>" not in w.estimand_view.value.replace("<b>not", "")
    assert "&lt;b&gt;a&lt;/b&gt;" in w.derivation_view.value


def test_editable_graph_rebuilds_model_and_answer():
    f = FIXTURES["bow"]
    w = IdentificationExplorer(f.graph, ("x",), ("y",), n=2000, editable=True)
    assert not w.result.identifiable
    # remove the confounder with the editor row: now identifiable, and the new SCM agrees
    w.confounder_a.value, w.confounder_b.value = "x", "y"
    w._edit_bidirected(add=False)
    assert w.bidirected == [] and w.result.identifiable and w.max_error_exact < 1e-10
    # a directed edge added in the SCM area's GraphEditor reaches the explorer
    assert w.editor.add_edge("y", "x") is False  # refused: would close a cycle
    w.outcomes = ()
    w.treatments = ("y",)
    w.outcomes = ("x",)
    assert w.result.identifiable and str(w.result.estimand) == "P(x)"
    with pytest.raises(WidgetValueError, match="two different nodes"):
        w.bidirected = [["x", "x"]]
    w.bidirected = [["x", "y"]]
    assert w.result.identifiable  # P(x | do(y)) = P(x): y is a descendant of x
    w.outcomes = ()
    w.treatments, w.outcomes = ("x",), ("y",)
    assert not w.result.identifiable and w.result.hedge.F == frozenset({"x", "y"})
    # removing x -> y in the GraphEditor: x no longer affects y, so P(y | do(x)) = P(y)
    assert w.editor.remove_edge("x", "y")
    assert w.result.identifiable and str(w.result.estimand) == "P(y)"
    assert w.max_error_exact < 1e-10
