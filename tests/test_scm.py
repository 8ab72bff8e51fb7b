"""Tests of workbench.scm: sampling, interventions, conditioning, bad input.

Closed forms: a linear-Gaussian SCM is ``x = B x + b + e`` with ``e ~ N(0, D)``, so
``x = A (b + e)`` with ``A = (I - B)^-1``: mean ``A b``, covariance ``A D A^T``.
``do(x_k = c)`` zeroes row ``k`` of ``B``, sets ``b_k = c`` and ``D_kk = 0``.
"""

import pyro
import pytest
import torch
from chirho.interventional.handlers import do

from workbench.errors import (
    CycleError, NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError,
)
from workbench.scm import (
    SCM, AdditiveNoise, DiscreteCPT, FunctionMechanism, LinearGaussian, Shift, asia,
    backdoor_example, discrete_scm, random_discrete_scm, random_linear_scm,
    random_nonlinear_scm, smoking_front_door,
)

N = 200_000


def linear_gaussian_moments(scm, hard=None):
    """Exact mean and covariance of a linear-Gaussian SCM (optionally under hard do)."""
    hard = hard or {}
    names = scm.variables
    k = len(names)
    B, b, D = torch.zeros(k, k, dtype=torch.float64), torch.zeros(k, dtype=torch.float64), torch.zeros(k, dtype=torch.float64)
    for i, v in enumerate(names):
        m = scm.mechanisms[v]
        if v in hard:
            b[i] = hard[v]
            continue
        for p, w in m.weights.items():
            B[i, names.index(p)] = w
        b[i], D[i] = m.bias, m.noise_scale ** 2
    A = torch.linalg.inv(torch.eye(k, dtype=torch.float64) - B)
    return dict(zip(names, A @ b)), dict(zip(names, torch.diag(A @ torch.diag(D) @ A.T)))


def assert_moments(samples, mean, var, n=N):
    for v in mean:
        x = samples[v].double()
        se = (var[v] / n).sqrt() + 1e-12
        assert abs(x.mean() - mean[v]) < 5 * se, v
        if var[v] > 1e-12:
            assert abs(x.var() / var[v] - 1) < 5 * (2 / n) ** 0.5, v
        else:
            assert x.var() < 1e-10


# --------------------------------------------------------------- closed forms
@pytest.mark.parametrize("seed", [0, 1])
def test_linear_gaussian_observational_moments(seed):
    m = random_linear_scm(7, edge_prob=0.5, seed=seed)
    mean, var = linear_gaussian_moments(m)
    assert_moments(m.sample(N, seed=seed), mean, var)


@pytest.mark.parametrize("seed, target, value", [(0, "x2", 1.5), (1, "x3", -2.0)])
def test_linear_gaussian_interventional_moments(seed, target, value):
    m = random_linear_scm(7, edge_prob=0.5, seed=seed)
    mean, var = linear_gaussian_moments(m, {target: value})
    s = m.do({target: value}).sample(N, seed=seed)
    assert_moments(s, mean, var)
    assert torch.all(s[target] == value)


def test_backdoor_causal_effect_is_not_the_regression_slope():
    m = backdoor_example()
    y1 = m.do(x=1.0).sample(N, seed=0)["y"].mean()
    y0 = m.do(x=0.0).sample(N, seed=1)["y"].mean()
    assert abs(float(y1 - y0) - 1.5) < 0.03
    s = m.sample(N, seed=2)
    slope = torch.cov(torch.stack([s["x"], s["y"]]))[0, 1] / s["x"].var()
    assert abs(float(slope) - 2.5) < 0.03  # 1.5 + 2 * cov(z, x) / var(x) = 1.5 + 2 * 1/2


def test_shift_intervention_moves_descendants_by_the_total_effect():
    m = SCM({"x": LinearGaussian(noise_scale=1.0), "y": LinearGaussian({"x": 2.0}),
             "z": LinearGaussian({"y": -0.5, "x": 1.0})})
    base, shifted = m.sample(N, seed=3), m.do(x=Shift(1.0)).sample(N, seed=3)
    # same seed, same noise: the shift is exact unit by unit
    torch.testing.assert_close(shifted["x"] - base["x"], torch.ones(N))
    torch.testing.assert_close(shifted["y"] - base["y"], torch.full((N,), 2.0))
    torch.testing.assert_close(shifted["z"] - base["z"], torch.full((N,), 0.0), atol=1e-5, rtol=0)


def test_soft_intervention_replaces_a_mechanism_without_renaming_sites():
    m = backdoor_example()
    soft = m.replace(x=LinearGaussian({"z": 0.0}, bias=2.0, noise_scale=0.1))
    tr = pyro.poutine.trace(soft.model).get_trace(10)
    assert {"x", "y", "z", "U_x"} <= set(tr.nodes)
    mean, var = linear_gaussian_moments(soft)
    assert_moments(soft.sample(N, seed=4), mean, var)
    assert m.mechanisms["x"].weights == {"z": 1.0}  # the original is unchanged


def test_nonlinear_additive_noise_sampling_matches_its_mechanism():
    m = random_nonlinear_scm(5, edge_prob=0.8, seed=2)
    s = m.sample(1000, include_latent=True, seed=0)
    for v in m.variables:
        mech = m.mechanisms[v]
        pa = torch.stack([s[p] for p in mech.parents], -1) if mech.parents else torch.zeros(1000, 0)
        resid = s[v] - mech.mean(pa)
        assert abs(float(resid.std()) - 0.5) < 0.05  # the residual is the noise N(0, 0.5)


# ------------------------------------------------------------- discrete models
def enumerate_joint(scm, hard=None):
    """Exact joint of a discrete SCM as {assignment tuple: probability} (small models)."""
    import itertools
    hard = hard or {}
    names = scm.variables
    cards = [scm.mechanisms[v].cardinality for v in names]
    joint = {}
    for values in itertools.product(*[range(k) for k in cards]):
        a = dict(zip(names, values))
        p = 1.0
        for v in names:
            if v in hard:
                p *= float(a[v] == hard[v])
                continue
            m = scm.mechanisms[v]
            p *= float(m.table[tuple(a[q] for q in m.parents) + (a[v],)])
        joint[values] = p
    return names, joint


def marginal(names, joint, v, k=1, given=None):
    given = given or {}
    i = names.index(v)
    ok = lambda a: all(a[names.index(g)] == x for g, x in given.items())  # noqa: E731
    num = sum(p for a, p in joint.items() if a[i] == k and ok(a))
    return num / sum(p for a, p in joint.items() if ok(a))


def test_front_door_interventional_distribution_matches_enumeration():
    m = smoking_front_door()
    names, joint = enumerate_joint(m, {"smoking": 1})
    exact = marginal(names, joint, "cancer")
    est = m.do(smoking=1).sample(N, seed=0)["cancer"].float().mean()
    assert abs(float(est) - exact) < 5 * (exact * (1 - exact) / N) ** 0.5
    names, joint = enumerate_joint(m)
    assert abs(exact - marginal(names, joint, "cancer", given={"smoking": 1})) > 0.02  # confounded


def test_conditioning_gives_the_bayes_posterior():
    m = smoking_front_door()
    names, joint = enumerate_joint(m)
    exact = marginal(names, joint, "genotype", given={"smoking": 1, "cancer": 1})
    s = m.condition(smoking=1, cancer=1).sample(50_000, include_latent=True, seed=0)
    assert torch.all(s["smoking"] == 1) and torch.all(s["cancer"] == 1)
    assert abs(float(s["genotype"].float().mean()) - exact) < 0.02


def test_conditioning_a_linear_gaussian_matches_the_gaussian_posterior():
    m = SCM({"x": LinearGaussian(noise_scale=1.0), "y": LinearGaussian({"x": 1.0}, noise_scale=1.0)})
    s = m.condition(y=2.0).sample(20_000, particles=400_000, seed=0)
    assert abs(float(s["x"].mean()) - 1.0) < 0.05        # E[x | y] = y / 2
    assert abs(float(s["x"].var()) - 0.5) < 0.05         # var[x | y] = 1 / 2


def test_asia_marginals_match_enumeration():
    m = asia()
    names, joint = enumerate_joint(m)
    s = m.sample(N, seed=1)
    for v in ["either", "xray", "dysp"]:
        exact = marginal(names, joint, v)
        assert abs(float(s[v].float().mean()) - exact) < 5 * (exact * (1 - exact) / N) ** 0.5 + 1e-4


def test_gumbel_max_samples_follow_the_table():
    table = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    m = discrete_scm({"a": ([], [0.5, 0.5]), "b": (["a"], table)})
    s = m.sample(N, seed=0)
    for a in (0, 1):
        freq = torch.bincount(s["b"][s["a"] == a], minlength=3).float()
        torch.testing.assert_close(freq / freq.sum(), table[a], atol=0.01, rtol=0)


# -------------------------------------------------------- latent variables
def test_latent_variables_are_hidden_unless_asked():
    m = smoking_front_door()
    assert sorted(m.sample(10)) == ["cancer", "smoking", "tar"]
    assert "genotype" in m.sample(10, include_latent=True)
    assert m.graph.nodes["genotype"]["latent"] is True


def test_random_discrete_scm_has_a_bidirected_edge_per_confounder():
    m = random_discrete_scm(5, n_latent=2, seed=4, edge_prob=0.0)
    g = m.observed_graph()
    assert set(g.nodes) == set(m.observed) and g.directed.number_of_edges() == 0
    for u in ["u0", "u1"]:
        a, b = sorted(m.graph.successors(u))
        assert g.has_bidirected(a, b)


def test_random_models_are_reproducible_from_their_seed():
    a, b = random_discrete_scm(6, seed=7), random_discrete_scm(6, seed=7)
    assert all(torch.equal(a.mechanisms[v].table, b.mechanisms[v].table) for v in a.variables)
    assert sorted(random_linear_scm(20, seed=3).graph.edges()) == sorted(random_linear_scm(20, seed=3).graph.edges())
    assert sorted(random_linear_scm(20, seed=3).graph.edges()) != sorted(random_linear_scm(20, seed=4).graph.edges())


# ------------------------------------------------------- the Pyro program
def test_chirho_do_on_the_program_equals_the_do_method():
    m = random_discrete_scm(4, n_latent=1, seed=3)
    pyro.set_rng_seed(0)
    with do(actions={"x1": torch.tensor(1)}):
        by_handler = m.model(500)
    by_method = m.do(x1=1).sample(500, include_latent=True, seed=0)
    for v in m.variables:
        assert torch.equal(by_handler[v].expand(500), by_method[v]), v


def test_the_program_has_a_noise_site_and_a_value_site_per_variable():
    m = backdoor_example()
    tr = pyro.poutine.trace(m.model).get_trace(3)
    sites = [n for n in tr.nodes if tr.nodes[n]["type"] == "sample" and n != "units"]
    assert sites == ["U_z", "z", "U_x", "x", "U_y", "y"]
    assert all(tr.nodes[s]["value"].shape == (3,) for s in sites)


def test_same_seed_same_samples():
    m = random_nonlinear_scm(6, seed=0)
    a, b = m.sample(100, seed=11), m.sample(100, seed=11)
    assert all(torch.equal(a[v], b[v]) for v in a)


def test_models_are_never_mutated():
    m = backdoor_example()
    m2 = m.do(x=1.0)
    assert dict(m.interventions) == {} and set(m2.interventions) == {"x"}
    with pytest.raises(TypeError):
        m.mechanisms["x"] = LinearGaussian()
    g = m.graph
    g.add_edge("y", "z")
    assert not m.graph.has_edge("y", "z")


# ----------------------------------------------------------------- bad input
def test_misspelled_intervention_raises_with_a_suggestion():
    m = smoking_front_door()
    with pytest.raises(UnknownVariableError, match="Did you mean 'smoking'"):
        m.do(smokng=1)
    with pytest.raises(UnknownVariableError):
        m.condition(tarr=1)
    with pytest.raises(UnknownVariableError):
        m.replace(cancr=LinearGaussian())


def test_nan_and_infinite_interventions_raise():
    m = backdoor_example()
    with pytest.raises(NonFiniteValueError):
        m.do(x=float("nan"))
    with pytest.raises(NonFiniteValueError):
        m.do(x=Shift(float("inf")))
    with pytest.raises(NonFiniteValueError):
        m.condition(y=float("nan"))


def test_wrong_shapes_raise():
    m = backdoor_example()
    with pytest.raises(ShapeError):
        m.do(x=torch.zeros(3, 2))
    with pytest.raises(ShapeError, match="3 values but there are 5 units"):
        m.do(x=torch.zeros(3)).sample(5)
    with pytest.raises(ShapeError):
        DiscreteCPT(["a"], torch.tensor([0.5, 0.5]))


def test_discrete_intervention_values_are_checked():
    m = smoking_front_door()
    with pytest.raises(WorkbenchInputError, match="0..1"):
        m.do(smoking=2)
    with pytest.raises(WorkbenchInputError, match="category"):
        m.do(smoking=0.5)
    with pytest.raises(WorkbenchInputError, match="discrete"):
        m.do(smoking=Shift(1.0))


def test_cycles_and_unknown_parents_are_refused():
    with pytest.raises(CycleError, match="cycle"):
        SCM({"a": LinearGaussian({"b": 1.0}), "b": LinearGaussian({"a": 1.0})})
    with pytest.raises(UnknownVariableError, match="parent"):
        SCM({"a": LinearGaussian({"c": 1.0})})
    with pytest.raises(WorkbenchInputError):
        SCM({"a": "not a mechanism"})


def test_bad_tables_and_settings_raise():
    with pytest.raises(WorkbenchInputError, match="sum to 1"):
        DiscreteCPT([], [0.5, 0.6])
    with pytest.raises(NonFiniteValueError):
        DiscreteCPT([], [float("nan"), 1.0])
    with pytest.raises(WorkbenchInputError, match="positive"):
        LinearGaussian(noise_scale=0.0)
    with pytest.raises(WorkbenchInputError, match="positive integer"):
        backdoor_example().sample(0)


def test_impossible_observations_raise():
    m = discrete_scm({"a": ([], [1.0, 0.0])})
    with pytest.raises(WorkbenchInputError, match="probability zero"):
        m.condition(a=1).sample(10)


def test_function_mechanism_samples_and_refuses_conditioning_without_density():
    import pyro.distributions as dist
    m = SCM({"x": LinearGaussian(), "y": FunctionMechanism(["x"], lambda pa, u: pa[..., 0] ** 2 + u,
                                                         dist.Uniform(0.0, 1.0))})
    s = m.sample(1000, seed=0)
    assert torch.all(s["y"] >= s["x"] ** 2)
    with pytest.raises(WorkbenchInputError, match="no density"):
        m.condition(y=1.0).sample(10)


def test_additive_noise_with_another_noise_distribution():
    import pyro.distributions as dist
    m = SCM({"x": AdditiveNoise([], lambda pa: torch.zeros(pa.shape[:-1]), noise=dist.Laplace(0.0, 1.0))})
    assert abs(float(m.sample(N, seed=0)["x"].var()) - 2.0) < 0.05  # var of Laplace(0, 1) is 2


def test_chirho_do_matches_a_hand_edited_program():
    #   z ──▶ x ──▶ y        do(x = 1) cuts z ──▶ x
    #   └──────────▲
    import pyro.distributions as dist

    def hand_edited(n):  # the back-door program with x's mechanism replaced by the constant 1
        with pyro.plate("units", n, dim=-1):
            u_z = pyro.sample("U_z", dist.Normal(0.0, 1.0))
            z = pyro.deterministic("z", u_z, event_dim=0)
            pyro.sample("U_x", dist.Normal(0.0, 1.0))      # still drawn: same random stream
            x = pyro.deterministic("x", torch.ones(n), event_dim=0)
            u_y = pyro.sample("U_y", dist.Normal(0.0, 1.0))
            return {"z": z, "x": x, "y": pyro.deterministic("y", 1.5 * x + 2.0 * z + u_y, event_dim=0)}

    pyro.set_rng_seed(3)
    expected = hand_edited(1000)
    got = backdoor_example().do(x=1.0).sample(1000, seed=3)
    for v in "zxy":
        torch.testing.assert_close(got[v], expected[v])
