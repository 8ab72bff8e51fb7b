"""The ID algorithm: fixtures from the literature, random ADMGs, the derivation, the hedge.

Every identifiable estimand is evaluated on the *exact* observational table of a random
discrete model with explicit latents and compared with the model's true P(y | do(x)),
computed independently by enumeration with the treatment CPTs replaced.
"""

import pytest
import torch

from workbench.errors import CycleError, NotIdentifiableError, UnknownVariableError
from workbench.graphs import admg, dag
from workbench.identification import (
    FIXTURES, DiscreteTable, HedgeError, OverlappingVariablesError, identify,
    random_admg, random_discrete_model, random_query,
)

# The frozen fixtures, each a diagram of the graph (<-> is a hidden common cause):
#   backdoor   z -> x -> y, z -> y           frontdoor  x -> z -> y, x <-> y
#   napkin     w1 -> w2 -> x -> y, w1 <-> x, w1 <-> y
#   m_bias     x -> y, x <-> m <-> y         iv         z -> x -> y, x <-> y
#   bow        x -> y, x <-> y               verma      v1 -> v2 -> v3 -> v4, v2 <-> v4


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_verdict_matches_literature(name):
    f = FIXTURES[name]
    assert identify(f.graph, f.treatments, f.outcomes).identifiable == f.identifiable


@pytest.mark.parametrize("name", sorted(n for n, f in FIXTURES.items() if f.identifiable))
@pytest.mark.parametrize("seed", [0, 1])
def test_fixture_estimand_equals_truth_on_exact_table(name, seed):
    f = FIXTURES[name]
    model = random_discrete_model(f.graph, seed=seed, cardinality=3 if seed else 2)
    estimate = identify(f.graph, f.treatments, f.outcomes).estimand.evaluate(model.observational())
    truth = model.interventional(f.treatments, f.outcomes)
    # napkin and verma estimands mention a pre-treatment variable (w2, v1) on which
    # they do not depend (a Verma constraint): the comparison broadcasts over it
    assert estimate.max_abs_diff(truth) < 1e-10


def test_confounding_is_real_in_the_fixtures():
    """The truth differs from naive conditioning, so the test above can fail."""
    f = FIXTURES["frontdoor"]
    model = random_discrete_model(f.graph, seed=0)
    naive = model.observational().conditional(["y"], ["x"])
    assert naive.max_abs_diff(model.interventional("x", "y")) > 1e-3


@pytest.mark.parametrize("name", sorted(n for n, f in FIXTURES.items() if f.identifiable))
def test_fixture_estimand_close_to_truth_on_samples(name):
    f = FIXTURES[name]
    model = random_discrete_model(f.graph, seed=2)
    samples = model.sample(200_000, generator=torch.Generator().manual_seed(0))
    empirical = DiscreteTable.from_samples(samples, model.cardinalities)
    estimate = identify(f.graph, f.treatments, f.outcomes).estimand.evaluate(empirical)
    # 200k samples: standard errors of these probabilities are below ~0.005
    assert estimate.max_abs_diff(model.interventional(f.treatments, f.outcomes)) < 0.03


def test_frontdoor_estimand_and_derivation():
    f = FIXTURES["frontdoor"]
    result = identify(f.graph, "x", "y")
    assert str(result.estimand) == "sum_{z} P(z | x) [sum_{x} P(x) P(y | x, z)]"
    assert "x'" in result.estimand.to_latex()  # the bound x is primed in LaTeX
    assert result.derivation.lines == [4, 2, 6, 7, 2, 1]
    steps = result.derivation.steps
    assert steps[0].depth == 0 and steps[1].depth == 1 and steps[2].depth == 2
    assert steps[3].component == frozenset({"x", "y"})  # line 7 recurses into {x, y}
    assert all(s.result is not None for s in steps)
    md = result.to_markdown()
    assert "**Line 7**" in md and "c-component" in md
    assert r"\begin{enumerate}" in result.derivation.to_latex()


@pytest.mark.parametrize("name", ["bow", "iv"])
def test_hedge_for_non_identifiable(name):
    f = FIXTURES[name]
    result = identify(f.graph, f.treatments, f.outcomes)
    hedge = result.hedge
    assert hedge.F_prime < hedge.F
    assert hedge.F & set(f.treatments) and not hedge.F_prime & set(f.treatments)
    assert result.derivation.lines[-1] == 5
    with pytest.raises(HedgeError) as info:
        result.estimand
    assert info.value.hedge == hedge and isinstance(info.value, NotIdentifiableError)


def _hedge_is_valid(graph, hedge, x):
    """F, F' are single c-components, F' < F, F meets X, F' does not (Shpitser & Pearl Def. 4)."""
    f, fp = graph.subgraph(sorted(hedge.F)), graph.subgraph(sorted(hedge.F_prime))
    return (len(f.c_components()) == 1 and len(fp.c_components()) == 1
            and hedge.F_prime < hedge.F and bool(hedge.F & x) and not hedge.F_prime & x)


def _random_cases(count, n=6):
    for seed in range(count):
        g = random_admg(n, p_directed=0.4, p_bidirected=0.25, seed=seed)
        x, y = random_query(g, n_treatments=1 + seed % 2, n_outcomes=1 + (seed // 2) % 2, seed=seed)
        yield seed, g, set(x), set(y)


def test_random_admgs_estimands_equal_truth_or_hedge():
    identified = hedged = 0
    for seed, g, x, y in _random_cases(120):
        result = identify(g, x, y)
        if result.identifiable:
            identified += 1
            model = random_discrete_model(g, seed=seed)
            estimate = result.estimand.evaluate(model.observational())
            assert estimate.max_abs_diff(model.interventional(x, y)) < 1e-9, (seed, g, x, y)
        else:
            hedged += 1
            assert _hedge_is_valid(g, result.hedge, x), (seed, g, result.hedge)
    assert identified > 30 and hedged > 10  # both branches are exercised


def test_random_admgs_on_samples():
    checked = 0
    for seed, g, x, y in _random_cases(40):
        result = identify(g, x, y)
        if not result.identifiable or checked >= 5:
            continue
        model = random_discrete_model(g, seed=seed)
        samples = model.sample(100_000, generator=torch.Generator().manual_seed(seed))
        empirical = DiscreteTable.from_samples(samples, model.cardinalities)
        # conditionals on rare cells are noisy, so weight the error by how often x occurs
        truth = model.interventional(x, y)
        estimate = result.estimand.evaluate(empirical).expand(truth.cardinalities).permute(truth.variables)
        px = model.observational().marginal(x).permute([v for v in truth.variables if v in x])
        weights = px.values.reshape(px.values.shape + (1,) * len(y))
        assert float(((estimate.values - truth.values).abs() * weights).max()) < 0.03, (seed, g)
        checked += 1
    assert checked == 5


def test_no_treatment_is_a_marginal():
    g = admg([("a", "b")], bidirected=[("a", "b")])
    assert str(identify(g, (), "b").estimand) == "P(b)"


def test_dag_input_and_line_3():
    # x has no effect on y: y's estimand is P(y) whatever the confounding elsewhere
    g = dag([("x", "m"), ("y", "m")])
    result = identify(g, "x", "y")
    assert str(result.estimand) == "P(y)"
    assert 2 in result.derivation.lines


def test_bad_input_is_typed():
    g = FIXTURES["frontdoor"].graph
    with pytest.raises(UnknownVariableError, match="Did you mean 'x'"):
        identify(g, "xx", "y")
    with pytest.raises(UnknownVariableError, match="outcome"):
        identify(g, "x", "why")
    with pytest.raises(OverlappingVariablesError, match="both treatment and outcome"):
        identify(g, ["x", "z"], ["z", "y"])
    with pytest.raises(CycleError, match="cycle"):
        import networkx as nx
        identify(nx.DiGraph([("a", "b"), ("b", "a")]), "a", "b")
    with pytest.raises(ValueError, match="at least one outcome"):
        identify(g, "x", [])


def test_identification_evaluate_averages_out_verma_variables():
    f = FIXTURES["napkin"]
    result = identify(f.graph, "x", "y")
    assert "w2" in result.estimand.free_variables()
    model = random_discrete_model(f.graph, seed=3)
    exact = result.evaluate(model.observational())
    assert exact.variables == ("x", "y")
    assert exact.max_abs_diff(model.interventional("x", "y")) < 1e-10
    samples = model.sample(100_000, generator=torch.Generator().manual_seed(1))
    sampled = result.evaluate(DiscreteTable.from_samples(samples, model.cardinalities))
    assert sampled.variables == ("x", "y")
    assert sampled.max_abs_diff(model.interventional("x", "y")) < 0.03
