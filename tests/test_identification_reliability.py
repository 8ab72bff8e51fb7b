"""Identification refuses what it cannot answer: positivity, bad tables, unsafe names, scale.

Each test is a reproducer from issue 11 ("no silent wrong answers").
"""

import itertools
import re
import warnings

import networkx as nx
import pytest
import torch

from workbench.errors import NotIdentifiableError, UnknownVariableError, WorkbenchInputError
from workbench.graphs import admg, d_separated, dag
from workbench.identification import (
    FIXTURES, DiscreteTable, Probability, backdoor_estimand, backdoor_sets, check_backdoor,
    frontdoor_estimand, identify, random_admg, random_discrete_model,
)
from workbench.identification.criteria import _backdoor_candidates
from workbench.identification.docalculus import cut_outgoing
from workbench.identification.expressions import latex_name
from workbench.identification.tables import NotADistributionError, PositivityError, PositivityWarning


def _backdoor_joint_with_empty_cell():
    """The back-door fixture's exact joint (axes z, x, y) with the cell x=1, z=0 emptied."""
    joint = random_discrete_model(FIXTURES["backdoor"].graph, seed=0).observational()
    assert joint.variables == ("z", "x", "y")
    values = joint.values.clone()
    values[0, 1, :] = 0.0
    return DiscreteTable(joint.variables, values / values.sum())


# ------------------------------------------------------------- item 1: positivity
def test_positivity_violation_is_refused_and_names_the_empty_cell():
    """Before: rows of P(y | do(x)) summed to [1.0, 0.63] and nothing said so."""
    table = _backdoor_joint_with_empty_cell()
    with pytest.raises(PositivityError, match=r"x=1") as info:
        backdoor_estimand("x", "y", "z").evaluate(table)
    message = str(info.value)
    assert "P(x=1, z=0) = 0" in message and "on_undefined='nan'" in message
    assert isinstance(info.value, NotIdentifiableError)
    with pytest.raises(PositivityError):
        identify(FIXTURES["backdoor"].graph, "x", "y").evaluate(table)


def test_positivity_flag_gives_nan_exactly_for_the_undefined_rows():
    table = _backdoor_joint_with_empty_cell()
    with pytest.warns(PositivityWarning, match=r"P\(x=1, z=0\) = 0"):
        effect = backdoor_estimand("x", "y", "z").evaluate(table, on_undefined="nan")
    rows = effect.permute(("x", "y")).values
    assert torch.isnan(rows[1]).all()                       # x = 1: undefined
    assert torch.allclose(rows[0].sum(), torch.tensor(1.0, dtype=torch.float64))
    # the defined row is the back-door formula by hand
    t = table.values
    pz = t.sum((1, 2))
    by_hand = (t[:, 0, :] / t[:, 0, :].sum(1, keepdim=True) * pz[:, None]).sum(0)
    assert torch.allclose(rows[0], by_hand)


def test_zero_weight_cells_are_not_a_positivity_violation():
    """An empty P(z=0) cell has weight 0 in sum_z P(y|x,z) P(z): the answer is defined."""
    joint = random_discrete_model(FIXTURES["backdoor"].graph, seed=1).observational()
    values = joint.values.clone()
    values[0] = 0.0                                          # z = 0 never happens
    table = DiscreteTable(joint.variables, values / values.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        effect = backdoor_estimand("x", "y", "z").evaluate(table).permute(("x", "y")).values
    t = table.values[1]                                      # only z = 1 remains
    assert torch.allclose(effect, t / t.sum(1, keepdim=True))


def test_frontdoor_positivity_and_on_undefined_value_checked():
    joint = random_discrete_model(FIXTURES["frontdoor"].graph, seed=0).observational()
    values = joint.values.clone()
    index = [slice(None)] * 3
    index[joint.variables.index("x")] = 0
    values[tuple(index)] = 0.0                               # x = 0 never observed
    table = DiscreteTable(joint.variables, values / values.sum())
    with pytest.raises(PositivityError, match="x=0"):
        frontdoor_estimand("x", "y", "z").evaluate(table)
    with pytest.raises(WorkbenchInputError, match="on_undefined"):
        frontdoor_estimand("x", "y", "z").evaluate(table, on_undefined="zero")


# ----------------------------------------------------------- item 6: bad tables
def test_from_samples_refuses_fractional_values():
    """Before: [0.7, 1.2, 0] was truncated to [0, 1, 0]."""
    with pytest.raises(WorkbenchInputError, match="whole numbers"):
        DiscreteTable.from_samples({"x": torch.tensor([0.7, 1.2, 0.0])})
    ok = DiscreteTable.from_samples({"x": torch.tensor([0.0, 1.0, 1.0])})
    assert ok.values.tolist() == pytest.approx([1 / 3, 2 / 3])


def test_negative_tables_are_refused():
    with pytest.raises(WorkbenchInputError, match="negative"):
        DiscreteTable(("x",), torch.tensor([-1.0, 2.0]))


def test_unnormalised_joint_is_refused_by_evaluate():
    """Before: an estimand evaluated on four times a distribution summed to 16."""
    table = DiscreteTable(("x", "y"), torch.ones(2, 2))
    with pytest.raises(NotADistributionError, match="sum to 4, not 1"):
        Probability(["y"], ["x"]).evaluate(table)
    with pytest.raises(NotADistributionError):
        identify(admg([("x", "y")]), "x", "y").evaluate(table)


# ---------------------------------------------------------------- messages
def test_unknown_adjustment_variable_is_called_an_adjustment_variable():
    with pytest.raises(UnknownVariableError, match="Unknown adjustment variable 'q'"):
        check_backdoor(FIXTURES["backdoor"].graph, "x", "y", "q")


@pytest.mark.parametrize("name", [r"a}\href{https://evil.example}{click", "a$b", "50%", "x^2", "c#d&e~"])
def test_tex_specials_in_names_are_escaped(name):
    r"""Before: ``a}\href{...}{click`` closed the \text{} group and reached the LaTeX raw."""
    latex = latex_name(name)
    # the output is nothing but plain text runs and escapes of single characters
    rest = re.sub(r"\\text\{[^\\{}$&#%_^~]*\}", "", latex)
    for escape in (r"\{", r"\}", r"\$", r"\%", r"\#", r"\&", r"\_", r"\backslash{}",
                   r"\hat{}", r"\sim{}"):
        rest = rest.replace(escape, "")
    assert rest == "", latex
    assert latex in backdoor_estimand("x", "y", name).to_latex()


def test_plain_names_keep_their_latex():
    assert latex_name("x1") == "x_{1}"
    assert latex_name("x") == "x"
    assert latex_name("smoking") == r"\text{smoking}"
    assert latex_name("smoking_status") == r"\text{smoking}\_\text{status}"


# ------------------------------------------------------------- backdoor_sets scale
def _brute_force_minimal_sets(graph, x, y):
    g = graph if hasattr(graph, "directed") else admg(graph.edges())
    xs, ys = {x}, {y}
    cands = _backdoor_candidates(g, xs, ys)
    cut = cut_outgoing(g, xs)
    found = []
    for k in range(len(cands) + 1):
        for combo in itertools.combinations(cands, k):
            s = frozenset(combo)
            if not any(f <= s for f in found) and d_separated(cut, xs, ys, s):
                found.append(s)
    return found


def test_backdoor_sets_with_eighteen_confounders_is_immediate():
    """Before: 2^18 subsets searched (115 s). Now one pass over the minimal separators."""
    edges = [("x", "y")] + [(f"c{i}", t) for i in range(18) for t in ("x", "y")]
    assert backdoor_sets(dag(edges), "x", "y") == [frozenset(f"c{i}" for i in range(18))]


def test_backdoor_sets_chain_of_confounders_has_one_set_per_link():
    edges = [("x", "y"), ("a0", "x")] + [(f"a{i}", f"a{i + 1}") for i in range(15)] + [("a15", "y")]
    sets = backdoor_sets(dag(edges), "x", "y")
    assert sorted(sets, key=lambda s: sorted(s)) == sorted(
        [frozenset({f"a{i}"}) for i in range(16)], key=lambda s: sorted(s))


@pytest.mark.parametrize("seed", range(12))
def test_backdoor_sets_equal_brute_force_on_random_graphs(seed):
    g = random_admg(7, seed=seed, p_directed=0.4, p_bidirected=0.15)
    order = list(nx.topological_sort(g.directed))
    x, y = order[1], order[-1]
    ours = backdoor_sets(g, x, y)
    brute = _brute_force_minimal_sets(g, x, y)
    assert set(ours) == set(brute)
    assert ours == sorted(ours, key=lambda s: (len(s), sorted(map(str, s))))
    assert backdoor_sets(g, x, y, max_size=1) == [s for s in ours if len(s) <= 1]
