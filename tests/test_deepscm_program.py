"""The digits' deep SCM: ChiRho's worlds against the three steps by hand, parents against the
exact SCM, the learned parent flows, the Pyro program's sites, and typed errors."""

import math
from typing import NamedTuple

import pyro
import pyro.distributions as dist
import pytest
import torch
from chirho.interventional.handlers import do

from workbench.deepscm import DigitParentFlows, DigitsDeepSCM, IntensityScaling
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.flows import fit_digit_parents
from workbench.latents.pretrained import list_pretrained, load_pretrained, save_pretrained
from workbench.metrics.soundness import DigitsGroundTruth
from workbench.scm import SCM, FunctionMechanism, LinearGaussian

TRUTH = DigitsGroundTruth()


@pytest.fixture(scope="module")
def digits():
    return TRUTH.sample(24, generator=3)


@pytest.fixture(scope="module")
def tiny_fit():
    return fit_digit_parents(n_train=400, n_test=200, steps=30, flow="nsf", transforms=1, hidden=(8,),
                             progress=False)


@pytest.fixture(scope="module")
def tiny_flows(tiny_fit):
    return DigitParentFlows.from_fit(tiny_fit)


def interventions(n):
    return [{"thickness": 3.0},
            {"digit": torch.arange(n) % 10, "thickness": torch.linspace(1.0, 4.0, n)},
            {"intensity": 220.0, "digit": 2},
            {"thickness": 2.0, "intensity": 100.0}]


class StrokePrior(IntensityScaling):
    """The toy exact mechanism with a prior on its stroke, so the program can draw images."""

    def noise_prior(self):
        return dist.Uniform(torch.zeros(1, 32, 32), torch.ones(1, 32, 32)).to_event(3)


class HalfStroke(NamedTuple):
    stroke: torch.Tensor
    gain: torch.Tensor


class SplitNoise(IntensityScaling):
    """The toy exact mechanism with its noise in two parts (as a diffusion model's SemanticNoise)."""

    def abduct(self, images, parents):
        u = super().abduct(images, parents)
        return HalfStroke(u / 2, torch.full((len(u), 1), 2.0))

    def predict(self, noise, parents):
        return super().predict(noise.stroke * noise.gain.view(-1, 1, 1, 1), parents)


@pytest.mark.parametrize("worlds", ["twin", "multi"])
def test_chirho_route_takes_noise_in_parts(digits, worlds):
    images, parents = digits
    scm = DigitsDeepSCM(SplitNoise())
    for do in interventions(len(images)):
        by_hand = scm.counterfactual_by_hand(images, parents, do)
        chirho = scm.counterfactual_chirho(images, parents, do, worlds=worlds)
        assert isinstance(chirho.noise["U_image"], HalfStroke)
        assert torch.allclose(chirho.images, by_hand.images, atol=1e-6, rtol=0)
        assert torch.allclose(by_hand.images, DigitsDeepSCM(IntensityScaling())(images, parents, do), atol=1e-6)


@pytest.mark.parametrize("worlds", ["twin", "multi"])
@pytest.mark.parametrize("learned", [False, True])
def test_chirho_route_equals_by_hand(digits, tiny_flows, worlds, learned):
    images, parents = digits
    scm = DigitsDeepSCM(IntensityScaling(), tiny_flows if learned else None)
    for do in interventions(len(images)):
        by_hand = scm.counterfactual_by_hand(images, parents, do)
        chirho = scm.counterfactual_chirho(images, parents, do, worlds=worlds)
        assert torch.allclose(chirho.images, by_hand.images, atol=1e-6, rtol=0)
        for name in ("digit", "thickness", "intensity", "slant"):
            assert torch.allclose(chirho.parents[name], by_hand.parents[name], atol=1e-4, rtol=0), name
        assert (by_hand.images - images).abs().max() > 0.01      # the intervention did something


def test_parents_after_exact_is_the_ground_truth(digits):
    _, parents = digits
    scm = DigitsDeepSCM(IntensityScaling())
    for do in interventions(len(parents["digit"])) + [parents, {}]:
        ours, truth = scm.parents_after(parents, do), TRUTH.parents_after(parents, do)
        assert sorted(ours) == sorted(truth)
        for name in truth:
            assert torch.allclose(ours[name], truth[name], atol=1e-4, rtol=0), name


def test_do_thickness_moves_intensity_by_the_units_own_noise(digits):
    _, parents = digits
    after = DigitsDeepSCM(IntensityScaling()).parents_after(parents, {"thickness": 3.5})
    t, i = parents["thickness"].double(), parents["intensity"].double()
    u = torch.logit((i - 64) / 191) - 2 * (t - 2.5)                     # abduction by hand
    expected = 64 + 191 * torch.sigmoid(2 * (3.5 - 2.5) + u)           # prediction by hand
    assert torch.allclose(after["intensity"].double(), expected, atol=1e-3, rtol=0)
    assert torch.equal(after["digit"], parents["digit"]) and torch.equal(after["slant"], parents["slant"])


@pytest.mark.parametrize("learned", [False, True])
def test_null_intervention_of_the_exact_mechanism_returns_the_input(digits, tiny_flows, learned):
    images, parents = digits
    scm = DigitsDeepSCM(IntensityScaling(), tiny_flows if learned else None)
    assert torch.allclose(scm(images, parents, parents), images, atol=1e-6, rtol=0)
    assert torch.allclose(scm(images, parents, {}), images, atol=1e-6, rtol=0)


def test_shipped_parent_flows_are_close_to_the_exact_parents():
    if "deepscm_parents_digits" not in list_pretrained():
        pytest.skip("deepscm_parents_digits not trained yet")
    flows = load_pretrained("deepscm_parents_digits", device="cpu")
    _, parents = TRUTH.sample(500, generator=7)
    _, other = TRUTH.sample(500, generator=8)
    do = {"thickness": other["thickness"]}
    learned = DigitsDeepSCM(IntensityScaling(), flows).parents_after(parents, do)["intensity"]
    error = (learned - TRUTH.parents_after(parents, do)["intensity"]).abs()
    assert float(error.mean()) < 3.0 and float(error.quantile(0.95)) < 8.0      # grey levels


def test_parents_given_as_a_fit_or_an_scm_are_the_same_flows(digits, tiny_fit, tiny_flows):
    _, parents = digits
    do = {"thickness": 3.0}
    expected = DigitsDeepSCM(IntensityScaling(), tiny_flows).parents_after(parents, do)["intensity"]
    for given in (tiny_fit, tiny_fit.scm, tiny_flows.scm()):
        assert torch.equal(DigitsDeepSCM(IntensityScaling(), given).parents_after(parents, do)["intensity"], expected)
    with pytest.raises(WorkbenchInputError, match="must be over"):
        DigitsDeepSCM(IntensityScaling(), SCM({"t": LinearGaussian()}))
    additive = SCM({"thickness": LinearGaussian(), "intensity": FunctionMechanism(
        ["thickness"], lambda pa, u: pa[..., 0] + u ** 3, dist.Normal(0.0, 1.0))})
    with pytest.raises(WorkbenchInputError, match="invertible"):
        DigitsDeepSCM(IntensityScaling(), additive)


def test_parent_flows_save_and_load(tmp_path, digits, tiny_flows):
    _, parents = digits
    save_pretrained(tiny_flows, "flows", {"note": "test"}, directory=tmp_path, durable=False)
    loaded = load_pretrained("flows", directory=tmp_path)
    assert isinstance(loaded, DigitParentFlows)
    do = {"thickness": 3.0}
    a = DigitsDeepSCM(IntensityScaling(), tiny_flows).parents_after(parents, do)
    b = DigitsDeepSCM(IntensityScaling(), loaded).parents_after(parents, do)
    assert torch.equal(a["intensity"], b["intensity"])


def test_the_program_has_every_site_and_draws_images():
    scm = DigitsDeepSCM(StrokePrior())
    pyro.set_rng_seed(0)
    trace = pyro.poutine.trace(scm.model).get_trace(5)
    sites = [name for name, site in trace.nodes.items() if site["type"] == "sample" and name != "units"]
    assert sites == ["U_thickness", "thickness", "U_intensity", "intensity", "digit", "U_image", "image"]
    image = trace.nodes["image"]["value"]
    stroke, intensity = trace.nodes["U_image"]["value"], trace.nodes["intensity"]["value"]
    assert image.shape == (5, 1, 32, 32)
    assert torch.allclose(image, stroke * intensity.view(-1, 1, 1, 1) / 255, atol=1e-6)
    t = trace.nodes["thickness"]["value"]
    assert torch.allclose(t, 0.5 + trace.nodes["U_thickness"]["value"])
    u_i = trace.nodes["U_intensity"]["value"]
    assert torch.allclose(intensity, 64 + 191 * torch.sigmoid(2 * (t - 2.5) + u_i), atol=1e-4)
    with pytest.raises(WorkbenchInputError, match="no prior over its image noise"):
        DigitsDeepSCM(IntensityScaling()).model(2)


def test_the_program_under_do_sets_thickness_and_intensity_follows():
    scm = DigitsDeepSCM(StrokePrior())
    with pyro.poutine.trace() as tr, do(actions={"thickness": torch.full((4,), 3.0)}):
        values = scm.model(4)
    assert torch.equal(values["thickness"], torch.full((4,), 3.0))
    u_i = tr.trace.nodes["U_intensity"]["value"]
    assert torch.allclose(values["intensity"], 64 + 191 * torch.sigmoid(1.0 + u_i), atol=1e-4)
    assert math.isclose(float(values["image"].amax((1, 2, 3)).max()), float(values["intensity"].max()) / 255,
                        rel_tol=0.05)


def test_typed_errors(digits):
    images, parents = digits
    scm = DigitsDeepSCM(IntensityScaling())
    with pytest.raises(UnknownVariableError, match="Did you mean 'thickness'"):
        scm.parents_after(parents, {"thicknes": 3.0})
    with pytest.raises(WorkbenchInputError, match="Cannot intervene on 'image'"):
        scm(images, parents, {"image": images})
    with pytest.raises(WorkbenchInputError, match="whole number in 0..9"):
        scm(images, parents, {"digit": 10})
    with pytest.raises(WorkbenchInputError, match="whole number in 0..9"):
        scm.counterfactual_chirho(images, parents, {"digit": 2.5})
    with pytest.raises(WorkbenchInputError, match="whole number in 0..9"):
        scm.parents_after({**parents, "digit": parents["digit"] - 20}, {"thickness": 3.0})
    with pytest.raises(WorkbenchInputError, match="strictly between 64 and 255"):
        scm.parents_after({**parents, "intensity": torch.full_like(parents["intensity"], 255.0)}, {"thickness": 3.0})
    with pytest.raises(WorkbenchInputError, match="not a parent of the image"):
        scm(images, parents, {"slant": 0.1})
    without = {k: v for k, v in parents.items() if k != "intensity"}
    with pytest.raises(UnknownVariableError, match="Unknown parent 'intensity'"):
        scm(images, without, {"thickness": 3.0})
    with pytest.raises(WorkbenchInputError, match="worlds must be"):
        scm.counterfactual_chirho(images, parents, {"thickness": 3.0}, worlds="three")
    with pytest.raises(WorkbenchInputError, match="must be an ImageMechanism"):
        DigitsDeepSCM(lambda x, p, i: x)
    with pytest.raises(WorkbenchInputError, match="parents must be None"):
        DigitsDeepSCM(IntensityScaling(), parents="flows")
