"""Flows as mechanisms: exact inversion, log-dets, Pyro/ChiRho routes, training, save/load, errors.

The flow SCM used for counterfactuals (every mechanism a FlowMechanism)::

    a ---> b ---> c
    |             ^
    +-------------+
"""

import pyro
import pytest
import torch

import workbench as wb
from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents.flows import CausalFlow, ConditionalFlow, FlowMechanism, flow_distribution
from workbench.scm import SCM, LinearGaussian, Shift, counterfactual, counterfactual_by_hand, load_scm, save_scm
from workbench.scm.spec import SpecError, scm_from_spec, scm_to_spec

KINDS = ["maf", "nsf"]


def _data(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, generator=g)
    b = torch.sin(2 * a) + 0.3 * torch.randn(n, generator=g)
    c = a * b + 0.2 * torch.randn(n, generator=g)
    return {"a": a, "b": b, "c": c}


@pytest.fixture(scope="module", params=KINDS)
def flow_scm(request):
    wb.seed_everything(0)
    data = _data()
    mechs = {"a": FlowMechanism([], flow=request.param, hidden=(16,)),
             "b": FlowMechanism(["a"], flow=request.param, hidden=(16,)),
             "c": FlowMechanism(["a", "b"], flow=request.param, hidden=(16,))}
    for v, m in mechs.items():
        m.fit(data, v, steps=40, progress=False)
    return SCM(mechs), data


# ------------------------------------------------------------------ inversion and log-dets
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("features,context", [(1, 0), (1, 3), (4, 2)])
def test_round_trip_float32(kind, features, context):
    torch.manual_seed(1)
    flow = ConditionalFlow(features, context, flow=kind, transforms=3, hidden=(16, 16))
    flow.standardize(torch.randn(50, features) * 3 + 1, torch.randn(50, context) if context else None)
    x = torch.randn(300, features) * 3 + 1
    c = torch.randn(300, context) if context else None
    t = flow.transform(c)
    z = t(x.clone())
    back = t.inv(z.clone())                    # clones: Pyro-style caches key on tensor identity
    assert z.dtype == torch.float32 and float((back - x).abs().max().detach()) <= 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_causal_flow_round_trip(kind):
    torch.manual_seed(2)
    flow = CausalFlow(["x1", "x2", "x3"], [("x1", "x2"), ("x2", "x3")], flow=kind, transforms=2, hidden=(16,))
    x = torch.randn(300, 3)
    assert float((flow.generate(flow.abduct(x.clone()).clone()) - x).abs().max().detach()) <= 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_log_det_matches_autograd_jacobian(kind):
    torch.manual_seed(3)
    flow = ConditionalFlow(3, 2, flow=kind, transforms=2, hidden=(16,))
    for x, c in zip(torch.randn(5, 3) * 2, torch.randn(5, 2)):
        t = flow.transform(c)
        jac = torch.autograd.functional.jacobian(lambda v: t(v), x.clone())
        _, ladj = t.call_and_ladj(x.clone())
        assert abs(float(torch.linalg.slogdet(jac)[1] - ladj)) <= 1e-4


def test_flow_density_is_change_of_variables_and_pyro_agrees():
    torch.manual_seed(4)
    flow = ConditionalFlow(1, 1, flow="nsf", hidden=(8,))
    v, pa = torch.randn(7), torch.randn(7, 1)
    t = flow.transform(pa)
    z = t(v[:, None].clone())
    with torch.enable_grad():
        x = v.clone().requires_grad_(True)
        (slope,) = torch.autograd.grad(t(x[:, None]).sum(), x)
    by_hand = torch.distributions.Normal(0.0, 1.0).log_prob(z[:, 0]) + slope.abs().log()
    pyro_lp = flow_distribution(flow, pa).log_prob(v.clone())
    assert torch.allclose(pyro_lp, by_hand, atol=1e-5)
    assert torch.allclose(flow.log_prob(v[:, None].clone(), pa), by_hand, atol=1e-5)


# ------------------------------------------------------------------ a flow mechanism in an SCM
def test_counterfactual_routes_agree(flow_scm):
    from workbench.scm import fast_worlds
    m, data = flow_scm
    assert fast_worlds.all_additive(m)           # fully observed: the one-step bare route
    unit = {k: x[:6].clone() for k, x in data.items()}
    do = {"b": 0.5}
    ours = counterfactual(m, unit, do).counterfactual
    hand = counterfactual_by_hand(m, unit, do).counterfactual
    twin = counterfactual(m, unit, do, worlds="twin", method="chirho").counterfactual  # ChiRho abducts
    with pyro.poutine.trace():                    # a handler around it: ChiRho's multi-world program
        multi = counterfactual(m, unit, do).counterfactual
    # inversion written out: u_c = T_c(c; a, b), then c' = T_c^-1(u_c; a, b')
    pa = torch.stack([unit["a"], unit["b"]], -1)
    u_c = m.mechanisms["c"].abduct(unit["c"].clone(), pa)
    c_cf = m.mechanisms["c"](torch.stack([unit["a"], torch.full((6,), 0.5)], -1), u_c)
    for other in (hand, twin, multi):
        for v in "abc":
            assert torch.allclose(ours[v], other[v].detach(), atol=1e-5), v
    assert torch.allclose(ours["c"], c_cf.detach(), atol=1e-5)
    assert torch.allclose(ours["a"], unit["a"], atol=1e-5) and torch.allclose(ours["b"], torch.full((6,), 0.5))


def test_do_and_soft_interventions(flow_scm):
    m, _ = flow_scm
    natural = m.sample(200, seed=3)
    hard = m.do(b=1.0).sample(200, seed=3)
    shifted = m.do(b=Shift(1.0)).sample(200, seed=3)
    assert torch.equal(hard["b"], torch.ones(200)) and torch.equal(hard["a"], natural["a"])
    assert torch.allclose(shifted["b"], natural["b"] + 1.0, atol=1e-5)
    assert not torch.allclose(hard["c"], natural["c"])
    linear = m.replace(b=LinearGaussian({"a": 0.0}, bias=2.0, noise_scale=0.1)).sample(2000, seed=0)
    assert abs(float(linear["b"].mean()) - 2.0) < 0.02


def test_conditioning_uses_the_flow_density(flow_scm):
    m, _ = flow_scm
    post = m.condition(c=0.0).sample(300, seed=0, particles=6000)
    assert post["c"].shape == (300,) and torch.isfinite(post["b"]).all()


def test_abduction_recovers_the_closed_form_noise():
    # y = 2 x + 0.5 u with u ~ N(0, 1): the fitted affine flow's noise should be (y - 2x) / 0.5
    wb.seed_everything(0)
    true = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, noise_scale=0.5)})
    data = true.sample(2000, seed=1)
    y = FlowMechanism(["x"], flow="maf", transforms=1, hidden=(16,))
    y.fit(data, "y", steps=400, lr=1e-2, progress=False)
    u = y.abduct(data["y"][:200], data["x"][:200, None]).detach()
    closed = (data["y"][:200] - 2 * data["x"][:200]) / 0.5
    assert float((u - closed).abs().mean()) < 0.1


# ------------------------------------------------------------------ training
def test_fit_resumes_bit_identically(tmp_path):
    data = _data(300)

    def run(folder, stop=None):
        wb.seed_everything(0)
        mech = FlowMechanism(["a"], flow="nsf", hidden=(8,))

        def callback(step, terms):
            if step == stop:
                raise KeyboardInterrupt
        mech.fit(data, "b", steps=12, batch_size=32, checkpoint_dir=folder, checkpoint_every=4,
                 progress=False, callback=callback)
        return mech

    reference = run(tmp_path / "ref")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", stop=6)
    resumed = run(tmp_path / "cut")
    a, b = reference.net.state_dict(), resumed.net.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_training_lowers_the_loss():
    wb.seed_everything(0)
    mech = FlowMechanism(["a"], flow="maf", hidden=(16,))
    result = mech.fit(_data(), "b", steps=150, lr=1e-2, progress=False)
    assert sum(result.losses[-10:]) / 10 < sum(result.losses[:10]) / 10 - 0.3


# ------------------------------------------------------------------ save / load
def test_flow_scm_saves_and_loads_exactly(flow_scm, tmp_path):
    m, data = flow_scm
    again = load_scm(save_scm(m, tmp_path / "flows.json"))
    s1, s2 = m.sample(50, seed=4), again.sample(50, seed=4)
    assert all(torch.equal(s1[v], s2[v]) for v in s1)
    assert isinstance(again.mechanisms["c"], FlowMechanism)
    spec = scm_to_spec(m)
    spec["mechanisms"]["c"]["state"].popitem()
    with pytest.raises(SpecError, match="do not fit"):
        scm_from_spec(spec)


def test_causal_flow_saves_and_loads(tmp_path):
    from workbench.latents.flows import load_causal_flow, save_causal_flow
    torch.manual_seed(5)
    flow = CausalFlow(["x", "y"], [("x", "y")], flow="nsf", hidden=(8,))
    x = torch.randn(20, 2)
    again = load_causal_flow(save_causal_flow(flow, tmp_path / "cf"))
    assert torch.equal(again.log_prob(x), flow.log_prob(x)) and again.config == flow.config


# ------------------------------------------------------------------ bad input
def test_bad_input_raises_typed_errors():
    mech = FlowMechanism(["a", "b"], flow="maf", hidden=(8,))
    with pytest.raises(ShapeError, match="last axis of 2"):
        mech(torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(ShapeError):
        ConditionalFlow(1, 2).log_prob(torch.zeros(4, 1), torch.zeros(4, 5))
    bad = _data(50)
    bad["b"][3] = float("nan")
    with pytest.raises(NonFiniteValueError, match="NaN"):
        FlowMechanism(["a"]).fit(bad, "b", steps=1, progress=False)
    with pytest.raises(UnknownVariableError, match="Did you mean 'b'"):
        FlowMechanism(["a"]).fit(_data(50), "bb", steps=1, progress=False)
    flow = CausalFlow(["x", "y"], [("x", "y")], hidden=(8,))
    with pytest.raises(UnknownVariableError, match="Did you mean 'x'"):
        flow.intervene({"X": 1.0}, 5)
    with pytest.raises(NonFiniteValueError):
        flow.counterfactual(torch.tensor([[float("inf"), 0.0]]), {"x": 1.0})
    with pytest.raises(WorkbenchInputError, match="Unknown flow"):
        ConditionalFlow(1, 0, flow="glow")
    with pytest.raises(WorkbenchInputError, match="constant"):
        ConditionalFlow(1, 0).standardize(torch.ones(10, 1))
    with pytest.raises(ShapeError, match=r"\(n, 2\)"):               # the loop reads data_shape
        wb.latents.train(ConditionalFlow(1, 1), torch.zeros(10, 3), steps=1, progress=False)
