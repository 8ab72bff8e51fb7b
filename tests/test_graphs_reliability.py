"""Graphs take a bare node name as one node, refuse non-graphs, and draw any name literally.

Reproducers from issue 11 ("no silent wrong answers").
"""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from workbench.errors import GraphError  # noqa: E402
from workbench.graphs import admg, ancestors, dag, descendants, mutilate  # noqa: E402
from workbench.plots.graphs import draw_graph  # noqa: E402
from workbench.plots.png import figure_to_png  # noqa: E402
from workbench.graphs.separators import SearchLimitError, minimal_d_separators  # noqa: E402

TRAP = dag([("x", "ab"), ("a", "b")])   # "ab" is a node; so are "a" and "b"


def test_ancestors_of_a_string_is_that_node():
    """Before: ancestors(g, "ab") returned {"a", "b"}, the ancestors of its characters."""
    assert ancestors(TRAP, "ab") == {"ab", "x"}
    assert ancestors(TRAP, ["a", "b"]) == {"a", "b"}
    assert descendants(TRAP, "x") == {"x", "ab"}


def test_mutilate_a_string_cuts_that_node():
    """Before: mutilate(g, "ab") removed a -> b and kept x -> ab."""
    assert sorted(mutilate(TRAP, "ab").edges()) == [("a", "b")]
    assert sorted(mutilate(TRAP, ["ab"]).edges()) == [("a", "b")]


def test_tuple_and_integer_nodes():
    g = dag([((0, 1), 2), (0, 1)])
    assert ancestors(g, (0, 1)) == {(0, 1)}              # a tuple that is a node
    assert ancestors(g, 1) == {0, 1}                     # an integer: no iteration
    assert sorted(mutilate(g, 1).edges(), key=str) == [((0, 1), 2)]


def test_non_graphs_are_refused_with_a_graph_error():
    for bad in ("x -> y", [("x", "y")], None):
        with pytest.raises(GraphError, match="networkx.DiGraph"):
            ancestors(bad, "x")
        with pytest.raises(GraphError):
            mutilate(bad, "x")


@pytest.mark.parametrize("name", ["$\\frac$", "$x$", "a$b", "50% $"])
def test_dollar_names_are_drawn_literally(name):
    """Before: a node named $\\frac$ crashed matplotlib's mathtext parser."""
    ax = draw_graph(admg([(name, "y")], bidirected=[(name, "y")]), title=f"do({name})")
    png = figure_to_png(ax.figure)
    assert png[:4] == b"\x89PNG"
    texts = [t.get_text() for t in ax.texts]
    assert name in texts and ax.get_title() == f"do({name})"


def test_dollar_names_in_diagram_and_scm_figures():
    from workbench.diagrams import causal_diagram
    from workbench.plots.diagrams import draw
    from workbench.plots.scm import DistributionView, distribution_comparison

    name = "$\\frac$"
    ax = draw(causal_diagram(dag([(name, "y")]), {name: 2, "y": 2}), title=name)
    figure_to_png(ax.figure)
    assert name in [t.get_text() for t in ax.texts]
    ax = distribution_comparison(torch.zeros(50), torch.ones(50), name=name, label=f"do({name}=1)")
    figure_to_png(ax.figure)
    assert ax.get_xlabel() == name
    view = DistributionView(torch.randn(100), name=name)
    assert view.update(torch.randn(100), label=f"do({name}=1)")[:4] == b"\x89PNG"


def test_minimal_separators_bound_says_so():
    """k disjoint two-step paths have 2^k minimal separators: the bound raises, never truncates."""
    edges = [e for i in range(6) for e in [("x", f"a{i}"), (f"a{i}", f"b{i}"), (f"b{i}", "y")]]
    g = dag(edges)
    assert len(minimal_d_separators(g, "x", "y")) == 2 ** 6
    with pytest.raises(SearchLimitError, match="More than 10 minimal separators"):
        minimal_d_separators(g, "x", "y", max_sets=10)
