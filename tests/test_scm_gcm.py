"""Peer tests: the same SCM in DoWhy's gcm gives the same distributions and counterfactuals."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

gcm = pytest.importorskip("dowhy.gcm")

from workbench.scm import Shift, backdoor_example, random_linear_scm, random_nonlinear_scm  # noqa: E402
from workbench.scm.peers import to_dowhy_gcm  # noqa: E402

N = 20_000


def frame(samples):
    return pd.DataFrame({k: v.double().numpy() for k, v in samples.items()})


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


def test_only_additive_gaussian_models_translate():
    from workbench.errors import WorkbenchInputError
    from workbench.scm import smoking_front_door
    with pytest.raises(WorkbenchInputError, match="Normal"):
        to_dowhy_gcm(smoking_front_door())
