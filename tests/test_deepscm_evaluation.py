"""The soundness table and the anti-causal predictors (issue 17), on generators with known answers.

    thickness -> intensity -> image <- digit      (slant: part of the image noise)

The toy generators: the identity ("unchanged image": sound by every axiom, never effective),
the exact ground truth (perfect), and IntensityScaling (exact, follows intensity only).
"""

import pytest
import torch

from workbench.deepscm import DigitPredictors, IntensityScaling
from workbench.deepscm.evaluation import (
    MECHANISMS, as_generator, axiom_scores, draw_targets, effectiveness_scores,
    evaluation_digits, load_mechanisms, soundness_row, soundness_table, truth_scores,
)
from workbench.deepscm.predictors import evaluate_predictors, predictor_training_data
from workbench.deepscm.table_workers import BatchRunner
from workbench.errors import ShapeError
from workbench.latents.pretrained import list_pretrained, load_pretrained
from workbench.metrics.errors import MetricInputError
from workbench.metrics.soundness import DigitsGroundTruth, digit_morphometrics, pixel_l1

N, SEED = 32, 3
ORACLE = {k: (lambda x, p, k=k: p[k]) for k in ("digit", "thickness", "intensity")}


def identity(images, parents, interventions):
    return images


@pytest.fixture(scope="module")
def digits():
    images, parents = evaluation_digits(N, SEED)
    return images, parents, draw_targets(parents, SEED)


def within_10pct_by_hand(thickness, targets):
    """A generator that keeps the stroke: its thickness is the factual one."""
    return float(((thickness - targets).abs() <= 0.1 * targets).float().mean())


def test_identity_scores_zero_drift_and_the_factual_effectiveness(digits):
    images, parents, targets = digits
    row = soundness_row("unchanged", identity, images, parents, targets, predictors=ORACLE)
    assert [row[k] for k in ("composition_1", "composition_10", "reversibility", "commutativity")] == [0.0] * 4
    assert row["truth_ratio"] == 1.0 and row["truth_l1"] == row["factual_truth_l1"] > 0
    assert row["thickness_within_10pct"] == within_10pct_by_hand(parents["thickness"], targets["thickness"])
    expected_mae = float((parents["thickness"] - targets["thickness"]).abs().mean())
    assert row["thickness_mae"] == pytest.approx(expected_mae, abs=1e-3)


def test_identity_scores_zero_effectiveness_when_every_target_is_far(digits):
    images, parents, targets = digits
    far = {**targets, "thickness": parents["thickness"] + 3.0}     # 3 px > 10% of any t* below 30
    row = soundness_row("unchanged", identity, images, parents, far, predictors=ORACLE)
    assert row["thickness_within_10pct"] == 0.0


def test_ground_truth_is_perfect(digits):
    images, parents, targets = digits
    row = soundness_row("truth", DigitsGroundTruth(), images, parents, targets, predictors=ORACLE)
    assert row["composition_10"] == 0.0 and row["truth_l1"] == 0.0
    assert row["reversibility"] < 1e-3 and row["commutativity"] < 1e-3
    assert row["thickness_within_10pct"] == 1.0 and row["thickness_mae"] < 1e-3
    assert row["intensity_mae"] < 1e-2


def test_intensity_scaling_is_exact_but_ignores_thickness(digits):
    images, parents, targets = digits
    truth = DigitsGroundTruth()
    row = soundness_row("toy", as_generator(IntensityScaling()), images, parents, targets,
                        predictors=ORACLE)
    assert row["composition_10"] < 1e-3
    assert row["thickness_within_10pct"] == within_10pct_by_hand(parents["thickness"], targets["thickness"])
    assert row["intensity_mae"] < 0.5          # it follows intensity through the parent SCM exactly
    # independent route: the toy's counterfactual is the factual stroke at the new intensity
    after = truth.parents_after(parents, {"thickness": targets["thickness"]})
    stroke = truth.scm.render({**parents, "intensity": after["intensity"]})
    expected = float(pixel_l1(stroke, truth(images, parents, {"thickness": targets["thickness"]})).mean())
    assert row["truth_l1"] == pytest.approx(expected, abs=1e-3)


def test_effectiveness_and_truth_scores_by_hand():
    images, parents = evaluation_digits(4, 0)
    scores = effectiveness_scores(images, parents, parents, ORACLE, digit_morphometrics())
    assert scores["thickness_within_10pct"] == 1.0 and scores["digit_kept"] == 1.0
    assert scores["thickness_mae_predictor"] == 0.0
    half = torch.full((1, 1, 2, 2), 0.5)
    assert truth_scores(half, torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)) == {
        "truth_l1": 127.5, "factual_truth_l1": 255.0, "truth_ratio": 0.5}
    with pytest.raises(MetricInputError, match="changed no true counterfactual"):
        truth_scores(half, half, half)


def test_batching_does_not_change_the_answer(digits):
    images, parents, targets = digits
    truth = DigitsGroundTruth()
    do = {"thickness": targets["thickness"]}
    assert torch.equal(BatchRunner(truth, 5)(images, parents, do), truth(images, parents, do))
    scores = axiom_scores(BatchRunner(truth, 7), images, parents, targets, truth.parents_after)
    assert scores["composition_10"] == 0.0


def test_two_workers_give_the_row_of_one():
    # a tiny untrained DDIM mechanism (the Anderson solver stops image by image), 6 digits in
    # batches of 3: each of the 2 processes gets one, and no number of the row may move
    from workbench.deepscm import DiffusionMechanism
    torch.manual_seed(0)
    tiny = DiffusionMechanism(channels=4, num_steps=20, steps=2, iterations=2, solver="anderson",
                              tolerance=1e-3, device="cpu").eval()
    images, parents = evaluation_digits(6, SEED)
    targets = draw_targets(parents, SEED)
    timing = ("counterfactuals_per_s", "seconds", "cpu_seconds", "workers")
    for fast in (False, True):                 # the teaching UNet, and FastUNet traced in each worker
        tiny.fast = fast
        rows = [soundness_row("tiny", tiny, images, parents, targets, predictors=ORACLE, batch_size=3, workers=w)
                for w in (1, 2)]
        serial, parallel = ({k: v for k, v in row.items() if k not in timing} for row in rows)
        assert serial == parallel
        assert (rows[0]["workers"], rows[1]["workers"]) == (1, 2) and serial["composition_10"] > 0
    with pytest.raises(MetricInputError, match="picklable"):
        BatchRunner(lambda x, pa, do: x, 2, workers=2)


def test_exact_repeats_come_from_memory_and_change_nothing(monkeypatch):
    # the effectiveness pass is remembered; reversibility's first step and commutativity's
    # (thickness, digit) order repeat it exactly, so a deterministic mechanism's row is the row
    # computed without the memory, number for number
    from workbench.deepscm import DiffusionMechanism
    torch.manual_seed(0)
    tiny = DiffusionMechanism(channels=4, num_steps=20, steps=2, iterations=2, solver="anderson",
                              tolerance=1e-3, device="cpu").eval()
    images, parents = evaluation_digits(6, SEED)
    targets = draw_targets(parents, SEED)
    counts = []
    close = BatchRunner.close
    monkeypatch.setattr(BatchRunner, "close", lambda self: counts.append(
        (self.remembered_batches, self.batches_from_memory)) or close(self))
    timing = ("counterfactuals_per_s", "seconds", "cpu_seconds")
    rows = []
    for deterministic in (True, False):
        monkeypatch.setattr(DiffusionMechanism, "deterministic", deterministic)
        row = soundness_row("tiny", tiny, images, parents, targets, predictors=ORACLE, batch_size=3)
        rows.append({k: v for k, v in row.items() if k not in timing})
    assert rows[0] == rows[1] and counts == [(2, 4), (0, 0)]


def test_memory_answers_only_an_exact_repeat():
    calls = []

    def counting(images, parents, interventions):
        calls.append(len(images))
        return images + interventions["t"].view(-1, 1, 1, 1)

    x, pa = torch.rand(4, 1, 2, 2), {"t": torch.zeros(4)}
    with BatchRunner(counting, batch_size=2) as run:
        kept = run(x, pa, {"t": 1.0}, remember=True)
        assert torch.equal(run(x, pa, {"t": 1.0}), kept) and calls == [2, 2]
        nudged = x.clone()
        nudged[3, 0, 0, 0] += 1e-6                                     # the second batch differs
        assert torch.equal(run(nudged, pa, {"t": 1.0})[2:], nudged[2:] + 1) and calls == [2, 2, 2]
        run(x, pa, {"t": 2.0})                                         # another intervention
        run(x, {"t": torch.zeros(4, dtype=torch.float64)}, {"t": 1.0})   # another dtype
        assert calls == [2, 2, 2, 2, 2, 2, 2] and run.batches_from_memory == 3


def test_targets_are_seeded_and_change_the_digit(digits):
    _, parents, targets = digits
    again = draw_targets(parents, SEED)
    assert all(torch.equal(targets[k], again[k]) for k in targets)
    assert bool((targets["digit"] != parents["digit"]).all())
    assert not torch.equal(targets["thickness"], draw_targets(parents, SEED + 1)["thickness"])


def test_table_has_the_reference_rows_and_names_missing_mechanisms():
    table = soundness_table({"toy": IntensityScaling()}, n=8, seed=0, predictors=ORACLE)
    assert list(table["mechanism"]) == ["ground truth", "unchanged image", "toy"]
    found, missing = load_mechanisms(MECHANISMS + ("not_a_mechanism",))
    assert "not_a_mechanism" in missing and set(found) | set(missing) == set(MECHANISMS) | {"not_a_mechanism"}
    with pytest.raises(MetricInputError, match="ImageMechanism or a callable"):
        as_generator(3)
    with pytest.raises(MetricInputError, match="dict"):
        soundness_table([IntensityScaling()], n=4, predictors=ORACLE)


def test_predictors_train_and_reject_other_images():
    from workbench.deepscm.predictors import train_predictors
    model, result = train_predictors(steps=30, images=256, channels=8, batch_size=32, lr=3e-3)
    assert result.losses[-1] < result.losses[0]
    with pytest.raises(ShapeError, match="32, 32"):
        model.predict(torch.zeros(2, 1, 16, 16))
    images, targets = predictor_training_data(5, seed=1)
    assert targets[:, 0].eq(targets[:, 0].round()).all() and images.max() <= 1


@pytest.mark.skipif("predictors_digits" not in list_pretrained(), reason="predictors not trained yet")
def test_pretrained_predictors_read_held_out_digits():
    model = load_pretrained("predictors_digits", device="cpu")
    assert isinstance(model, DigitPredictors)
    scores = evaluate_predictors(model, n=300, seed=777)
    assert scores["digit_accuracy"] > 0.97
    assert scores["thickness_mae"] < 0.15 and scores["intensity_mae"] < 6.0
    # the classifier tells a changed digit from a kept one (digit kept: identity ~1, digit + 1 ~0)
    images, parents = evaluation_digits(64, SEED)
    truth = DigitsGroundTruth()
    relabel = lambda x, pa, do: truth(x, pa, {**do, "digit": (pa["digit"] + 1) % 10})  # noqa: E731
    targets = draw_targets(parents, SEED)
    kept = {}
    for name, gen in (("identity", identity), ("relabel", relabel)):
        cf = gen(images, parents, {"thickness": targets["thickness"]})
        after = truth.parents_after(parents, {"thickness": targets["thickness"]})
        kept[name] = effectiveness_scores(cf, parents, after, model.predictors(), digit_morphometrics())["digit_kept"]
    assert kept["identity"] > 0.95 and kept["relabel"] < 0.05


def test_a_mechanism_runs_through_the_deep_scm_with_the_exact_parents(digits):
    images, parents, targets = digits
    truth, toy = DigitsGroundTruth(), IntensityScaling()
    do = {"thickness": targets["thickness"]}
    by_hand = toy.counterfactual(images, parents, truth.parents_after(parents, do))
    assert torch.allclose(as_generator(toy)(images, parents, do), by_hand, atol=1e-6)


def test_axioms_on_fewer_digits_are_those_digits_scores(digits):
    images, parents, targets = digits
    shift = lambda x, pa, do: (x + 1 / 255).clamp(0, 1)  # noqa: E731
    few = soundness_row("shift", shift, images, parents, targets, predictors=ORACLE, axiom_digits=4)
    alone = soundness_row("shift", shift, images[:4], {k: v[:4] for k, v in parents.items()},
                          {k: v[:4] for k, v in targets.items()}, predictors=ORACLE)
    assert (few["digits"], few["axiom_digits"]) == (N, 4)
    assert few["composition_10"] == alone["composition_10"] and few["truth_l1"] != alone["truth_l1"]
    with pytest.raises(MetricInputError, match="axiom_digits"):
        soundness_row("shift", shift, images, parents, targets, predictors=ORACLE, axiom_digits=N + 1)
    # a budget: as many digits as fit (none left: the first digit only; plenty: all of them)
    tight = soundness_row("shift", shift, images, parents, targets, predictors=ORACLE, row_seconds=0.0)
    ample = soundness_row("shift", shift, images, parents, targets, predictors=ORACLE, row_seconds=3600.0)
    assert (tight["axiom_digits"], ample["axiom_digits"]) == (1, N) and ample["cpu_seconds"] > 0
    with pytest.raises(MetricInputError, match="not both"):
        soundness_row("shift", shift, images, parents, targets, predictors=ORACLE, axiom_digits=4, row_seconds=1.0)
