"""The pendulum's deep SCM: routes agree, exact parents, do(light) moves the shadow and not the pendulum."""

from __future__ import annotations

import math

import pytest
import torch

import workbench as wb
from workbench.datasets.pendulum import render_pendulum
from workbench.datasets.scm import InterventionRangeError
from workbench.deepscm.pendulum import PendulumDeepSCM, pendulum_parent_scm
from workbench.deepscm.pendulum_evaluation import (
    held_out_pendulums, measure_shadow, pendulum_mask, region_scores, shadow_strip, true_counterfactual,
)
from workbench.deepscm.pendulum_image import PendulumCVAE
from workbench.deepscm.pendulum_parents import (
    MIN_LENGTH, PENDULUM_VARIABLES, CensoredFlow, ClampedFlowMechanism, PendulumParentFlows,
    exact_pendulum_parents, fit_pendulum_parents,
)
from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents import list_pretrained, load_pretrained
from workbench.scm import counterfactual_by_hand

pretrained = pytest.mark.skipif(not {"cvae_pendulum", "deepscm_parents_pendulum"} <= set(list_pretrained()),
                                reason="the pendulum's pretrained weights are not shipped")


@pytest.fixture(scope="module")
def units():
    values = held_out_pendulums(12, seed=5)
    return render_pendulum(values, 32), values


@pytest.fixture(scope="module")
def tiny():
    wb.seed_everything(0)
    flows, _ = fit_pendulum_parents(400, steps=20, flow="maf", transforms=1, hidden=(16,), progress=False)
    return PendulumCVAE(channels=8, hidden=16, device="cpu"), flows


def _only(values):
    return {v: values[v] for v in PENDULUM_VARIABLES}


@pytest.mark.parametrize("worlds", ["twin", "multi"])
@pytest.mark.parametrize("learned", [False, True])
def test_chirho_route_equals_the_by_hand_route(units, tiny, worlds, learned):
    images, values = units
    scm = PendulumDeepSCM(tiny[0], tiny[1] if learned else None)
    do = {"phi": torch.linspace(1.0, 2.2, len(images)), "theta": 0.1}
    by_hand = scm.counterfactual_by_hand(images, values, do)
    chirho = scm.counterfactual_chirho(images, values, do, worlds=worlds)
    assert torch.allclose(by_hand.images, chirho.images, atol=1e-6)
    for v in PENDULUM_VARIABLES:
        assert torch.allclose(by_hand.parents[v], chirho.parents[v], atol=1e-5), v


@pytest.mark.parametrize("learned", [False, True])
def test_the_parents_null_intervention_returns_the_input(units, tiny, learned):
    values = _only(units[1])
    scm = tiny[1].scm() if learned else exact_pendulum_parents()
    assert (values["shadow_length"] == MIN_LENGTH).any() and (values["shadow_length"] > MIN_LENGTH).any()
    with torch.no_grad():
        back = counterfactual_by_hand(scm, values, {}).counterfactual
    for v in PENDULUM_VARIABLES:
        assert torch.allclose(back[v], values[v], atol=1e-5), v


def test_exact_parents_reproduce_the_true_counterfactual_off_the_floor():
    values = held_out_pendulums(300, seed=3)
    target = held_out_pendulums(300, seed=4)["phi"]
    ours = PendulumDeepSCM(PendulumCVAE(channels=8, hidden=16)).parents_after(values, {"phi": target})
    _, truth = true_counterfactual(values, {"phi": target})
    off = values["shadow_length"] > MIN_LENGTH
    assert torch.equal(ours["theta"], values["theta"])
    assert torch.allclose(ours["shadow_position"], truth["shadow_position"], atol=1e-4)
    assert torch.allclose(ours["shadow_length"][off], truth["shadow_length"][off], atol=1e-4)
    # on the floor U_l is only known to be <= 3 - |s|: the median of that tail, never above the bound
    s = 9.5 * (torch.sin(values["theta"]) + torch.cos(values["theta"]) / torch.tan(values["phi"]))
    u = exact_pendulum_parents().mechanisms["shadow_length"].abduct(
        values["shadow_length"][~off], torch.stack([values["theta"], values["phi"]], -1)[~off])
    normal = torch.distributions.Normal(0.0, 0.5)
    assert torch.allclose(normal.cdf(u), normal.cdf(MIN_LENGTH - s[~off].abs()) / 2, atol=1e-5)


def test_censored_flow_loss_is_the_tobit_likelihood():
    torch.manual_seed(0)
    flow = CensoredFlow(1, floor=3.0, flow="maf", transforms=1, hidden=(8,), device="cpu")
    x, c = torch.tensor([[3.0], [4.2], [3.0], [5.0]]), torch.tensor([[0.1], [-0.3], [0.7], [0.0]])
    loss, terms = flow.loss(torch.cat([x, c], 1))
    on_floor = x[:, 0] == 3.0
    z_floor = flow.transform(c[on_floor])(x[on_floor])[:, 0]
    expected = torch.cat([torch.distributions.Normal(0.0, 1.0).cdf(z_floor).log(),
                          flow.log_prob(x[~on_floor], c[~on_floor])])
    assert math.isclose(float(loss.detach()), -float(expected.detach().mean()), rel_tol=1e-5)
    assert terms["censored"] == 0.5


def test_clamped_mechanism_predicts_the_floor_from_its_floor_noise():
    mech = ClampedFlowMechanism(["a"], net=CensoredFlow(1, flow="maf", transforms=1, hidden=(8,), device="cpu"))
    pa = torch.tensor([[0.0], [0.5]])
    u = mech.abduct(torch.tensor([3.0, 3.0]), pa)
    u_floor = mech.net.transform(pa)(torch.full((2, 1), 3.0))[:, 0]
    assert bool((u < u_floor).all())
    assert torch.equal(mech(pa, u), torch.tensor([3.0, 3.0]))


def test_do_light_keeps_theta_exactly_and_the_pendulum_pixels_of_the_truth(units, tiny):
    images, values = units
    target = torch.full((len(images),), 2.1)
    cf = PendulumDeepSCM(tiny[0], tiny[1]).counterfactual_by_hand(images, values, {"phi": target})
    truth, after = true_counterfactual(values, {"phi": target})
    assert torch.equal(cf.parents["theta"], values["theta"]) and torch.equal(cf.parents["phi"], target)
    assert torch.equal(pendulum_mask(truth), pendulum_mask(images))          # the truth's pendulum stays put
    assert not torch.equal(truth[..., shadow_strip(32)], images[..., shadow_strip(32)])


def test_region_scores_of_the_truth_and_of_doing_nothing(units):
    images, values = units
    truth, _ = true_counterfactual(values, {"phi": torch.full((len(images),), 1.1)})
    exact = region_scores(images, truth, truth)
    nothing = region_scores(images, images, truth)
    assert exact["pixel_l1"] == exact["pendulum_change"] == exact["pendulum_change_true"] == 0.0
    assert exact["shadow_change"] == exact["shadow_change_true"] > 0 and exact["sun_change"] > 0
    assert nothing["pixel_l1"] == nothing["factual_l1"] == exact["factual_l1"] > 0
    assert nothing["shadow_change"] == 0.0 and nothing["shadow_l1"] == exact["shadow_change_true"]


def test_the_shadow_read_from_exact_renders_is_within_a_pixel(units):
    images, values = units
    read = measure_shadow(images)
    pixel = 22.0 / 32
    assert ((read["length"] - values["shadow_length"]).abs() <= pixel + 1e-4).all()
    assert ((read["position"] - values["shadow_position"]).abs() <= pixel / 2 + 1e-4).all()


def test_typed_errors_on_bad_input(units, tiny):
    images, values = units
    scm = PendulumDeepSCM(tiny[0])
    with pytest.raises(UnknownVariableError, match="light"):
        scm.counterfactual(images, values, {"light": 1.0})
    with pytest.raises(UnknownVariableError, match="shadow_length"):
        scm.counterfactual(images, {k: v for k, v in values.items() if k != "shadow_length"}, {"phi": 1.0})
    with pytest.raises(ShapeError, match=r"\(n, 3, 32, 32\)"):
        scm.counterfactual(images[:, :1], values, {"phi": 1.0})
    for phi in (3.5, -0.2, math.pi / 8):
        with pytest.raises(InterventionRangeError, match=r"\(0, pi\)"):
            scm.counterfactual(images, values, {"phi": phi})
    with pytest.raises(InterventionRangeError, match="negative"):
        scm.counterfactual(images, values, {"shadow_length": -1.0})
    with pytest.raises(WorkbenchInputError, match="dict"):
        scm.parents_after([1.0, 2.0], {"phi": 1.0})
    with pytest.raises(WorkbenchInputError, match="image"):
        scm.counterfactual(images, values, {"image": images})
    with pytest.raises(WorkbenchInputError, match="worlds"):
        scm.counterfactual_chirho(images, values, {"phi": 1.0}, worlds="three")
    with pytest.raises(WorkbenchInputError, match="PendulumParentFlows"):
        pendulum_parent_scm(exact_pendulum_parents().do(phi=1.0))


def test_parent_flows_save_and_load(tmp_path, tiny):
    from workbench.latents import save_pretrained

    save_pretrained(tiny[1], "p", {}, directory=tmp_path, durable=False)
    again = load_pretrained("p", device="cpu", directory=tmp_path)
    assert isinstance(again, PendulumParentFlows) and again.config == tiny[1].config
    values = _only(held_out_pendulums(5, seed=1))
    one, two = (counterfactual_by_hand(f.scm(), values, {"phi": 1.5}).counterfactual for f in (tiny[1], again))
    assert all(torch.equal(one[v], two[v]) for v in PENDULUM_VARIABLES)


@pretrained
def test_shipped_parents_move_the_shadow_as_the_true_equations_say():
    values = held_out_pendulums(400, seed=11)
    target = held_out_pendulums(400, seed=12)["phi"]
    scm = PendulumDeepSCM(load_pretrained("cvae_pendulum", device="cpu"),
                          load_pretrained("deepscm_parents_pendulum", device="cpu"))
    after = scm.parents_after(values, {"phi": target})
    _, truth = true_counterfactual(values, {"phi": target})
    off = values["shadow_length"] > MIN_LENGTH
    assert torch.equal(after["theta"], values["theta"])
    # a pixel at 32x32 is 0.69 world units; off the floor the learned shadow is within a tenth of one
    assert float((after["shadow_position"] - truth["shadow_position"]).abs().mean()) < 0.1
    assert float((after["shadow_length"] - truth["shadow_length"])[off].abs().mean()) < 0.1
    null = scm.parents_after(values, {})                  # exact inversion: the input back, floor units too
    assert all(torch.allclose(null[v], values[v], atol=1e-5) for v in PENDULUM_VARIABLES)


@pretrained
def test_shipped_model_moves_the_shadow_and_not_the_pendulum():
    values = held_out_pendulums(64, seed=13)
    images, target = render_pendulum(values, 32), held_out_pendulums(64, seed=14)["phi"]
    scm = PendulumDeepSCM(load_pretrained("cvae_pendulum", device="cpu"),
                          load_pretrained("deepscm_parents_pendulum", device="cpu"))
    truth, _ = true_counterfactual(values, {"phi": target})
    s = region_scores(images, scm(images, values, {"phi": target}), truth, scm(images, values, {}))
    assert s["pixel_l1"] < s["factual_l1"] / 3
    # what the action changed (from the model's own reconstruction): the pendulum a few grey levels
    # (the truth: 0), the shadow and the sun as much as the truth does, within 10%
    assert s["pendulum_action"] < s["shadow_action"] / 4 and s["pendulum_change_true"] == 0.0
    for region in ("shadow", "sun"):
        assert abs(s[f"{region}_action"] - s[f"{region}_change_true"]) < 0.1 * s[f"{region}_change_true"]


def test_exercise_4_rejects_blank_and_wrong_answers_and_accepts_the_deep_scm_s_answer():
    from workbench.exercises import check, exercise
    from workbench.exercises.pendulum_counterfactuals import TARGET_PHI, UNIT

    unit = {k: torch.tensor([v]) for k, v in UNIT.items()}
    after = PendulumDeepSCM(PendulumCVAE(channels=8, hidden=16)).parents_after(unit, {"phi": TARGET_PHI})
    assert check("11", 4, float(after["shadow_position"][0]))            # the library's route agrees
    ns = {}
    exec(exercise("11", 4).solution, ns)
    assert check("11", 4, ns["position_answer"])
    assert repr(check("11", 4, None)).startswith("No answer yet")
    for wrong in (UNIT["shadow_position"], 6.0839, ns["position_answer"] + 0.05, "left"):
        verdict = check("11", 4, wrong)
        assert not verdict and verdict.message.startswith("Not yet: "), wrong
