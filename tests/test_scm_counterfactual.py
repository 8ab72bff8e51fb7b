"""Counterfactuals: closed forms, three routes that must agree, and bad input.

The model used most here, drawn::

    x ──2──▶ y ──(-0.5)──▶ z
    └────────1.0─────────▲
"""

import pytest
import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.scm import (
    SCM, AdditiveNoise, LinearGaussian, Shift, counterfactual, counterfactual_by_hand,
    discrete_scm, mlp, random_nonlinear_scm, smoking_front_door,
)


def chain():
    return SCM({"x": LinearGaussian(noise_scale=1.0), "y": LinearGaussian({"x": 2.0}, bias=1.0),
                "z": LinearGaussian({"y": -0.5, "x": 1.0}, noise_scale=0.3)})


def test_linear_counterfactual_closed_form():
    m = chain()
    f = m.sample(64, seed=0)
    r = m.counterfactual(f, {"x": 0.25})
    dx = 0.25 - f["x"]
    torch.testing.assert_close(r.counterfactual["x"], torch.full((64,), 0.25))
    torch.testing.assert_close(r.counterfactual["y"], f["y"] + 2.0 * dx)
    torch.testing.assert_close(r.counterfactual["z"], f["z"] + (2.0 * -0.5 + 1.0) * dx)
    torch.testing.assert_close(r.noise["U_y"], f["y"] - 2.0 * f["x"] - 1.0)
    for v in m.variables:  # the factual world reproduces the data exactly
        torch.testing.assert_close(r.factual[v], f[v])


def test_additive_noise_counterfactual_closed_form():
    f_y, f_z = mlp(1, seed=5), mlp(2, seed=6)
    m = SCM({"x": LinearGaussian(), "y": AdditiveNoise(["x"], f_y, 0.2),
             "z": AdditiveNoise(["y", "x"], f_z, 0.2)})
    f = m.sample(50, seed=1)
    r = m.counterfactual(f, {"x": -1.0})
    x1 = torch.full((50, 1), -1.0)
    y1 = f_y(x1) + (f["y"] - f_y(f["x"][:, None]))
    z1 = f_z(torch.cat([y1[:, None], x1], 1)) + (f["z"] - f_z(torch.stack([f["y"], f["x"]], 1)))
    torch.testing.assert_close(r.counterfactual["y"], y1)
    torch.testing.assert_close(r.counterfactual["z"], z1)


def test_shift_counterfactual():
    m = chain()
    f = m.sample(16, seed=2)
    r = m.counterfactual(f, {"x": Shift(1.0)})
    torch.testing.assert_close(r.effect("x"), torch.ones(16))
    torch.testing.assert_close(r.effect("z"), torch.zeros(16), atol=1e-5, rtol=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_by_hand_chirho_worlds_and_chirho_abduction_agree(seed):
    m = random_nonlinear_scm(6, edge_prob=0.6, seed=seed)
    f = m.sample(40, seed=seed)
    act = {"x1": 0.7, "x3": Shift(-0.4)}
    hand = counterfactual_by_hand(m, f, act)
    for worlds in ("multi", "twin"):
        for method in ("abduct", "chirho"):
            r = counterfactual(m, f, act, worlds=worlds, method=method)
            for v in m.variables:
                torch.testing.assert_close(r.counterfactual[v], hand.counterfactual[v])
                torch.testing.assert_close(r.factual[v], f[v])
    for k, u in hand.noise.items():
        torch.testing.assert_close(counterfactual(m, f, act).noise[k], u)


def test_intervening_on_a_leaf_changes_nothing_upstream():
    m = random_nonlinear_scm(5, edge_prob=0.7, seed=3)
    f = m.sample(10, seed=0)
    r = m.counterfactual(f, {"x4": 0.0})
    for v in ["x0", "x1", "x2", "x3"]:
        torch.testing.assert_close(r.counterfactual[v], f[v])


# ---------------------------------------------------- categorical (Gumbel-max)
def test_gumbel_max_binary_counterfactual_closed_form():
    # y = 1 iff logit(p_x) + L > 0 with L ~ Logistic: a threshold (monotone) coupling, so
    # P(y_{x=1} = 1 | x=0, y=0) = (p1 - p0) / (1 - p0) and P(y_{x=1} = 1 | x=0, y=1) = 1.
    p0, p1 = 0.2, 0.6
    m = discrete_scm({"x": ([], [0.5, 0.5]), "y": (["x"], [[1 - p0, p0], [1 - p1, p1]])})
    f = {"x": torch.tensor([0, 0]), "y": torch.tensor([0, 1])}
    r = m.counterfactual(f, {"x": 1}, n_samples=40_000)
    assert r.counterfactual["y"].shape == (40_000, 2)
    assert torch.all(r.factual["y"] == f["y"])
    est = r.counterfactual["y"].float().mean(0)
    assert abs(float(est[0]) - (p1 - p0) / (1 - p0)) < 0.015
    assert float(est[1]) == 1.0


def test_gumbel_max_counterfactual_without_a_change_is_the_factual():
    m = smoking_front_door()
    f = m.sample(30, include_latent=True, seed=0)
    r = m.counterfactual(f, {"smoking": f["smoking"]}, n_samples=5)
    for v in m.variables:
        assert torch.equal(r.counterfactual[v], f[v].expand(5, 30))


def test_population_counterfactuals_with_a_latent_confounder_average_to_do():
    # averaging unit counterfactuals over the population gives the interventional distribution
    m = smoking_front_door()
    f = m.sample(4000, seed=1)                  # genotype is not observed: approximate abduction
    r = m.counterfactual(f, {"smoking": 1}, n_samples=2, particles=200)
    cf = float(r.counterfactual["cancer"].float().mean())
    do = float(m.do(smoking=1).sample(200_000, seed=2)["cancer"].float().mean())
    assert abs(cf - do) < 0.02
    assert r.factual["genotype"].shape == (2, 4000)


# ----------------------------------------------------------------- bad input
def test_counterfactual_bad_input():
    m = chain()
    f = m.sample(4, seed=0)
    with pytest.raises(UnknownVariableError, match="Did you mean 'x'"):
        m.counterfactual(f, {"xx": 1.0})
    with pytest.raises(UnknownVariableError):
        m.counterfactual({**f, "w": torch.zeros(4)}, {"x": 1.0})
    with pytest.raises(NonFiniteValueError):
        m.counterfactual({**f, "y": torch.tensor([0.0, float("nan"), 0.0, 0.0])}, {"x": 1.0})
    with pytest.raises(ShapeError):
        m.counterfactual({**f, "y": torch.zeros(3)}, {"x": 1.0})
    with pytest.raises(ShapeError):
        m.counterfactual({**f, "y": torch.zeros(4, 1)}, {"x": 1.0})
    with pytest.raises(WorkbenchInputError, match="empty"):
        m.counterfactual(f, {})
    with pytest.raises(WorkbenchInputError, match="unintervened"):
        m.do(x=1.0).counterfactual(f, {"x": 0.0})
    with pytest.raises(WorkbenchInputError, match="worlds"):
        m.counterfactual(f, {"x": 0.0}, worlds="three")
    with pytest.raises(WorkbenchInputError, match="every variable observed"):
        counterfactual_by_hand(m, {"x": f["x"]}, {"x": 0.0})
    with pytest.raises(WorkbenchInputError, match="invertible"):
        counterfactual_by_hand(smoking_front_door(), smoking_front_door().sample(3, include_latent=True),
                               {"smoking": 1})
    with pytest.raises(WorkbenchInputError, match="method='abduct'"):
        smoking_front_door().counterfactual(smoking_front_door().sample(3, include_latent=True),
                                            {"smoking": 1}, method="chirho")


def test_impossible_factual_category_raises():
    m = discrete_scm({"x": ([], [0.5, 0.5]), "y": (["x"], [[1.0, 0.0], [0.5, 0.5]])})
    with pytest.raises(WorkbenchInputError, match="probability 0"):
        m.counterfactual({"x": torch.tensor([0]), "y": torch.tensor([1])}, {"x": 1})


@pytest.mark.parametrize("observed", [0, 1, 2])
def test_gumbel_posterior_matches_rejection_sampling(observed):
    # an independent route: draw prior noise, keep the draws that reproduce the observed
    # category, and compare the counterfactual category frequencies under other logits
    from workbench.scm import DiscreteCPT
    torch.manual_seed(observed)
    table = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]])
    mech = DiscreteCPT(["x"], table)
    prior = torch.distributions.Gumbel(0.0, 1.0).sample((400_000, 3))
    keep = torch.argmax(table[0].log() + prior, -1) == observed
    by_rejection = torch.bincount(torch.argmax(table[1].log() + prior[keep], -1), minlength=3).float()
    u = mech.abduct(torch.full((100_000,), observed), torch.zeros(100_000, 1))
    assert torch.all(torch.argmax(table[0].log() + u, -1) == observed)
    by_abduction = torch.bincount(torch.argmax(table[1].log() + u, -1), minlength=3).float()
    torch.testing.assert_close(by_abduction / by_abduction.sum(), by_rejection / by_rejection.sum(),
                               atol=0.01, rtol=0)


def test_gumbel_max_binary_counterfactual_downwards():
    # from x=1, y=1 to do(x=0): P(y_0 = 1 | y_1 = 1) = p0 / p1 for the threshold coupling
    m = discrete_scm({"x": ([], [0.5, 0.5]), "y": (["x"], [[0.8, 0.2], [0.4, 0.6]])})
    r = m.counterfactual({"x": torch.tensor([1]), "y": torch.tensor([1])}, {"x": 0}, n_samples=40_000)
    assert abs(float(r.counterfactual["y"].float().mean()) - 0.2 / 0.6) < 0.015


def test_approximate_abduction_for_a_mechanism_without_inverse():
    import pyro.distributions as dist
    from workbench.scm import FunctionMechanism
    #   x ──▶ y = x + u^3   (invertible in principle, but no inverse is given)
    m = SCM({"x": LinearGaussian(), "y": FunctionMechanism(["x"], lambda pa, u: pa[..., 0] + u ** 3,
                                                          dist.Normal(0.0, 1.0), particles=4096)})
    f = m.sample(300, seed=0)
    with pytest.raises(WorkbenchInputError, match="invertible"):
        counterfactual_by_hand(m, f, {"x": Shift(1.0)})
    r = m.counterfactual(f, {"x": Shift(1.0)})
    err = (r.counterfactual["y"] - (f["y"] + 1.0)).abs()   # exact: the same u, so y moves by 1
    assert float(err.median()) < 0.02 and float(err.max()) < 0.3
    torch.testing.assert_close(r.noise["U_y"] ** 3, f["y"] - f["x"], atol=0.3, rtol=0)


def test_sample_only_if_needed_draws_once_when_abduction_is_exact():
    from workbench.scm import random_linear_scm, random_discrete_scm
    m = random_linear_scm(4, seed=0)
    units = m.sample(5, seed=1)
    r = m.counterfactual(units, {"x1": 0.5}, n_samples=50, sample_only_if_needed=True)
    assert r.exact and r.counterfactual["x3"].shape == (5,)
    assert torch.equal(r.counterfactual["x3"], m.counterfactual(units, {"x1": 0.5}).counterfactual["x3"])
    d = random_discrete_scm(3, n_categories=2, n_latent=0, seed=2)
    r = d.counterfactual(d.sample(4, seed=3), {"x0": 1}, n_samples=7, sample_only_if_needed=True)
    assert not r.exact and r.counterfactual["x2"].shape == (7, 4)  # Gumbel abduction: a posterior
