"""Peer tests: the same SCM in DoWhy's gcm gives the same distributions and counterfactuals."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

gcm = pytest.importorskip("dowhy.gcm")

from workbench.scm import (  # noqa: E402
    Shift, asia, backdoor_example, discrete_scm, random_discrete_scm, random_linear_scm,
    random_nonlinear_scm, smoking_front_door,
)
from workbench.scm.peers import to_dowhy_gcm  # noqa: E402

N = 20_000


def frame(samples):
    return pd.DataFrame({k: v.numpy() if v.dtype == torch.int64 else v.double().numpy()
                         for k, v in samples.items()})


@pytest.mark.parametrize("make, target, value", [
    (lambda: random_linear_scm(8, edge_prob=0.5, seed=1), "x2", 1.0),
    (lambda: random_nonlinear_scm(8, edge_prob=0.5, seed=2), "x1", -1.0),
    (backdoor_example, "x", 2.0),
])
def test_interventional_samples_agree_in_distribution(make, target, value):
    m = make()
    ours = frame(m.do({target: value}).sample(N, seed=0))
    np.random.seed(0)
    theirs = gcm.interventional_samples(to_dowhy_gcm(m), {target: lambda x: value}, num_samples_to_draw=N)
    for v in m.variables:
        if v == target:
            assert (theirs[v] == value).all() and (ours[v] == value).all()
            continue
        # two-sample Kolmogorov-Smirnov; 8 variables x 3 cases, so a strict level
        assert stats.ks_2samp(ours[v], theirs[v]).pvalue > 1e-4, v
        assert abs(ours[v].mean() - theirs[v].mean()) < 5 * theirs[v].std() * (2 / N) ** 0.5 + 1e-9, v


def test_shift_interventions_agree_with_a_soft_gcm_intervention():
    m = random_linear_scm(6, edge_prob=0.6, seed=5)
    ours = frame(m.do(x0=Shift(1.0)).sample(N, seed=1))
    np.random.seed(1)
    theirs = gcm.interventional_samples(to_dowhy_gcm(m), {"x0": lambda x: x + 1.0}, num_samples_to_draw=N)
    for v in m.variables:
        assert stats.ks_2samp(ours[v], theirs[v]).pvalue > 1e-4, v


@pytest.mark.parametrize("make", [lambda: random_linear_scm(10, seed=3),
                                  lambda: random_nonlinear_scm(10, edge_prob=0.4, seed=4)])
def test_counterfactuals_agree_unit_by_unit(make):
    m = make()
    f = m.sample(200, seed=2)
    ours = m.counterfactual(f, {"x3": 0.5, "x5": Shift(-1.0)})
    theirs = gcm.counterfactual_samples(to_dowhy_gcm(m), {"x3": lambda x: 0.5, "x5": lambda x: x - 1.0},
                                        observed_data=frame(f))
    for v in m.variables:
        np.testing.assert_allclose(ours.counterfactual[v].numpy(), theirs[v].to_numpy(), atol=1e-4, rtol=1e-4)


def test_counterfactual_distributions_agree_over_a_population():
    m = random_nonlinear_scm(6, edge_prob=0.6, seed=6)
    f = m.sample(5000, seed=3)
    ours = m.counterfactual(f, {"x2": 1.0}).counterfactual
    theirs = gcm.counterfactual_samples(to_dowhy_gcm(m), {"x2": lambda x: 1.0}, observed_data=frame(f))
    for v in m.variables:
        assert stats.ks_2samp(ours[v].numpy(), theirs[v].to_numpy()).pvalue > 0.5, v


def test_mechanisms_without_a_gcm_counterpart_are_named():
    import pyro.distributions as dist

    from workbench.errors import WorkbenchInputError
    from workbench.scm import SCM, AdditiveNoise, FunctionMechanism, LinearGaussian, mlp
    laplace = SCM({"x": LinearGaussian(), "y": AdditiveNoise(["x"], mlp(1), noise=dist.Laplace(0.0, 1.0))})
    with pytest.raises(WorkbenchInputError, match="'y'.*Normal"):
        to_dowhy_gcm(laplace)
    user = SCM({"x": LinearGaussian(), "y": FunctionMechanism(["x"], lambda pa, u: pa[..., 0] * u,
                                                               dist.Normal(0.0, 1.0))})
    with pytest.raises(WorkbenchInputError, match="'y'.*FunctionMechanism"):
        to_dowhy_gcm(user)


# ------------------------------------------------------------------ discrete tables
#
# Truth: the exact interventional joint of the observed variables, by variable
# elimination over the tables (workbench.identification.truth), not by sampling.
# Agreement "within sampling error": the total-variation distance between the empirical
# joint of N draws and the truth p has mean at most 0.5 * sum_i sqrt(p_i (1 - p_i) / N),
# and one draw moves it by at most 1/N, so (McDiarmid) it exceeds that mean by more than
# sqrt(log(1/delta) / (2N)) with probability below delta.

DISCRETE = {
    "asia do(smoke=1)": (asia, "smoke", 1),
    "asia do(either=0)": (asia, "either", 0),
    "front door do(tar=1)": (smoking_front_door, "tar", 1),
    "random 8, latent, 3 categories": (lambda: random_discrete_scm(8, n_latent=1, n_categories=3, seed=11),
                                       "x2", 2),
    "random 10, latent": (lambda: random_discrete_scm(10, n_latent=1, seed=12), "x1", 1),
}


def exact_interventional_joint(m, target, value):
    """``P(observed others | do(target = value))`` as a flat array, axes in ``m.observed`` order."""
    from workbench.identification.truth import DiscreteCPTModel
    others = [v for v in m.observed if v != target]
    table = DiscreteCPTModel.from_scm(m).interventional([target], others)
    return others, table.values[value].reshape(-1).double().numpy()


def joint_counts(samples, names, cards):
    """How often each joint state of ``names`` occurs (mixed-radix code, last name fastest)."""
    code = np.zeros(len(samples[names[0]]), dtype=np.int64)
    for v in names:
        code = code * cards[v] + np.asarray(samples[v], dtype=np.int64)
    return np.bincount(code, minlength=int(np.prod([cards[v] for v in names])))


def tv_bound(p, n, delta=1e-6):
    return 0.5 * np.sqrt(p * (1 - p) / n).sum() + np.sqrt(np.log(1 / delta) / (2 * n))


@pytest.mark.parametrize("case", list(DISCRETE))
def test_discrete_interventional_samples_agree_with_the_exact_distribution(case):
    make, target, value = DISCRETE[case]
    m = make()
    others, truth = exact_interventional_joint(m, target, value)
    cards = {v: m.mechanisms[v].cardinality for v in m.variables}
    ours = {k: v.numpy() for k, v in m.do({target: value}).sample(N, seed=0).items()}
    np.random.seed(0)
    theirs = gcm.interventional_samples(to_dowhy_gcm(m), {target: lambda x: value}, num_samples_to_draw=N)
    assert (ours[target] == value).all() and (theirs[target] == value).all()
    for name, s in (("ours", ours), ("gcm", theirs)):
        freq = joint_counts(s, others, cards) / N
        assert 0.5 * np.abs(freq - truth).sum() < tv_bound(truth, N), name
        for v in others:  # each marginal: chi-square goodness of fit, over categories that can occur
            p = truth.reshape([cards[u] for u in others]).sum(
                axis=tuple(i for i, u in enumerate(others) if u != v))
            counts = np.bincount(np.asarray(s[v], dtype=np.int64), minlength=cards[v])
            assert counts[p == 0].sum() == 0, (name, v)
            if (p > 0).sum() > 1:
                expected = N * p[p > 0] / p[p > 0].sum()   # the truth sums to 1 up to float rounding
                assert stats.chisquare(counts[p > 0], expected).pvalue > 1e-4, (name, v)


def test_a_wrong_table_is_caught_by_the_same_check():
    # the check above can fail: gcm on a model whose table differs by 0.03 is far outside the bound
    m = asia()
    tables = {v: (list(mm.parents), mm.table.clone()) for v, mm in m.mechanisms.items()}
    tables["bronc"][1][1] = torch.tensor([0.37, 0.63])          # was [0.4, 0.6]
    np.random.seed(0)
    wrong = gcm.interventional_samples(to_dowhy_gcm(discrete_scm(tables)), {"smoke": lambda x: 1},
                                       num_samples_to_draw=N)
    others, truth = exact_interventional_joint(m, "smoke", 1)
    freq = joint_counts(wrong, others, {v: 2 for v in m.variables}) / N
    assert 0.5 * np.abs(freq - truth).sum() > tv_bound(truth, N)


def test_the_gcm_classifier_returns_our_table_rows():
    m = asia()
    peer = to_dowhy_gcm(m)
    dysp = peer.causal_mechanism("dysp")               # gcm hands parents sorted: (bronc, either)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_allclose(dysp.estimate_probabilities(X),
                               m.mechanisms["dysp"].table[X[:, 0], X[:, 1]].double().numpy(), rtol=1e-7)
    cancer = to_dowhy_gcm(smoking_front_door())
    # our parents are (tar, genotype); gcm's column order is (genotype, tar)
    probs = cancer.causal_mechanism("cancer").estimate_probabilities(np.array([[1, 0]]))
    np.testing.assert_allclose(probs[0], [0.7, 0.3], rtol=1e-6)


def test_gcm_has_no_counterfactuals_of_observed_units_for_discrete_tables():
    """gcm refuses: abduction needs an invertible mechanism, and a ClassifierFCM is not one."""
    m = asia()
    peer = to_dowhy_gcm(m)
    assert type(peer) is gcm.StructuralCausalModel
    observed = frame(m.sample(100, seed=0))
    with pytest.raises(ValueError, match="only be done with InvertibleStructuralCausalModel"):
        gcm.counterfactual_samples(peer, {"smoke": lambda x: 1}, observed_data=observed)
    forced = gcm.InvertibleStructuralCausalModel(peer.graph)   # the same mechanisms, relabelled
    with pytest.raises(AttributeError, match="estimate_noise"):
        gcm.counterfactual_samples(forced, {"smoke": lambda x: 1}, observed_data=observed)
    ours = m.counterfactual(m.sample(100, seed=0), {"smoke": 1}, n_samples=4)
    assert (ours.counterfactual["smoke"] == 1).all()           # ours answers (Gumbel-max abduction)
