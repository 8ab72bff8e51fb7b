"""The bare fast paths give exactly what the Pyro / ChiRho handler paths give.

``SCM.sample`` skips Pyro when no handler is active, and ``counterfactual`` computes
the two worlds by hand when nobody is watching; both must reproduce the handler
routes from the same seed (the same noise draws, in the same order), to float
rounding: the bare routes evaluate MLPs column-wise and add noise in one pass.
A handler that records sites (``pyro.poutine.trace``) forces the Pyro route.
"""

import pyro
import pyro.distributions as dist
import pytest
import torch

from workbench.errors import NonFiniteValueError, ShapeError
from workbench.scm.fast import (
    MLP_BLOCK, abduct_columns, call_columns, counterfactual_columns, mean_columns, mlp_of_columns,
    sample_columns,
)
from workbench.scm.fast_worlds import AbductedNoise, runs_bare
from workbench.scm import (
    SCM, FunctionMechanism, LinearGaussian, Shift, Transform, counterfactual, random_discrete_scm,
    random_linear_scm, random_nonlinear_scm,
)

MODELS = {
    "linear": lambda: random_linear_scm(8, seed=2),
    "mlp": lambda: random_nonlinear_scm(6, seed=1),
    "discrete": lambda: random_discrete_scm(5, n_categories=3, n_latent=1, seed=4),
}
ACTIONS = {
    "linear": [{}, {"x2": 1.5}, {"x1": Shift(0.5), "x4": torch.linspace(-1, 1, 300)}],
    "mlp": [{}, {"x1": -1.0}, {"x0": Transform(torch.tanh)}],
    "discrete": [{}, {"x1": 2}, {"x0": 0, "x3": torch.arange(300) % 3}],
}
CASES = [(k, i) for k in MODELS for i in range(len(ACTIONS[k]))]


def _same(a, b) -> bool:
    """Equal; for floats, to float32 rounding.

    Both routes draw the same noise and apply the same mechanisms, but an MLP's matmul on
    float32 may take a different vector path for differently aligned buffers, which moves
    the last bits (seen once: 1e-5 in a root variable). Integers must match exactly.
    """
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if not a.is_floating_point():
        return torch.equal(a, b)
    return torch.equal(a, b) or torch.allclose(a, b, rtol=1e-5, atol=1e-5)


def _both_routes(model, n, seed):
    bare = model.sample(n, seed=seed, include_latent=True)
    with pyro.poutine.trace() as tracer:  # an active handler: the Pyro program runs
        handled = model.sample(n, seed=seed, include_latent=True)
    return bare, handled, tracer.trace


@pytest.mark.parametrize("kind,i", CASES)
def test_bare_sampling_equals_the_pyro_program(kind, i):
    m = MODELS[kind]()
    model = m.do(ACTIONS[kind][i]) if ACTIONS[kind][i] else m
    bare, handled, tr = _both_routes(model, 300, seed=7)
    assert "U_x0" in tr.nodes  # the second route really went through Pyro
    assert list(bare) == list(handled) == m.variables
    for v in m.variables:
        assert bare[v].dtype == handled[v].dtype, v
        assert _same(bare[v], handled[v]), v


def test_bare_sampling_equals_chirho_do_on_the_program():
    m = random_nonlinear_scm(6, seed=1)
    pyro.set_rng_seed(3)
    from chirho.interventional.handlers import do

    with torch.no_grad(), do(actions={"x2": torch.tensor(0.25)}):
        by_handler = m.model(200)
    bare = m.do(x2=0.25).sample(200, seed=3)
    for v in m.variables:
        assert _same(by_handler[v].expand(200), bare[v]), v


def test_the_bare_route_is_taken_only_without_handlers():
    m = random_linear_scm(5, seed=0)
    assert runs_bare(m)
    with pyro.poutine.block():
        assert not runs_bare(m)
    batched = SCM({"x": FunctionMechanism([], lambda pa, u: u.sum(-1), dist.Normal(torch.zeros(2), 1.0)),
                   "y": LinearGaussian({"x": 1.0})})
    assert not runs_bare(batched)  # a noise with a batch shape: left to Pyro's plate


def _units(kind, n=400):
    m = MODELS[kind]()
    return m, m.sample(n, seed=5)


@pytest.mark.parametrize("kind,do", [
    ("linear", {"x2": 1.0}), ("linear", {"x1": Shift(-0.5), "x5": torch.linspace(0, 1, 400)}),
    ("mlp", {"x1": -1.0}), ("mlp", {"x0": Transform(torch.sin), "x3": 0.5}),
])
@pytest.mark.parametrize("worlds", ["multi", "twin"])
def test_bare_counterfactual_equals_the_chirho_worlds(kind, do, worlds):
    m, units = _units(kind)
    bare = counterfactual(m, units, do, worlds=worlds)
    with pyro.poutine.block():  # an active handler: ChiRho's worlds run
        handled = counterfactual(m, units, do, worlds=worlds)
    for part in ("factual", "counterfactual", "noise"):
        a, b = getattr(bare, part), getattr(handled, part)
        assert list(a) == list(b)
        for v in a:
            assert a[v].shape == b[v].shape and a[v].dtype == b[v].dtype, (part, v)
            assert _same(a[v], b[v]), (part, v)


def test_bare_counterfactual_of_a_discrete_model_equals_the_chirho_worlds():
    m = random_discrete_scm(5, n_categories=3, n_latent=1, seed=4)
    units = m.sample(300, seed=5)  # the latent u0 is not observed: it is filled in first
    pyro.set_rng_seed(9)  # filling in and abducting Gumbel noise sample; same seed, same draws
    bare = counterfactual(m, units, {"x1": 2}, n_samples=3, particles=300)
    pyro.set_rng_seed(9)
    with pyro.poutine.block():
        handled = counterfactual(m, units, {"x1": 2}, n_samples=3, particles=300)
    for part in ("factual", "counterfactual", "noise"):
        for v, x in getattr(bare, part).items():
            assert _same(x, getattr(handled, part)[v]), (part, v)
    assert bare.counterfactual["x1"].shape == (3, 300)


def test_in_place_linear_arithmetic_equals_the_plain_formula():
    g = torch.Generator().manual_seed(0)
    a, b, u = (torch.randn(1000, generator=g) for _ in range(3))
    world = torch.randn(2, 1000, generator=g)  # a parent with a world axis: the sum broadcasts
    before = [t.clone() for t in (a, b, u, world)]
    lg = LinearGaussian({"a": 0.7, "b": -1.3}, bias=0.25)
    plain = (a * 0.7).add(b, alpha=-1.3) + 0.25
    assert torch.equal(mean_columns(lg, [a, b], u), plain)
    assert torch.equal(call_columns(lg, [a, b], u), plain + u)
    with torch.no_grad():
        assert torch.equal(abduct_columns(lg, plain + u, [a, b]), (plain + u) - plain)
    assert torch.equal(call_columns(lg, [a, world], u), (a * 0.7).add(world, alpha=-1.3) + 0.25 + u)
    assert all(torch.equal(x, y) for x, y in zip((a, b, u, world), before))  # inputs untouched


# ---------------------------------------------------------------- the column routes
from workbench.scm.fast_worlds import abduct_all  # noqa: E402
from workbench.scm.mechanisms import MLP, AdditiveNoise, mlp  # noqa: E402


@pytest.mark.parametrize("k", [0, 1, 3])
@pytest.mark.parametrize("n", [1, 5, MLP_BLOCK, 2 * MLP_BLOCK + 7])
def test_mlp_of_columns_equals_the_stacked_call(k, n):
    f = mlp(k, hidden=5, seed=k)
    g = torch.Generator().manual_seed(n)
    cols = [torch.randn(n, generator=g) for _ in range(k)]
    stacked = torch.stack(cols, -1) if k else torch.zeros(n, 0)
    assert torch.allclose(mlp_of_columns(f, cols, like=torch.empty(n)), f(stacked), rtol=1e-5, atol=1e-6)


def test_mlp_of_columns_with_world_dimensions_broadcasts_like_the_call():
    f = mlp(2, seed=1)
    a, b = torch.randn(2, 1, 7), torch.randn(7)  # a world axis on one parent only
    expected = f(torch.stack(torch.broadcast_tensors(a, b), -1))
    assert torch.allclose(mlp_of_columns(f, [a, b], like=torch.empty(2, 1, 7)), expected, atol=1e-6)


def test_mlp_refuses_weights_of_the_wrong_shape():
    with pytest.raises(ShapeError, match="n_inputs, hidden"):
        MLP(torch.ones(2, 3), torch.zeros(4), torch.ones(3))
    with pytest.raises(NonFiniteValueError):
        MLP(torch.ones(1, 2), torch.tensor([0.0, float("nan")]), torch.ones(2))


@pytest.mark.parametrize("mech", [
    LinearGaussian({"a": 0.7, "b": -1.3}, bias=0.25, noise_scale=0.5),
    AdditiveNoise(["a", "b"], mlp(2, seed=3), noise_scale=0.5),
    AdditiveNoise(["a", "b"], lambda pa: torch.sin(pa[..., 0]) * pa[..., 1], noise_scale=0.5),
])
def test_counterfactual_columns_is_abduction_then_prediction(mech):
    g = torch.Generator().manual_seed(0)
    a, b, a_cf, value = (torch.randn(50, generator=g) for _ in range(4))
    u = abduct_columns(mech, value, [a, b])
    expected = call_columns(mech, [a_cf, b], u)  # b did not change: the same tensor in both worlds
    got = counterfactual_columns(mech, value, [a, b], [a_cf, b])
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(counterfactual_columns(mech, value, [a, b], [a, b]), value)  # nothing changed


def test_additive_sampling_in_one_pass_matches_drawing_the_noise_first():
    mech = AdditiveNoise(["a"], mlp(1, seed=2), noise=dist.Normal(0.3, 0.5))
    a = torch.randn(1000)
    torch.manual_seed(4)
    one_pass = sample_columns(mech, [a], 1000)
    torch.manual_seed(4)
    u = dist.Normal(0.3, 0.5).expand((1000,)).sample()
    assert torch.allclose(one_pass, call_columns(mech, [a], u), rtol=1e-5, atol=1e-5)


def test_abducted_noise_is_computed_when_read_and_equals_abduct():
    m, units = _units("mlp", n=200)
    r = counterfactual(m, units, {"x1": -1.0})
    assert isinstance(r.noise, AbductedNoise) and not r.noise._done  # nothing abducted yet
    eager = abduct_all(m, units)
    assert list(r.noise) == list(eager) and len(r.noise) == len(m.variables)
    for site in eager:
        assert torch.equal(r.noise[site], eager[site])
    with pytest.raises(KeyError):
        r.noise["U_nope"]


def test_additive_counterfactual_with_several_samples_and_float64_data():
    m, units = _units("linear", n=30)
    data = {v: x.double() for v, x in units.items()}
    r = counterfactual(m, data, {"x2": 1.0}, n_samples=2)
    with pyro.poutine.block():
        handled = counterfactual(m, data, {"x2": 1.0}, n_samples=2)
    for part in ("factual", "counterfactual", "noise"):
        for v, x in getattr(handled, part).items():
            got = getattr(r, part)[v]
            assert got.shape == x.shape == (2, 30) and got.dtype == x.dtype, (part, v)
            assert _same(got, x), (part, v)


@pytest.mark.parametrize("held", [[0], [1], [0, 1, 2]])
def test_mlp_folds_parents_held_fixed_into_its_bias(held):
    f, n = mlp(3, seed=4), 2 * MLP_BLOCK + 3
    cols = [torch.full((), 0.7 * i).expand(n) if i in held else torch.randn(n) for i in range(3)]
    got = mlp_of_columns(f, cols, like=torch.empty(n))
    assert torch.allclose(got, f(torch.stack(cols, -1)), rtol=1e-5, atol=1e-6)
    got.add_(1.0)  # the result is the caller's own tensor, even when every parent is fixed
