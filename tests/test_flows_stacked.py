"""The stacked speed path of a flow SCM, pinned to the teaching code it speeds up.

The flow SCM (every mechanism a FlowMechanism; ``d`` has two parents, ``b`` one)::

    a ---> b ---> d
    |             ^
    +----> c -----+
"""

import pytest
import torch
import zuko

import workbench as wb
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.flows import FlowMechanism, StackedFlows, fit_flow_scm
from workbench.latents.flows.splines import affine, spline
from workbench.scm import SCM, counterfactual

PARENTS = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def _data(n=800, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, generator=g)
    b = torch.sin(2 * a) + 0.3 * torch.randn(n, generator=g)
    c = a ** 2 + 0.5 * torch.randn(n, generator=g)
    d = b * c + 0.2 * torch.randn(n, generator=g)
    return {"a": a, "b": b, "c": c, "d": d}


def _mechanisms(flow, transforms=2, seed=0):
    torch.manual_seed(seed)
    return {v: FlowMechanism(p, flow=flow, transforms=transforms, hidden=(16, 16)) for v, p in PARENTS.items()}


@pytest.fixture(scope="module", params=["nsf", "maf"])
def fitted(request):
    wb.seed_everything(0)
    mechs = _mechanisms(request.param)
    fit_flow_scm(mechs, _data(), steps=40, batch_size=128, lr=1e-2, progress=False)
    return mechs


def test_spline_and_affine_equal_zukos_transforms_both_ways():
    g = torch.Generator().manual_seed(0)
    phi, x = torch.randn(3, 400, 23, generator=g), 2.5 * torch.randn(3, 400, generator=g)
    zuko_t = zuko.transforms.MonotonicRQSTransform(phi[..., :8], phi[..., 8:16], phi[..., 16:])
    y, ladj = zuko_t.call_and_ladj(x)
    ours_y, ours_ladj = spline(x, phi)
    torch.testing.assert_close(ours_y, y, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours_ladj, ladj, atol=1e-4, rtol=1e-4)
    back, back_ladj = spline(y.clone(), phi, inverse=True)
    torch.testing.assert_close(back, zuko_t.inv(y.clone()), atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(back_ladj, ladj, atol=2e-3, rtol=1e-3)   # log f'(x) at the recovered x
    assert bool((x.abs() > 5).any())                                # identity tails were exercised
    for inverse, value in ((False, x), (True, y)):                   # the log-slope can be skipped
        without = spline(value, phi, inverse=inverse, with_ladj=False)
        assert without[1] is None and torch.equal(without[0], spline(value, phi, inverse=inverse)[0])
    phi2 = torch.randn(3, 400, 2, generator=g)
    zuko_a = zuko.transforms.MonotonicAffineTransform(phi2[..., 0], phi2[..., 1])
    y2, ladj2 = zuko_a.call_and_ladj(x)
    torch.testing.assert_close(affine(x, phi2)[0], y2)
    torch.testing.assert_close(affine(x, phi2)[1], ladj2)
    torch.testing.assert_close(affine(y2, phi2, inverse=True)[0], x, atol=1e-5, rtol=1e-5)


def test_spline_backward_is_autograd_through_zukos_spline():
    g = torch.Generator().manual_seed(1)
    phi = torch.randn(3, 300, 23, generator=g, dtype=torch.float64, requires_grad=True)
    x = (3 * torch.randn(3, 300, generator=g, dtype=torch.float64)).requires_grad_()
    w_y, w_ladj = torch.randn(2, 3, 300, generator=g, dtype=torch.float64)
    zuko_t = zuko.transforms.MonotonicRQSTransform(phi[..., :8], phi[..., 8:16], phi[..., 16:])
    y, ladj = zuko_t.call_and_ladj(x)
    expected = torch.autograd.grad((w_y * y + w_ladj * ladj).sum(), (x, phi))
    ours_y, ours_ladj = spline(x, phi)
    got = torch.autograd.grad((w_y * ours_y + w_ladj * ours_ladj).sum(), (x, phi))
    for ours, theirs in zip(got, expected):
        torch.testing.assert_close(ours, theirs, atol=1e-9, rtol=1e-9)
    assert bool((x.abs() > 5).any()) and bool((got[1][x.abs() > 5] == 0).all())   # identity tails: no gradient
    small = (x[0, :6].detach().clone().requires_grad_(), phi[0, :6].detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(lambda a, p: spline(a, p), small)


def test_stacked_log_prob_equals_each_mechanisms_own(fitted):
    data = _data(300, seed=1)
    x = torch.stack([data[v] for v in PARENTS], -1)
    stacked = StackedFlows(fitted)
    by_hand = torch.stack([fitted[v].log_prob(data[v], torch.stack([data[p] for p in ps], -1) if ps
                                              else torch.zeros(300, 0)) for v, ps in PARENTS.items()], -1)
    torch.testing.assert_close(stacked.log_prob(x), by_hand, atol=1e-4, rtol=1e-5)
    u, _ = stacked.abduct(x)
    torch.testing.assert_close(u[:, 3], fitted["d"].abduct(data["d"], x[:, 1:3]), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("do", [{"a": 0.5}, {"c": -1.0}, {"a": 1.0, "b": 0.2}])
def test_stacked_counterfactual_equals_the_scm_route(fitted, do):
    units = {v: t[:200] for v, t in _data(200, seed=2).items()}
    stacked = StackedFlows(fitted)
    stacked.chunk = 64                                              # four batches of units, the last short
    ours = stacked.counterfactual(units, do)
    reference = counterfactual(SCM(fitted), units, do).counterfactual
    for v in PARENTS:
        torch.testing.assert_close(ours[v], reference[v], atol=1e-4, rtol=1e-5)
    if "a" not in do:                                               # upstream of every do: exactly factual
        assert torch.equal(ours["a"], units["a"])


@pytest.mark.parametrize("flow", ["nsf", "maf"])
def test_stacked_fit_trains_the_same_weights_as_fitting_each_mechanism(flow):
    data = _data()
    one_by_one, stacked = _mechanisms(flow), _mechanisms(flow)
    for v, m in one_by_one.items():
        m.fit(data, v, steps=15, batch_size=64, lr=1e-2, seed=3, progress=False)
    result = fit_flow_scm(stacked, data, steps=15, batch_size=64, lr=1e-2, seed=3, progress=False)
    assert result.step == 15
    for v in PARENTS:
        for p, q in zip(one_by_one[v].net.state_dict().values(), stacked[v].net.state_dict().values()):
            torch.testing.assert_close(p, q, atol=1e-4, rtol=1e-4)
    before = {v: {k: t.clone() for k, t in m.net.state_dict().items()} for v, m in stacked.items()}
    StackedFlows(stacked).write_back()                               # copy in and out: nothing moves
    for v, m in stacked.items():
        for k, t in m.net.state_dict().items():
            assert torch.equal(t, before[v][k])


def test_stacked_flows_reject_bad_input():
    mixed = {"a": FlowMechanism(flow="nsf", transforms=1), "b": FlowMechanism(["a"], flow="maf", transforms=1)}
    with pytest.raises(WorkbenchInputError, match="share"):
        StackedFlows(mixed)
    with pytest.raises(UnknownVariableError):                      # a parent listed after its child
        StackedFlows({"b": FlowMechanism(["a"], transforms=1), "a": FlowMechanism(transforms=1)})
    with pytest.raises(WorkbenchInputError):
        StackedFlows({})
    stacked = StackedFlows(_mechanisms("maf", transforms=1))
    with pytest.raises(UnknownVariableError):
        stacked.counterfactual({v: torch.zeros(2) for v in PARENTS}, {"z": 1.0})
