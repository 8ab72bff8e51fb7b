"""The surgery widget: state in traitlets, three routes side by side, escaped HTML."""

import matplotlib

matplotlib.use("Agg")

import html  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from workbench.diagrams import causal_tables, interventional_kernel  # noqa: E402
from workbench.errors import WidgetValueError  # noqa: E402
from workbench.graphs import dag  # noqa: E402
from workbench.widgets.diagrams import SurgeryWidget  # noqa: E402


@pytest.fixture(scope="module")
def widget():
    return SurgeryWidget()


def test_default_query_three_ways_agree_with_the_truth(widget):
    widget.value, widget.outcome = "smoking", "cancer"
    assert set(widget.results) == {"surgery", "do-calculus", "pyro do", "truth"}
    truth = interventional_kernel(widget.model, "smoking", ["cancer"]).table
    for route, table in widget.results.items():
        assert torch.allclose(torch.tensor(table, dtype=torch.float64), truth, atol=1e-6), route
    assert widget.agree
    assert widget.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_changing_the_variable_recomputes_and_redraws(widget):
    widget.value, widget.outcome = "smoking", "cancer"
    before = widget.image.value
    widget.variable_picker.value = "tar"                 # the dropdown drives the trait
    assert widget.value == "tar"
    assert widget.image.value != before
    # tar has an observed parent: the string-diagram condition fails, with its reason shown
    assert "condition 1" in widget.results["surgery"]
    assert "condition 1" in widget.table.value
    # the do-calculus (back-door through smoking) and Pyro still answer, and agree
    truth = interventional_kernel(widget.model, "tar", ["cancer"]).table
    assert torch.allclose(torch.tensor(widget.results["do-calculus"], dtype=torch.float64), truth, atol=1e-6)
    assert torch.allclose(torch.tensor(widget.results["pyro do"], dtype=torch.float64), truth, atol=1e-5)
    assert widget.agree


def test_outcome_moves_away_from_the_intervened_variable(widget):
    widget.value, widget.outcome = "smoking", "cancer"
    widget.value = "cancer"
    assert widget.outcome != "cancer"
    widget.outcome = "cancer"
    assert widget.value != "cancer"


def test_unknown_variables_raise_and_leave_the_state_alone(widget):
    widget.value, widget.outcome = "smoking", "cancer"
    with pytest.raises(WidgetValueError, match="observed variable"):
        widget.value = "genotype"                        # hidden: cannot be intervened on here
    with pytest.raises(WidgetValueError, match="observed variable"):
        widget.outcome = "cancr"
    assert (widget.value, widget.outcome) == ("smoking", "cancer")


def test_names_are_escaped_in_html():
    g = dag([("a<b>", "c&d")])
    model = causal_tables(g, {"a<b>": 2, "c&d": 2},
                         {"a<b>": torch.tensor([0.3, 0.7], dtype=torch.float64),
                          "c&d": torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64)})
    w = SurgeryWidget(model)
    assert "a&lt;b&gt;" in w.table.value and "a<b>" not in w.table.value
    assert "c&amp;d" in w.table.value
    # fully observed: surgery is P(c | a) here, and every route agrees
    assert torch.allclose(torch.tensor(w.results["surgery"], dtype=torch.float64),
                          model.tables["c&d"], atol=1e-10)
    assert w.agree


def test_heading_and_numbers_always_belong_to_the_same_query():
    w = SurgeryWidget()
    for value, outcome in [("tar", "cancer"), ("smoking", "tar"), ("cancer", "smoking")]:
        w.value, w.outcome = value, outcome
        assert f"P({w.outcome} | do({w.value}))" in w.table.value
        first_row = w.results["truth"][0]
        assert f"[{', '.join(f'{p:.4f}' for p in first_row)}]" in w.table.value


def test_an_error_message_is_shown_whole():
    w = SurgeryWidget(value="tar")
    message = w.results["surgery"]
    assert isinstance(message, str) and len(message) > 160
    assert html.escape(message) in w.table.value
