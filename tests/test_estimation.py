"""Estimators of the back-door and front-door formulas: closed forms, equal routes, the
truth of the generating SCM (interval coverage at the nominal rate), and DoWhy."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import binom

import workbench.estimation as we
import workbench.identification as wi
from workbench.errors import WorkbenchInputError

BACKDOOR_EDGES = [("z", "x"), ("z", "y"), ("x", "y")]
FRONTDOOR_EDGES = [("u", "x"), ("u", "y"), ("x", "m"), ("m", "y")]


def _discrete(name: str, seed: int, n: int):
    """Samples of a random discrete SCM on a fixture graph, and its exact ATE."""
    graph = wi.FIXTURES[name].graph
    # model seeds whose every (x, z) cell has probability >= 0.05, so 1,000 units see them all
    model = wi.random_discrete_model(graph, seed={"backdoor": 6, "frontdoor": 0}[name],
                                     cardinality={"z": 3} if name == "backdoor" else 2)
    truth = model.interventional("x", "y").permute(("x", "y")).values[:, 1]
    data = model.sample(n, generator=torch.Generator().manual_seed(seed))
    return data, float(truth[1] - truth[0])


def _coverage(draw, estimate, reps: int = 100, level: float = 0.9):
    hits = 0
    for seed in range(reps):
        data, truth = draw(seed)
        hits += estimate(data).covers(truth)
    lo, hi = binom.ppf(0.001, reps, level), binom.ppf(0.999, reps, level)  # an exact 99.8% band
    assert lo <= hits <= hi, f"covered {hits} of {reps}; a {level:.0%} interval should cover {lo:.0f}-{hi:.0f}"


# ---------------------------------------------------------------- closed forms and equal routes

def test_plug_in_is_the_formula_by_hand():
    data, _ = _discrete("backdoor", seed=0, n=3000)
    z, x, y = data["z"], data["x"], data["y"].double()
    by_hand = sum(float((z == v).double().mean()) *
                  (float(y[(z == v) & (x == 1)].mean()) - float(y[(z == v) & (x == 0)].mean()))
                  for v in range(3))
    assert float(we.plug_in_backdoor(data, "x", "y", ["z"])) == pytest.approx(by_hand, abs=1e-12)


@pytest.mark.parametrize("kind", ["backdoor", "frontdoor"])
def test_saturated_estimators_are_one_number_on_discrete_data(kind):
    data, _ = _discrete(kind, seed=1, n=2000)
    w = we.resample_weights(2000, 5, seed=1)
    if kind == "backdoor":
        a = we.plug_in_backdoor(data, "x", "y", ["z"], w)
        b = we.regression_backdoor(data, "x", "y", ["z"], w, model="saturated")
        c = we.ipw_backdoor(data, "x", "y", ["z"], w, propensity="saturated")
    else:
        a = we.plug_in_frontdoor(data, "x", "z", "y", w)
        b = we.regression_frontdoor(data, "x", "z", "y", w, model="saturated")
        c = we.ipw_frontdoor(data, "x", "z", "y", w)
    assert torch.allclose(a, b, atol=1e-12) and torch.allclose(a, c, atol=1e-12)


def test_frontdoor_plug_in_equals_the_identified_estimand_on_the_empirical_table():
    data, _ = _discrete("frontdoor", seed=2, n=4000)
    table = wi.DiscreteTable.from_samples(data, {"x": 2, "z": 2, "y": 2})
    p = wi.frontdoor_effect(table, "x", "z", "y")
    p = torch.as_tensor(p)                                    # rows x, columns y
    assert float(we.plug_in_frontdoor(data, "x", "z", "y")) == pytest.approx(float(p[1, 1] - p[0, 1]), abs=1e-10)


def test_weights_of_ones_are_the_data_and_counts_are_resamples():
    data = we.linear_backdoor_scm().sample(500, seed=3)
    ones = torch.ones(1, 500, dtype=torch.float64)
    assert torch.equal(we.regression_backdoor(data, "x", "y", ["z"]), we.regression_backdoor(data, "x", "y", ["z"], ones))
    w = we.resample_weights(500, 1, seed=4)
    idx = torch.repeat_interleave(torch.arange(500), w[0].long())
    resampled = {k: v[idx] for k, v in data.items()}
    assert float(we.ipw_backdoor(data, "x", "y", ["z"], w)) == pytest.approx(
        float(we.ipw_backdoor(resampled, "x", "y", ["z"])), abs=1e-9)


# ---------------------------------------------------------------- coverage of the true effect

def test_backdoor_plug_in_interval_covers_the_truth_at_its_rate():
    _coverage(lambda s: _discrete("backdoor", s, 1000),
              lambda d: we.estimate_effect(d, "x", "y", adjustment=["z"], level=0.9, n_boot=200, seed=7))


@pytest.mark.parametrize("method", ["regression", "ipw"])
def test_continuous_backdoor_intervals_cover_the_truth_at_their_rate(method):
    scm, truth = we.linear_backdoor_scm(), we.TRUE_EFFECTS["linear_backdoor"]
    _coverage(lambda s: (scm.sample(1000, seed=100 + s), truth),
              lambda d: we.estimate_effect(d, "x", "y", adjustment=["z"], method=method, level=0.9, n_boot=200))


def test_frontdoor_intervals_cover_the_truth_at_their_rate():
    _coverage(lambda s: _discrete("frontdoor", s, 1000),
              lambda d: we.estimate_effect(d, "x", "y", mediator="z", level=0.9, n_boot=200, seed=7))
    scm, truth = we.linear_frontdoor_scm(), we.TRUE_EFFECTS["linear_frontdoor"]
    _coverage(lambda s: (scm.sample(1000, seed=200 + s), truth),
              lambda d: we.estimate_effect(d, "x", "y", mediator="m", method="regression", level=0.9, n_boot=200))


def test_the_true_effects_are_those_of_the_generating_scms():
    for name, scm in [("linear_backdoor", we.linear_backdoor_scm()), ("linear_frontdoor", we.linear_frontdoor_scm())]:
        one, zero = scm.do(x=1.0).sample(200_000, seed=5), scm.do(x=0.0).sample(200_000, seed=5)
        assert float(one["y"].mean() - zero["y"].mean()) == pytest.approx(we.TRUE_EFFECTS[name], abs=0.02)


# ---------------------------------------------------------------- DoWhy on the same data

@pytest.fixture(scope="module")
def peer():
    pytest.importorskip("dowhy")
    from workbench.estimation.peers import dowhy_effect
    return dowhy_effect


def test_regression_matches_dowhy(peer):
    data = we.linear_backdoor_scm().sample(2000, seed=11)
    theirs = peer(data, BACKDOOR_EDGES, "x", "y", "back-door", "regression")
    additive = we.estimate_effect(data, "x", "y", adjustment=["z"], method="regression", model="additive")
    assert additive.value == pytest.approx(theirs, abs=1e-8)               # the same model: the same number
    linear = we.estimate_effect(data, "x", "y", adjustment=["z"], method="regression")
    assert abs(linear.value - theirs) < linear.se                           # per-arm model: within one SE


def test_ipw_matches_dowhy_within_its_standard_error(peer):
    data = we.linear_backdoor_scm().sample(2000, seed=12)
    theirs = peer(data, BACKDOOR_EDGES, "x", "y", "back-door", "ipw")
    ours = we.estimate_effect(data, "x", "y", adjustment=["z"], method="ipw", clip=0.05)
    assert abs(ours.value - theirs) < ours.se


def test_frontdoor_regression_matches_dowhy(peer):
    data = we.linear_frontdoor_scm().sample(2000, seed=13)
    theirs = peer(data, FRONTDOOR_EDGES, "x", "y", "front-door", "regression", latent=["u"])
    ours = we.estimate_effect(data, "x", "y", mediator="m", method="regression")
    assert ours.value == pytest.approx(theirs, abs=1e-8)


# ---------------------------------------------------------------- bad input

def test_bad_input_is_a_typed_error():
    data, _ = _discrete("backdoor", seed=0, n=200)
    with pytest.raises(WorkbenchInputError, match="exactly one"):
        we.estimate_effect(data, "x", "y")
    with pytest.raises(WorkbenchInputError, match="binary"):
        we.estimate_effect(data, "z", "y", adjustment=[])
    with pytest.raises(WorkbenchInputError, match="method"):
        we.estimate_effect(data, "x", "y", adjustment=["z"], method="magic")
    with pytest.raises(WorkbenchInputError, match="not discrete"):
        we.estimate_effect(we.linear_backdoor_scm().sample(50, seed=0), "x", "y", adjustment=["z"])
    thin = {"z": torch.tensor([0, 0, 1, 1]), "x": torch.tensor([0, 1, 1, 1]), "y": torch.tensor([0.0, 1, 1, 0])}
    with pytest.raises(we.PositivityError, match="positivity"):
        we.estimate_effect(thin, "x", "y", adjustment=["z"])
