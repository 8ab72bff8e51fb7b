"""The deep-SCM flow of scripts/train_pretrained.py: ``flow_digits``, the exactly invertible image mechanism.

A conditional multi-scale flow (workbench.deepscm.FlowImageMechanism) trained by maximum
likelihood (bits per dimension) on observational digits of the Morpho-style SCM
(thickness -> intensity -> image <- digit) with their parents, through
workbench.latents.train, one thread, checkpoints under benchmarks/results/checkpoints/
flow_digits/ every 200 steps (a stopped run resumes bit-identically with the same command).

Evaluation on held-out digits (seed 12345), also runnable on a checkpoint::

    python scripts/pretrained_flow.py --checkpoint benchmarks/results/checkpoints/flow_digits --n 200
    python scripts/pretrained_flow.py --ablation 600     # parents only as coupling channels

composition (null intervention, 1 and 10 cycles, L1 0-255), do(thickness = t*) with t* drawn
from the SCM's thickness law: the measured thickness (workbench.metrics.soundness.
digit_morphometrics) within 10% of t*, digit kept (the nearest of the ten classes' true
renders at the true slant and the counterfactual's thickness and intensity is the digit's
own; and by the anti-causal classifier predictors_digits), pixel L1 to the exact counterfactual against the factual image's (ground_truth_error
with DigitsGroundTruth), held-out bits/dim and counterfactuals a second on one core.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

import workbench as wb
from workbench.deepscm import FlowImageMechanism
from workbench.latents import load_pretrained, save_pretrained, train
from workbench.latents.checkpoint import load_checkpoint
from workbench.metrics.soundness import DigitsGroundTruth, composition, digit_morphometrics, ground_truth_error

CHECKPOINTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "checkpoints"
SPECS = {"flow_digits": {"levels": 3, "steps": [8, 8, 4], "hidden": [48, 64, 64], "map_channels": [8, 16, 32]}}
SEED, BATCH, LR, IMAGES, STEPS, HELD_OUT_SEED = 0, 64, 1e-3, 30_000, 3000, 12345


def training_data(n: int = IMAGES, seed: int = SEED):
    """``(images, digit, thickness, intensity)`` of ``n`` observational digits."""
    images, parents = DigitsGroundTruth().sample(n, generator=seed)
    return images, parents["digit"], parents["thickness"], parents["intensity"]


def _generator(mech, truth):
    return lambda images, parents, interventions: mech.counterfactual(
        images, parents, truth.parents_after(parents, interventions))


def _nearest_class(truth, images, after):
    """The class whose true render (true slant, the counterfactual's thickness and intensity) is nearest in L1."""
    distances = torch.stack([(truth.dataset.scm.render({**after, "digit": torch.full_like(after["digit"], d)})
                              - images).abs().flatten(1).mean(1) for d in range(10)], 1)
    return distances.argmin(1).float()


@torch.no_grad()
def evaluate(mech, n: int = 1000, seed: int = HELD_OUT_SEED) -> dict:
    """The measured goals of issue 17 on ``n`` held-out digits (see the module docstring)."""
    truth = DigitsGroundTruth()
    images, parents = truth.sample(n, generator=seed)
    rng = np.random.default_rng(seed + 1)
    target = torch.as_tensor(0.5 + rng.gamma(10.0, 1 / 5.0, n), dtype=torch.float32)
    do = {"thickness": target}
    generator = _generator(mech, truth)
    start, cpu = time.perf_counter(), time.process_time()
    counterfactuals = generator(images, parents, do)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    after = truth.parents_after(parents, do)
    morphometrics = digit_morphometrics(truth.dataset)
    measured = morphometrics["thickness"](counterfactuals, after)
    factual_measured = morphometrics["thickness"](images, after)
    intensity_error = (morphometrics["intensity"](counterfactuals, after) - after["intensity"]).abs().mean()
    factual_intensity_error = (morphometrics["intensity"](images, after) - after["intensity"]).abs().mean()
    relative = (measured - target).abs() / target
    round_trip = (mech.predict(mech.abduct(images.clone(), parents), parents) - images).abs()
    null = composition(generator, images, parents)
    gt = ground_truth_error(generator, images, parents, do, truth)
    bpd = mech.bits_per_dim(images, parents, generator=torch.Generator().manual_seed(seed)).mean()
    classifier = load_pretrained("predictors_digits", device="cpu").predict(counterfactuals)["digit"]
    return {"held_out_images": n, "held_out_seed": seed,
            "bits_per_dim": round(float(bpd), 4),
            "round_trip_max_abs": float(f"{float(round_trip.max()):.3g}"),
            "composition_l1_1": float(f"{null.scores['distance_1']:.3g}"),
            "composition_l1_10": float(f"{null.scores['distance_10']:.3g}"),
            "thickness_within_10pct": round(float((relative <= 0.1).float().mean()), 4),
            "thickness_within_10pct_factual": round(float(((factual_measured - target).abs() / target <= 0.1)
                                                           .float().mean()), 4),
            "thickness_abs_error": round(float((measured - target).abs().mean()), 4),
            "thickness_abs_error_factual": round(float((factual_measured - target).abs().mean()), 4),
            "intensity_abs_error": round(float(intensity_error), 3),
            "intensity_abs_error_factual": round(float(factual_intensity_error), 3),
            "digit_kept": round(float((_nearest_class(truth, counterfactuals, after) == parents["digit"])
                                      .float().mean()), 4),
            "digit_kept_predictors_digits": round(float((classifier == parents["digit"]).float().mean()), 4),
            "ground_truth_l1": round(gt.scores["pixel_l1"], 4),
            "factual_to_truth_l1": round(gt.scores["factual_l1"], 4),
            "counterfactuals_per_s_one_core": round(n / seconds, 1),
            "counterfactuals_per_cpu_s": round(n / cpu_seconds, 1)}


def train_one(name: str, steps: int | None, directory) -> dict:
    steps = steps or STEPS
    wb.seed_everything(SEED)
    mech = FlowImageMechanism(device="cpu", **SPECS[name])
    data = training_data()
    result = train(mech, data, steps=steps, batch_size=BATCH, lr=LR, seed=SEED,
                   checkpoint_dir=CHECKPOINTS / name, checkpoint_every=200, progress=True)
    losses = result.losses[-200:]
    info = {
        "dataset": "digits (observational, with parents digit, thickness, intensity)",
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "batch_size": BATCH, "lr": LR, "seed": SEED, "images": IMAGES,
                     "seconds_last_call": round(result.seconds, 1),
                     "mean_bits_per_dim_last_200": round(sum(losses) / len(losses), 4),
                     "torch": torch.__version__, "python": platform.python_version()},
        "evaluation": evaluate(mech),
    }
    return save_pretrained(mech, name, info, directory)


def from_checkpoint(directory, name: str = "flow_digits") -> FlowImageMechanism:
    """The flow in a training checkpoint (to measure it while it trains)."""
    groups, state = load_checkpoint(directory)
    mech = FlowImageMechanism(device="cpu", **{k: v for k, v in state["model"].items() if k != "kind"})
    mech.load_state_dict(groups["model"])
    print(f"checkpoint at step {state['step']}")
    return mech.eval()


def ablation(steps: int = 600, n: int = 200) -> dict:
    """The same flow and training, the parents only as broadcast channels of the couplings: the
    conditional priors and the parent maps frozen at zero (priors N(0, 1)). Compare with the
    step-``steps`` checkpoint of the shipped recipe (manifest ``evaluation.during_training``)."""
    wb.seed_everything(SEED)
    mech = FlowImageMechanism(device="cpu", **SPECS["flow_digits"])
    with torch.no_grad():
        for p in [*mech.priors.parameters(), *mech.parent_maps.parameters()]:
            p.zero_()
            p.requires_grad_(False)
    train(mech, training_data(), steps=steps, batch_size=BATCH, lr=LR, seed=SEED, progress=True)
    return evaluate(mech.eval(), n=n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Evaluate a flow_digits checkpoint on held-out digits.")
    parser.add_argument("--checkpoint", default=str(CHECKPOINTS / "flow_digits"))
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--ablation", type=int, default=0, metavar="STEPS",
                        help="train and evaluate the broadcast-only ablation for STEPS steps instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(ablation(args.ablation, args.n) if args.ablation else evaluate(from_checkpoint(args.checkpoint), n=args.n))
