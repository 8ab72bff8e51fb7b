"""The bare fast paths give exactly what the Pyro / ChiRho handler paths give.

``SCM.sample`` skips Pyro when no handler is active, and ``counterfactual`` computes
the two worlds by hand when nobody is watching; both must reproduce the handler
routes bit for bit from the same seed (the same noise draws, in the same order).
A handler that records sites (``pyro.poutine.trace``) forces the Pyro route.
"""

import pyro
import pyro.distributions as dist
import pytest
import torch

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
    assert m._runs_bare()
    with pyro.poutine.block():
        assert not m._runs_bare()
    batched = SCM({"x": FunctionMechanism([], lambda pa, u: u.sum(-1), dist.Normal(torch.zeros(2), 1.0)),
                   "y": LinearGaussian({"x": 1.0})})
    assert not batched._runs_bare()  # a noise with a batch shape: left to Pyro's plate


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
    assert torch.equal(lg.mean_columns([a, b], u), plain)
    assert torch.equal(lg.call_columns([a, b], u), plain + u)
    with torch.no_grad():
        assert torch.equal(lg.abduct_columns(plain + u, [a, b]), (plain + u) - plain)
    assert torch.equal(lg.call_columns([a, world], u), (a * 0.7).add(world, alpha=-1.3) + 0.25 + u)
    assert all(torch.equal(x, y) for x, y in zip((a, b, u, world), before))  # inputs untouched
