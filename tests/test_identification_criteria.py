"""Back-door / front-door criteria and the three rules of do-calculus.

Each rule is checked two ways: its d-separation verdict on the fixtures, and (where it
holds) the numerical equality it licenses, computed by enumeration on a random model.
"""

import pytest
import torch

from workbench.graphs import admg
from workbench.identification import (
    FIXTURES, OverlappingVariablesError, backdoor_estimand, backdoor_sets, check_backdoor,
    check_frontdoor, frontdoor_effect, frontdoor_estimand, identify, minimal_backdoor_set,
    random_admg, random_discrete_model, random_query, rule1, rule2, rule3,
)

#   backdoor: z -> x -> y, z -> y        frontdoor: x -> z -> y, x <-> y
#   m_bias:   x -> y, x <-> m <-> y      (conditioning on the collider m opens x <-> m <-> y)


def test_backdoor_on_fixtures():
    g = FIXTURES["backdoor"].graph
    assert check_backdoor(g, "x", "y", {"z"}).holds
    assert not check_backdoor(g, "x", "y", set()).holds
    m = FIXTURES["m_bias"].graph
    assert check_backdoor(m, "x", "y", set()).holds
    assert not check_backdoor(m, "x", "y", {"m"}).holds     # M-bias: adjusting opens a path
    assert backdoor_sets(m, "x", "y") == [frozenset()]
    fd = FIXTURES["frontdoor"].graph
    assert backdoor_sets(fd, "x", "y") == []
    assert minimal_backdoor_set(fd, "x", "y") is None
    check = check_backdoor(fd, "x", "y", {"z"})
    assert [ok for _, ok in check.conditions] == [False, False]
    assert "✗" in check.to_markdown()


def test_backdoor_adjustment_equals_truth_on_random_graphs():
    tested = 0
    for seed in range(60):
        g = random_admg(6, p_directed=0.4, p_bidirected=0.15, seed=seed)
        x, y = random_query(g, seed=seed)
        sets = backdoor_sets(g, x, y)
        one = minimal_backdoor_set(g, x, y)
        assert (one is None) == (not sets)
        if one is not None:
            assert check_backdoor(g, x, y, one).holds
            model = random_discrete_model(g, seed=seed)
            truth = model.interventional(x, y)
            for z in sets + [one]:
                est = backdoor_estimand(x, y, z).evaluate(model.observational())
                assert est.max_abs_diff(truth) < 1e-10, (seed, g, x, y, z)
            tested += 1
            assert identify(g, x, y).identifiable  # back-door admissible implies identifiable
    assert tested > 10


def test_frontdoor_criterion_and_effect():
    fd = FIXTURES["frontdoor"].graph
    assert check_frontdoor(fd, "x", "y", "z").holds
    bd = FIXTURES["backdoor"].graph
    assert not check_frontdoor(bd, "x", "y", "z").holds
    model = random_discrete_model(fd, seed=5, cardinality={"x": 2, "z": 3, "y": 2})
    joint = model.observational()
    truth = model.interventional("x", "y").permute(("x", "y")).values
    # the public call, on a named table and on a plain tensor with axes (x, z, y)
    assert torch.allclose(frontdoor_effect(joint, "x", "z", "y"), truth, atol=1e-12)
    assert torch.allclose(frontdoor_effect(joint.permute(("x", "z", "y")).values), truth, atol=1e-12)
    # and the same number as ID's estimand
    id_est = identify(fd, "x", "y").estimand.evaluate(joint)
    assert frontdoor_estimand("x", "y", "z").evaluate(joint).max_abs_diff(id_est) < 1e-12


def test_criteria_bad_input():
    g = FIXTURES["backdoor"].graph
    with pytest.raises(OverlappingVariablesError):
        check_backdoor(g, "x", "y", {"y"})
    with pytest.raises(KeyError, match="Did you mean 'z'"):
        check_backdoor(g, "x", "y", {"zz"})
    with pytest.raises(ValueError, match="treatment"):
        backdoor_sets(g, [], "y")


def test_rule_verdicts_on_frontdoor():
    fd = FIXTURES["frontdoor"].graph
    r = rule2(fd, y="z", z="x")           # P(z | do(x)) = P(z | x)
    assert r.holds and r.rule == 2 and r.graph_name == r"G_{\underline{x}}"
    assert not r.graph.directed.has_edge("x", "z")
    r = rule2(fd, y="y", z="z", x="x")    # P(y | do(x), do(z)) = P(y | do(x), z)
    assert r.holds and r.graph_name == r"G_{\overline{x}, \underline{z}}"
    r = rule3(fd, y="y", z="x", x="z")    # P(y | do(z), do(x)) = P(y | do(z))
    assert r.holds and str(r.lhs) == "P(y | do(x, z))" and str(r.rhs) == "P(y | do(z))"
    assert not rule3(fd, y="y", z="x").holds  # x does affect y
    r = rule1(fd, y="y", z="x", x="z")    # P(y | do(z), x) = P(y | do(z)) fails: x <-> y
    assert not r.holds and "!=" in r.statement and r"\neq" in r.to_latex()


def _do_table(model, y, do, given):
    """P(y | do(do), given) by enumeration, axes (do..., given..., y...)."""
    joint = model.interventional(sorted(do), sorted(set(y) | set(given)))
    return joint.conditional(sorted(y), sorted(do) + sorted(given))


@pytest.mark.parametrize("seed", range(25))
def test_rules_hold_numerically_when_they_say_so(seed):
    g = random_admg(5, p_directed=0.4, p_bidirected=0.2, seed=100 + seed)
    nodes = list(g.nodes)
    perm = torch.randperm(5, generator=torch.Generator().manual_seed(seed)).tolist()
    y, z, x, w = [nodes[perm[0]]], [nodes[perm[1]]], [nodes[perm[2]]], [nodes[perm[3]]]
    model = random_discrete_model(g, seed=seed)
    checks = [(rule1(g, y, z, x=x, w=w), x, z + w, x, w),
              (rule2(g, y, z, x=x, w=w), x + z, w, x, z + w),
              (rule3(g, y, z, x=x, w=w), x + z, w, x, w)]
    for check, do_l, given_l, do_r, given_r in checks:
        left = _do_table(model, y, do_l, given_l)
        right = _do_table(model, y, do_r, given_r)
        if check.holds:
            assert left.max_abs_diff(right) < 1e-9, (check.rule, g, y, z, x, w)


def test_random_rule_cases_exercise_both_verdicts():
    verdicts = {1: set(), 2: set(), 3: set()}
    for seed in range(25):
        g = random_admg(5, p_directed=0.4, p_bidirected=0.2, seed=100 + seed)
        nodes = list(g.nodes)
        perm = torch.randperm(5, generator=torch.Generator().manual_seed(seed)).tolist()
        y, z, x, w = [nodes[perm[0]]], [nodes[perm[1]]], [nodes[perm[2]]], [nodes[perm[3]]]
        for rule in (rule1, rule2, rule3):
            r = rule(g, y, z, x=x, w=w)
            verdicts[r.rule].add(r.holds)
    assert all(v == {True, False} for v in verdicts.values())
