"""Soundness metrics against hand-computed values on toy generators with known answers, and
the digits' exact counterfactual against an independent route (the SCM's own noise)."""

from __future__ import annotations

import pytest
import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.metrics import soundness as snd
from workbench.metrics.errors import MetricInputError


def identity(images, parents, interventions):
    return images


def paint(images, parents, interventions):
    """Each image becomes a flat field of grey level ``intensity`` (the intervened one if given)."""
    value = interventions.get("intensity", parents["intensity"])
    return (value / 255).view(-1, 1, 1, 1).expand_as(images).clone()


def brightness(images, parents):
    """An exact predictor of the painted intensity."""
    return 255 * images.flatten(1).mean(1)


def flat(levels, size=4):
    return (torch.tensor(levels) / 255).view(-1, 1, 1, 1).expand(-1, 1, size, size).clone()


@pytest.fixture(scope="module")
def digits():
    truth = snd.DigitsGroundTruth()
    images, parents = truth.sample(16, generator=3)
    return truth, images, parents


def test_the_identity_generator_has_no_drift():
    x, pa = torch.rand(5, 1, 6, 6, generator=torch.Generator().manual_seed(0)), {"t": torch.rand(5)}
    c = snd.composition(identity, x, pa)
    assert c.scores == {"distance_1": 0.0, "distance_10": 0.0} and c.follows_published_protocol
    r = snd.reversibility(identity, x, pa, {"t": 0.5})
    assert r.scores == {"distance_2": 0.0, "distance_10": 0.0} and r.follows_published_protocol


def test_a_constant_shift_drifts_by_hand_computed_grey_levels():
    shift = lambda images, parents, interventions: (images + 2 / 255).clamp(0, 1)   # +2 grey levels
    c = snd.composition(shift, torch.zeros(3, 1, 4, 4), {"t": torch.ones(3)}, cycles=(1, 2, 10))
    assert c.scores == pytest.approx({"distance_1": 2.0, "distance_2": 4.0, "distance_10": 20.0}, abs=1e-4)
    assert c.with_choices_differing() == ["cycles"]
    # on a half-grey image one unit saturates after one step: |255 - 254| = 1, then 0 drift
    half = flat([127.0, 254.0])
    c = snd.composition(shift, half, {"t": torch.ones(2)})
    assert c.details["per_image"]["distance_10"].tolist() == pytest.approx([20.0, 1.0], abs=1e-4)


def test_reversibility_of_a_forgetful_generator_is_hand_computed():
    halve = lambda images, parents, interventions: images * 0.5
    r = snd.reversibility(halve, torch.ones(2, 1, 2, 2), {"t": torch.zeros(2)}, {"t": 1.0})
    assert r.scores == pytest.approx({"distance_2": 255 * 0.75, "distance_10": 255 * (1 - 2 ** -10)})
    assert r.choices == {"cycle_length": 2, "repeats": 5}
    # a painting generator returns to the factual field when the parent is set back
    x, pa = flat([100.0, 200.0]), {"intensity": torch.tensor([100.0, 200.0])}
    r = snd.reversibility(paint, x, pa, {"intensity": 30.0})
    assert float(r) == pytest.approx(0.0, abs=1e-4)


def test_reversibility_visits_each_value_of_a_longer_cycle():
    seen = []
    def record(images, parents, interventions):
        seen.append(float(interventions["t"][0]))
        return images
    snd.reversibility(record, torch.zeros(1, 1, 1, 1), {"t": torch.zeros(1)}, [{"t": 1.0}, {"t": 2.0}],
                      repeats=2)
    assert seen == [1.0, 2.0, 0.0, 1.0, 2.0, 0.0]


def test_effectiveness_of_a_generator_that_ignores_the_intervention():
    x, pa = flat([100.0, 200.0]), {"intensity": torch.tensor([100.0, 200.0])}
    do = {"intensity": torch.tensor([150.0, 140.0])}
    ignored = snd.effectiveness(identity, x, pa, do, {"intensity": brightness})
    assert float(ignored) == pytest.approx((50 + 60) / 2, abs=1e-3)        # |pa - pa*|
    assert ignored.details["factual"] == pytest.approx({"intensity_absolute_error": 55.0}, abs=1e-3)
    followed = snd.effectiveness(paint, x, pa, do, {"intensity": brightness})
    assert float(followed) == pytest.approx(0.0, abs=1e-3)
    # a categorical parent forced to another class: accuracy 0 when ignored, 1 when followed
    one_hot = lambda images, parents: torch.eye(10)[(255 * images.flatten(1)[:, 0]).round().long() % 10]
    digit_x, digit_pa = flat([3.0, 7.0]), {"digit": torch.tensor([3.0, 7.0])}
    draw = lambda images, parents, interventions: flat(interventions["digit"].tolist())
    do_digit = {"digit": torch.tensor([5.0, 1.0])}
    assert float(snd.effectiveness(identity, digit_x, digit_pa, do_digit, {"digit": one_hot}, ["digit"])) == 0.0
    assert float(snd.effectiveness(draw, digit_x, digit_pa, do_digit, {"digit": one_hot}, ["digit"])) == 1.0


def test_the_exact_counterfactual_matches_the_scms_own_noise(digits):
    truth, _, _ = digits
    noise = truth.scm.sample_noise(12, generator=5)
    values = truth.scm.solve(noise)
    images = truth.scm.render(values)
    do = {"thickness": torch.linspace(1.0, 4.0, 12)}
    expected, expected_values = truth.scm.counterfactual(noise, do)
    got = truth(images, values, do)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(truth.parents_after(values, do)["intensity"], expected_values["intensity"], atol=1e-3)
    # do(thickness) moves the child: thicker strokes are brighter for the same unit
    thin, thick = (truth.parents_after(values, {"thickness": t})["intensity"] for t in (1.0, 4.0))
    assert bool((thick > thin).all())


def test_the_exact_generator_scores_zero_everywhere(digits):
    truth, images, parents = digits
    do = {"thickness": 3.5}
    measure = snd.digit_morphometrics(truth.dataset)
    r = snd.ground_truth_error(truth, images, parents, do, truth, measure)
    assert r.score == 0.0
    assert r.scores["intensity_absolute_error"] == pytest.approx(0.0, abs=1e-3)
    assert r.scores["thickness_absolute_error"] == pytest.approx(0.0, abs=1e-3)
    assert r.scores["factual_l1"] > 1.0
    assert float(snd.composition(truth, images, parents)) == 0.0
    rev = snd.reversibility(truth, images, parents, do, parents_after=truth.parents_after)
    assert float(rev) == pytest.approx(0.0, abs=1e-3)
    com = snd.commutativity(truth, images, parents, {"thickness": 2.0}, {"digit": 8.0},
                            parents_after=truth.parents_after)
    assert float(com) == pytest.approx(0.0, abs=1e-3)
    ignored = snd.ground_truth_error(identity, images, parents, do, truth)
    assert ignored.score == ignored.scores["factual_l1"] > 1.0


def test_ground_truth_error_of_a_known_shift():
    truth = paint
    off_by_ten = lambda images, parents, interventions: paint(images, parents, {"intensity": interventions["intensity"] + 10})
    x, pa = flat([100.0, 200.0]), {"intensity": torch.tensor([100.0, 200.0])}
    r = snd.ground_truth_error(off_by_ten, x, pa, {"intensity": torch.tensor([120.0, 170.0])}, truth,
                               {"intensity": brightness})
    assert r.scores == pytest.approx({"pixel_l1": 10.0, "factual_l1": 25.0, "intensity_absolute_error": 10.0},
                                     abs=1e-3)
    assert r.details["floor"] == pytest.approx({"intensity_absolute_error": 0.0}, abs=1e-3)


def test_commutativity_of_an_order_dependent_generator():
    def last_wins(images, parents, interventions):
        value = next(iter(interventions.values()))
        return value.view(-1, 1, 1, 1).expand_as(images).clone()
    pa = {"a": torch.zeros(2), "b": torch.zeros(2)}
    r = snd.commutativity(last_wins, torch.zeros(2, 1, 2, 2), pa, {"a": 0.8}, {"b": 0.2})
    assert float(r) == pytest.approx(255 * 0.6, abs=1e-3)
    assert float(snd.commutativity(identity, torch.zeros(2, 1, 2, 2), pa, {"a": 0.8}, {"b": 0.2})) == 0.0


@pytest.mark.parametrize("case, error", [
    ("images are 0-255", snd.PixelRangeError),
    ("negative pixels", snd.PixelRangeError),
    ("NaN images", NonFiniteValueError),
    ("greyscale without channel", ShapeError),
    ("parents too short", ShapeError),
    ("NaN parent", NonFiniteValueError),
    ("unknown intervened parent", UnknownVariableError),
    ("generator changes the shape", ShapeError),
    ("generator returns NaN", NonFiniteValueError),
    ("generator returns 0-255", snd.PixelRangeError),
    ("unknown predicted parent", UnknownVariableError),
    ("predictor returns wrong shape", ShapeError),
    ("empty intervention", MetricInputError),
])
def test_bad_input_raises_a_typed_error(case, error):
    x, pa, do = flat([100.0, 200.0]), {"intensity": torch.tensor([100.0, 200.0])}, {"intensity": 50.0}
    gen, predictors = paint, {"intensity": brightness}
    if case == "images are 0-255":
        x = x * 255
    elif case == "negative pixels":
        x = x - 0.5
    elif case == "NaN images":
        x[0, 0, 0, 0] = float("nan")
    elif case == "greyscale without channel":
        x = x[:, 0]
    elif case == "parents too short":
        pa = {"intensity": torch.tensor([100.0])}
    elif case == "NaN parent":
        pa = {"intensity": torch.tensor([100.0, float("nan")])}
    elif case == "unknown intervened parent":
        do = {"intensty": 50.0}
    elif case == "generator changes the shape":
        gen = lambda images, parents, interventions: images[:, :, :2]
    elif case == "generator returns NaN":
        gen = lambda images, parents, interventions: images * float("nan")
    elif case == "generator returns 0-255":
        gen = lambda images, parents, interventions: images * 255
    elif case == "unknown predicted parent":
        predictors = {"thickness": brightness}
    elif case == "predictor returns wrong shape":
        predictors = {"intensity": lambda images, parents: images}
    elif case == "empty intervention":
        do = {}
    with pytest.raises(error) as info:
        snd.effectiveness(gen, x, pa, do, predictors)
    assert isinstance(info.value, WorkbenchInputError) and str(info.value)


def test_the_digits_truth_rejects_impossible_factors(digits):
    truth, images, parents = digits
    with pytest.raises(MetricInputError, match="64, 255"):
        truth.parents_after({**parents, "intensity": parents["intensity"] * 0 + 300.0}, {})
    with pytest.raises(UnknownVariableError, match="slant"):
        truth.parents_after({k: v for k, v in parents.items() if k != "slant"}, {})


def test_the_morphometrics_measure_rendered_digits_exactly(digits):
    truth, images, parents = digits
    measure = snd.digit_morphometrics(truth.dataset)
    assert torch.allclose(measure["intensity"](images, parents), parents["intensity"], atol=1e-3)
    assert torch.allclose(measure["thickness"](images, parents), parents["thickness"], atol=1e-3)
    # and on a counterfactual: do(thickness = 3.5) reads 3.5, and the child intensity moved with it
    do = {"thickness": torch.full((len(images),), 3.5)}
    r = snd.effectiveness(truth, images, parents, do, measure, parents_after=truth.parents_after)
    assert r.scores == pytest.approx({"intensity_absolute_error": 0.0, "thickness_absolute_error": 0.0}, abs=1e-3)
    ignored = snd.effectiveness(identity, images, parents, do, measure, parents_after=truth.parents_after)
    assert float(ignored) == pytest.approx(float((parents["thickness"] - 3.5).abs().mean()), abs=1e-3)
    # Monteiro et al.'s targets keep the factual intensity: the exact twin then misses it
    published = snd.effectiveness(truth, images, parents, do, measure)
    assert published.scores["intensity_absolute_error"] > 1.0


def test_thin_strokes_need_the_joint_measurement(digits):
    truth = digits[0]
    pa = {"digit": torch.arange(10.0), "thickness": torch.full((10,), 0.6), "slant": torch.linspace(-0.3, 0.3, 10),
          "intensity": torch.full((10,), 200.0)}
    images = truth(None, pa, {})
    assert bool((snd.measure_intensity(images) < 199.0).any())      # no pixel has full ink
    measure = snd.digit_morphometrics(truth.dataset)
    assert torch.allclose(measure["intensity"](images, pa), pa["intensity"], atol=1e-2)
    assert torch.allclose(measure["thickness"](images, pa), pa["thickness"], atol=1e-3)


def test_inputs_on_the_workbench_device_work(digits):
    """On a CUDA machine this moves everything to the GPU; the renderer stays on the CPU."""
    from workbench.runtime import device
    truth, images, parents = digits
    images, parents = images.to(device()), {k: v.to(device()) for k, v in parents.items()}
    do = {"thickness": torch.full((len(images),), 3.0, device=device())}
    measure = snd.digit_morphometrics(truth.dataset)
    r = snd.ground_truth_error(truth, images, parents, do, truth, measure)
    assert r.score == 0.0 and r.scores["thickness_absolute_error"] == pytest.approx(0.0, abs=1e-3)
    assert float(snd.composition(truth, images, parents)) == 0.0
