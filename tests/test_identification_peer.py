"""Agreement with y0 (peer ID implementation) and with Pyro/ChiRho sampling of the SCM.

Verdicts must match y0's on the fixtures and on random ADMGs. Where y0 returns an
estimand we also evaluate *it* on the exact table: the generating model's truth is the
judge (y0 has reported wrong estimands in its issue tracker). Cases where y0 raises
are recorded and skipped, not counted as agreement.
"""

import pytest
import torch

from workbench.identification import (
    FIXTURES, DiscreteCPTModel, DiscreteTable, identify, random_admg, random_discrete_model,
    random_query,
)

y0_bridge = pytest.importorskip("workbench.identification.y0_bridge")
pytest.importorskip("y0")


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_verdicts_match_y0(name):
    f = FIXTURES[name]
    ours = identify(f.graph, f.treatments, f.outcomes)
    theirs = y0_bridge.y0_identify(f.graph, f.treatments, f.outcomes)
    assert ours.identifiable == (theirs is not None)
    if theirs is not None and name != "napkin":  # napkin: see the next test
        model = random_discrete_model(f.graph, seed=0)
        truth = model.interventional(f.treatments, f.outcomes)
        assert theirs.evaluate(model.observational()).max_abs_diff(truth) < 1e-10


def test_napkin_truth_wins_over_y0():
    """y0 0.2.11 answers P(y | x) on the napkin graph; the generating model disagrees.

    On this model (seed 1, concentration 0.3) the gap is about 0.12, while our estimand
    (a ratio of two sums over w1) matches the truth to rounding error.
    """
    f = FIXTURES["napkin"]
    model = random_discrete_model(f.graph, seed=1, concentration=0.3)
    joint, truth = model.observational(), model.interventional("x", "y")
    ours = identify(f.graph, "x", "y").estimand
    assert ours.evaluate(joint).max_abs_diff(truth) < 1e-10
    theirs = y0_bridge.y0_identify(f.graph, "x", "y")
    gap = theirs.evaluate(joint).max_abs_diff(truth)
    print(f"y0's napkin estimand {theirs}: max error {gap:.3f} against the truth")
    assert gap > 0.05 or str(theirs) != "P(y | x)"  # y0 fixed: then it must be a new formula


def test_random_verdicts_match_y0_and_truth():
    compared, y0_errors, y0_wrong = 0, [], []
    for seed in range(80):
        g = random_admg(6, p_directed=0.4, p_bidirected=0.25, seed=seed)
        x, y = random_query(g, n_treatments=1 + seed % 2, n_outcomes=1 + (seed // 2) % 2, seed=seed)
        ours = identify(g, x, y)
        try:
            theirs = y0_bridge.y0_identify(g, x, y)
        except Exception as exc:  # y0 crashes on some graphs; record, do not count
            y0_errors.append((seed, type(exc).__name__))
            continue
        compared += 1
        assert ours.identifiable == (theirs is not None), (seed, g, x, y)
        if theirs is not None:
            model = random_discrete_model(g, seed=seed)
            truth = model.interventional(x, y)
            assert ours.estimand.evaluate(model.observational()).max_abs_diff(truth) < 1e-9
            if theirs.evaluate(model.observational()).max_abs_diff(truth) > 1e-9:
                y0_wrong.append(seed)
    assert compared >= 70, y0_errors
    print(f"compared {compared}; y0 raised on {y0_errors}; y0 estimand wrong on {y0_wrong}")


def test_scm_sampling_with_chirho_do_agrees_with_enumeration():
    """Sample the same model through workbench.scm (Pyro program, ChiRho do)."""
    f = FIXTURES["napkin"]
    model = random_discrete_model(f.graph, seed=4)
    scm = model.to_scm()
    assert set(scm.observed) == set(model.observed)
    back = DiscreteCPTModel.from_scm(scm)
    assert back.observational().max_abs_diff(model.observational()) < 1e-6
    truth = model.interventional("x", "y").permute(("x", "y")).values
    n = 40_000
    for value in (0, 1):
        s = scm.do(x=torch.tensor(value)).sample(n, seed=value)
        assert bool((s["x"] == value).all())
        empirical = DiscreteTable.from_samples({"y": s["y"]}, {"y": 2}).values
        # 4 standard errors of a proportion from 40k draws is at most 0.01
        assert torch.allclose(empirical, truth[value], atol=0.01)
    obs = scm.sample(n, seed=7)
    empirical = DiscreteTable.from_samples(obs, model.cardinalities)
    assert empirical.max_abs_diff(model.observational()) < 0.015


@pytest.mark.parametrize("n", [10, 20])
def test_verdicts_match_y0_on_larger_random_graphs(n):
    compared = 0
    for seed in range(25):
        g = random_admg(n, p_directed=3.0 / n, p_bidirected=4.0 / n, seed=seed)
        x, y = random_query(g, n_treatments=1 + seed % 2, n_outcomes=1 + (seed // 2) % 2, seed=seed)
        ours = identify(g, x, y)
        try:
            theirs = y0_bridge.y0_identify(g, x, y)
        except Exception:
            continue
        compared += 1
        assert ours.identifiable == (theirs is not None), (seed, g, x, y)
    assert compared >= 20
