"""Causal normalizing flows on the benchmark SCMs: interventions, counterfactuals, metrics.

The benchmark graphs (Javaloy et al. 2023)::

    chain     x1 -> x2 -> x3              fork      x1 -> x3 <- x2, x3 -> x4
    collider  x1 -> x3 <- x2              triangle  x1 -> x2 -> x3, x1 -> x3
    diamond   x1 -> x2 -> x3 -> x4, x1 -> x3, x2 -> x4
    large_backdoor  x1 -> x2 -> x4 -> x6 -> x8 -> x9, x1 -> x3 -> x5 -> x7 -> x9
"""

import pytest
import torch

import workbench as wb
from workbench.datasets.causal_flows import CAUSAL_FLOW_SCMS, causal_flow_scm, intervention_targets, log_density
from workbench.latents.flows import CausalFlow
from workbench.latents.flows.evaluation import evaluate_causal_flow, intervention_values, mmd
from workbench.scm import SCM, LinearGaussian, counterfactual

# Interventional means must be within TOLERANCE x the variable's observational interquartile
# range after a tiny training (2,000 units, 400 steps, about a second; see STEPS and UNITS), at
# each of the benchmark's three intervention values (the 25th, 50th and 75th percentiles). Diamond's x4 =
# x3 / (|x2 + 2| + x3 + 0.5) has a denominator that crosses zero, so its mean does not
# exist (seeds of the true SCM alone disagree by 0.7): its median is compared instead.
TOLERANCE = 0.15
FLOW = {"large_backdoor": "nsf"}   # uniform noise: bounded marginals need splines
STEPS = {"diamond": 800, "large_backdoor": 600}   # x4's ratio, and nine variables, need longer
UNITS = {"large_backdoor": 8000}   # with 2,000, x5's slope in x3 is off by 40 % of its IQR at x1's quartiles
LAYERS = {"diamond": 3}            # and more than one affine layer near its pole,
ROBUST = {"diamond"}               # and robust standardisation (its sd comes from the pole)


def _fitted(name, n=None, steps=None):
    steps, n = steps or STEPS.get(name, 400), n or UNITS.get(name, 2000)
    wb.seed_everything(0)
    scm = causal_flow_scm(name)
    data = scm.sample(n, seed=0)
    flow = CausalFlow(scm.variables, list(scm.graph.edges), flow=FLOW.get(name, "maf"),
                      transforms=LAYERS.get(name, 1), hidden=(32, 32))
    flow.fit(data, steps=steps, batch_size=256, lr=5e-3, progress=False, robust=name in ROBUST)
    return scm, data, flow


@pytest.mark.parametrize("name", CAUSAL_FLOW_SCMS)
def test_interventional_means_match_the_generating_scm(name):
    scm, data, flow = _fitted(name)
    for target in intervention_targets(name):
        for a in intervention_values(data, target).values():      # the 25th, 50th, 75th percentiles
            true = scm.do({target: a}).sample(4000, seed=1)
            est = flow.as_dict(flow.intervene({target: a}, 4000, generator=torch.Generator().manual_seed(2)))
            assert torch.allclose(est[target], torch.full((4000,), a))
            for v in scm.variables:
                q = torch.quantile(data[v], torch.tensor([0.25, 0.75]))
                iqr = float(q[1] - q[0])
                stat = torch.median if (name, v) == ("diamond", "x4") else torch.mean
                gap = abs(float(stat(est[v]) - stat(true[v])))
                assert gap <= TOLERANCE * iqr, (target, a, v, gap, iqr)


def test_robust_standardisation_fits_the_diamonds_pole():
    # x4's sd (about 78, from the few units near the pole) squeezes its bulk (spread 0.1) to
    # near the smallest scale one affine layer reaches (1e-3); the median and IQR do not
    scm = causal_flow_scm("diamond")
    data, test = scm.sample(2000, seed=0), scm.sample(2000, seed=5)
    gaps, scales = [], []
    for robust in (True, False):
        wb.seed_everything(0)
        flow = CausalFlow(scm.variables, list(scm.graph.edges), hidden=(32, 32))
        flow.fit(data, steps=STEPS["diamond"], batch_size=256, lr=5e-3, progress=False, robust=robust)
        with torch.no_grad():
            gaps.append(float((log_density(scm, test) - flow.log_prob(test)).median()))
        scales.append(float(flow.net.x_scale[3]))
    assert scales[0] < 1.0 < scales[1]
    assert gaps[0] < gaps[1] - 0.3, gaps


def test_do_leaves_non_descendants_and_counterfactuals_match_by_hand():
    scm, data, flow = _fitted("triangle", steps=200)
    unit = {v: x[:50] for v, x in data.items()}
    cf = flow.counterfactual(unit, {"x2": 1.0})
    x = flow.as_tensor(unit)
    assert torch.equal(cf[:, 0], x[:, 0]) and torch.equal(cf[:, 1], torch.ones(50))
    # by hand: abduct, replace x2's noise by the noise that reproduces x2 = 1, invert
    t = flow.net.transform()
    u = t(x)
    fixed = x.clone()
    fixed[:, 1] = 1.0
    u[:, 1] = t(fixed)[:, 1]
    assert torch.allclose(cf, t.inv(u).index_put_((torch.arange(50), torch.tensor(1)), torch.tensor(1.0)), atol=1e-5)
    assert flow.descendants("x1") == ["x2", "x3"] and flow.parents("x3") == ["x1", "x2"]


def test_two_interventions_at_once_equal_a_mutilated_refit():
    # on a linear chain the flow is exact: do(x1, x2) cuts x3 from x1 entirely
    scm = SCM({"x1": LinearGaussian(), "x2": LinearGaussian({"x1": 1.0}), "x3": LinearGaussian({"x2": 2.0}, noise_scale=0.5)})
    wb.seed_everything(0)
    data = scm.sample(3000, seed=0)
    flow = CausalFlow(scm.variables, list(scm.graph.edges), hidden=(16,))
    flow.fit(data, steps=400, lr=1e-2, progress=False)
    unit = {v: x[:100] for v, x in data.items()}
    ours = flow.counterfactual(unit, {"x2": 0.5, "x1": -1.0})
    true = counterfactual(scm, unit, {"x2": 0.5, "x1": -1.0}).counterfactual
    assert torch.allclose(ours[:, 0], torch.full((100,), -1.0)) and torch.allclose(ours[:, 1], torch.full((100,), 0.5))
    assert float((ours[:, 2] - true["x3"]).abs().mean()) < 0.1


def test_exact_log_density_matches_the_closed_form():
    # the collider is linear-Gaussian: x1 ~ N(0,1), x2 = 2 - u2, x3 = 0.25 x2 - 0.5 x1 + 0.5 u3
    scm = causal_flow_scm("collider")
    s = scm.sample(100, seed=0)
    cov = torch.tensor([[1.0, 0.0, -0.5], [0.0, 1.0, 0.25], [-0.5, 0.25, 0.25 + 0.0625 + 0.25]])
    mvn = torch.distributions.MultivariateNormal(torch.tensor([0.0, 2.0, 0.5]), cov)
    x = torch.stack([s["x1"], s["x2"], s["x3"]], -1)
    assert torch.allclose(log_density(scm, s), mvn.log_prob(x), atol=1e-4)


def test_evaluation_reports_every_metric_and_a_perfect_flow_scores_near_zero():
    scm, data, flow = _fitted("chain", steps=600)
    test = scm.sample(1000, seed=7)
    report = evaluate_causal_flow(flow, scm, data, test, intervention_targets("chain"), n_samples=500, n_ate=2000)
    assert set(report["per_node"]) == {"x1", "x2"}
    assert 0.0 <= report["log_likelihood_gap"] < 0.1
    for scores in report["per_node"].values():
        assert scores["mmd"] < 0.01 and scores["cf_rmse"] < 0.3 and scores["ate_rmse"] < 0.5
    # an untrained flow is measurably worse on every metric
    blank = CausalFlow(scm.variables, list(scm.graph.edges), hidden=(32, 32))
    blank.net.standardize(flow.as_tensor(data))
    worse = evaluate_causal_flow(blank, scm, data, test, ["x2"], n_samples=500, n_ate=2000)
    assert worse["log_likelihood_gap"] > report["log_likelihood_gap"] + 0.1
    assert worse["per_node"]["x2"]["cf_rmse"] > report["per_node"]["x2"]["cf_rmse"]


def test_mmd_matches_the_formula():
    x, y = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [3.0]])
    s = 2.0
    k = lambda a, b: torch.exp(-((a - b.T) ** 2) / (2 * s * s)).mean()  # noqa: E731
    assert abs(mmd(x, y, sigma=s) - float(k(x, x) + k(y, y) - 2 * k(x, y))) < 1e-6
