"""The conditional image flow (workbench.deepscm.flow): exact abduction, log-det, save/load, errors."""

import math

import pytest
import torch

from workbench.deepscm import DigitsDeepSCM, FlowImageMechanism, ImageMechanism
from workbench.deepscm.flow_layers import ConditionalGaussian, InvertibleConv, squeeze, unsqueeze
from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents import load_pretrained, save_pretrained, train
from workbench.metrics.soundness import DigitsGroundTruth, PixelRangeError, composition, digit_morphometrics, pixel_l1


def tiny(shape=(1, 8, 8), levels=2, perturb=0.05, seed=0):
    """A tiny flow with every weight moved off its identity initialisation (so the test is not trivial;
    much larger moves give noise in the thousands, an ill-conditioned map no training produces)."""
    torch.manual_seed(seed)
    mech = FlowImageMechanism(shape, levels=levels, steps=[2] * levels, hidden=[6] * levels,
                              map_channels=[3] * levels, device="cpu")
    with torch.no_grad():
        for p in mech.parameters():
            p.add_(perturb * torch.randn_like(p))
    return mech.eval()


def parents(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"digit": torch.randint(0, 10, (n,), generator=g).float(),
            "thickness": 1.5 + 2.5 * torch.rand(n, generator=g),
            "intensity": 64 + 191 * torch.rand(n, generator=g)}


def images(n, shape=(1, 8, 8), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *shape, generator=g)
    return torch.where(x < 0.4, torch.zeros_like(x), x)       # like digits: much exact background


def test_round_trip_is_exact_in_float32_with_cloned_inputs():
    mech, x, pa = tiny(), images(16), parents(16)
    noise = mech.abduct(x.clone(), {k: v.clone() for k, v in pa.items()})
    back = mech.predict(noise.clone(), {k: v.clone() for k, v in pa.items()})
    assert noise.shape == (16, 64) and back.dtype == torch.float32
    assert float((back - x).abs().max()) <= 1e-5


def test_round_trip_on_digits_at_full_size():
    mech = FlowImageMechanism(levels=3, steps=[1, 1, 1], hidden=[8, 8, 8], map_channels=[2, 2, 2], device="cpu")
    with torch.no_grad():
        for p in mech.parameters():
            p.add_(0.05 * torch.randn_like(p, generator=None))
    x, pa = DigitsGroundTruth().sample(8, generator=3)
    assert float((mech.predict(mech.abduct(x.clone(), pa), pa) - x).abs().max()) <= 1e-5


def test_log_det_matches_autograd_jacobian_on_a_1x4x4_image():
    mech = tiny(shape=(1, 4, 4), levels=2, perturb=0.1)
    pa = parents(1, seed=1)
    x = (0.2 + 0.6 * torch.rand(16, generator=torch.Generator().manual_seed(2))).requires_grad_(True)
    noise, log_det = mech.transform(x.view(1, 1, 4, 4), pa)
    jacobian = torch.autograd.functional.jacobian(lambda v: mech.transform(v.view(1, 1, 4, 4), pa)[0][0], x)
    sign, expected = torch.linalg.slogdet(jacobian.double())
    assert noise.shape == (1, 16) and float(sign) != 0.0
    assert abs(float(log_det[0]) - float(expected)) <= 1e-4


@pytest.mark.parametrize("layer", [InvertibleConv(4), ConditionalGaussian(3, 4)])
def test_layer_log_det_matches_jacobian(layer):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    context = torch.randn(1, 3, 2, 2)
    args = () if isinstance(layer, InvertibleConv) else (context,)
    x = torch.randn(16)
    jacobian = torch.autograd.functional.jacobian(lambda v: layer(v.view(1, 4, 2, 2), *args)[0].flatten(), x)
    assert abs(float(layer(x.view(1, 4, 2, 2), *args)[1][0]) - float(torch.linalg.slogdet(jacobian)[1])) < 1e-4
    assert torch.allclose(layer.inverse(layer(x.view(1, 4, 2, 2), *args)[0].clone(), *args), x.view(1, 4, 2, 2),
                          atol=1e-5)


def test_squeeze_is_a_permutation():
    x = torch.arange(2 * 3 * 4 * 4.0).view(2, 3, 4, 4)
    assert torch.equal(unsqueeze(squeeze(x)), x)
    assert torch.equal(squeeze(x).flatten().sort().values, x.flatten())


def test_bits_per_dim_at_initialisation_has_the_closed_form():
    """At initialisation every learned map is the identity or orthogonal, so u keeps the norm of the
    logit image: bits/dim = -(sum log N(y) + sum log dy/dx_d) / (D ln 2) + 8, x_d the dequantized pixels."""
    torch.manual_seed(0)
    mech, x, pa = FlowImageMechanism((1, 8, 8), levels=2, steps=[2, 2], hidden=[4, 4], map_channels=[2, 2]), images(3), parents(3)
    got = mech.bits_per_dim(x, pa, generator=torch.Generator().manual_seed(7))
    x_d = (255 * x + torch.rand(x.shape, generator=torch.Generator().manual_seed(7))) / 256
    s = 0.05 + 0.9 * x_d
    y = torch.log(s / (1 - s))
    log_p = (-0.5 * y.pow(2) - 0.5 * math.log(2 * math.pi) + math.log(0.9) - torch.log(s * (1 - s))).flatten(1).sum(1)
    assert torch.allclose(got, -log_p / 64 / math.log(2) + 8, atol=1e-4)


def test_null_intervention_returns_the_input():
    truth = DigitsGroundTruth()
    x, pa = truth.sample(6, generator=0)
    mech = tiny(shape=(1, 32, 32), levels=3)
    assert mech.exact and isinstance(mech, ImageMechanism)
    assert float((mech.counterfactual(x.clone(), pa, pa) - x).abs().max()) <= 1e-5
    gen = lambda images, parents, interventions: mech.counterfactual(images, parents, truth.parents_after(parents, interventions))
    assert composition(gen, x, pa).scores["distance_10"] < 0.01           # grey levels, 0-255


def test_in_the_deep_scm_chirho_equals_by_hand_and_do_nothing_returns_the_input():
    x, pa = DigitsGroundTruth().sample(3, generator=0)
    scm = DigitsDeepSCM(tiny(shape=(1, 32, 32), levels=3))
    by_hand = scm.counterfactual_by_hand(x, pa, {"thickness": 3.0})
    chirho = scm.counterfactual_chirho(x, pa, {"thickness": 3.0})
    assert torch.allclose(by_hand.images, chirho.images, atol=1e-6)
    assert float((scm(x.clone(), pa, {"thickness": pa["thickness"].clone()}) - x).abs().max()) <= 1e-5


def test_the_parents_reach_the_image_and_abduction_is_deterministic():
    mech, x, pa = tiny(), images(4), parents(4)
    u = mech.abduct(x, pa)
    assert torch.equal(u, mech.abduct(x, pa))
    thicker = {**pa, "thickness": pa["thickness"] + 1.0}
    assert float((mech.predict(u, thicker) - x).abs().mean()) > 1e-3
    assert not torch.allclose(mech.abduct(x, thicker), u)


def test_training_lowers_bits_per_dim_through_the_one_loop(tmp_path):
    torch.manual_seed(0)
    mech = FlowImageMechanism((1, 8, 8), levels=2, steps=[1, 1], hidden=[8, 8], map_channels=[2, 2], device="cpu")
    pa = parents(64)
    data = (images(64), pa["digit"], pa["thickness"], pa["intensity"])
    result = train(mech, data, steps=30, batch_size=32, lr=3e-3, progress=False, checkpoint_dir=tmp_path)
    assert sum(result.losses[-5:]) / 5 < sum(result.losses[:5]) / 5 - 0.1
    assert not mech.training


def test_save_and_load_through_load_pretrained(tmp_path):
    mech, x, pa = tiny(shape=(1, 8, 8)), images(5), parents(5)
    save_pretrained(mech, "flow_tiny", {"note": "test"}, directory=tmp_path, durable=False)
    loaded = load_pretrained("flow_tiny", device="cpu", directory=tmp_path)
    assert type(loaded) is FlowImageMechanism and loaded.config == mech.config
    assert torch.equal(loaded.abduct(x, pa), mech.abduct(x, pa))
    new = {**pa, "intensity": torch.full((5,), 200.0)}
    assert torch.equal(loaded.counterfactual(x, pa, new), mech.counterfactual(x, pa, new))


def test_sample_gives_images_in_range():
    out = tiny().sample(parents(3), generator=torch.Generator().manual_seed(0))
    assert out.shape == (3, 1, 8, 8) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_bad_input_raises_typed_errors():
    mech, x, pa = tiny(), images(2), parents(2)
    with pytest.raises(ShapeError, match="this flow takes"):
        mech.abduct(torch.zeros(2, 1, 16, 16), pa)
    with pytest.raises(PixelRangeError):
        mech.abduct(x * 255, pa)
    with pytest.raises(UnknownVariableError):
        mech.abduct(x, {"digit": pa["digit"], "thickness": pa["thickness"]})
    with pytest.raises(ShapeError, match="give one value per image"):
        mech.abduct(x, parents(3))
    with pytest.raises(ShapeError, match="noise has shape"):
        mech.predict(torch.zeros(2, 63), pa)
    with pytest.raises(NonFiniteValueError):
        mech.predict(torch.full((2, 64), float("nan")), pa)
    with pytest.raises(WorkbenchInputError, match="whole number"):
        mech.abduct(x, {**pa, "digit": torch.tensor([0.5, 1.0])})
    with pytest.raises(ShapeError, match="divisible"):
        FlowImageMechanism((1, 12, 12), levels=3)
    with pytest.raises(WorkbenchInputError, match="one per scale"):
        FlowImageMechanism((1, 8, 8), levels=2, steps=[1])
    with pytest.raises(WorkbenchInputError, match="alpha"):
        FlowImageMechanism((1, 8, 8), levels=1, steps=[1], hidden=[2], map_channels=[2], alpha=0.5)


def test_the_shipped_flow_is_exact_and_effective_on_held_out_digits():
    truth = DigitsGroundTruth()
    x, pa = truth.sample(16, generator=99)
    mech = load_pretrained("flow_digits", device="cpu")
    assert type(mech) is FlowImageMechanism and mech.exact
    assert float((mech.predict(mech.abduct(x.clone(), pa), pa) - x).abs().max()) <= 1e-5
    target = torch.full((16,), 3.5)
    after = truth.parents_after(pa, {"thickness": target})
    counterfactual = mech.counterfactual(x, pa, after)
    measure = digit_morphometrics(truth.dataset)["thickness"]
    relative = (measure(counterfactual, after) - target).abs() / target
    factual = (measure(x, after) - target).abs() / target
    assert float(relative.mean()) < 0.1 < float(factual.mean())                 # do(thickness) acts
    assert float(pixel_l1(counterfactual, truth(x, pa, {"thickness": target})).mean()) < 3.0   # grey levels
