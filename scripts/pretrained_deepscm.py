"""The deep-SCM family of scripts/train_pretrained.py: the digits' parent flows and the cVAE.

* ``deepscm_parents_digits``: thickness and intensity | thickness as neural spline flows
  (workbench.latents.flows.fit_digit_parents), scored by their test log-likelihood against
  the true one and by how far their counterfactual parents (abduct, do, solve) lie from the
  exact ones (workbench.metrics.soundness.DigitsGroundTruth.parents_after).
* ``cvae_digits``: the conditional VAE image mechanism (workbench.deepscm.vae), trained with
  workbench.latents.train, checkpointed under benchmarks/results/checkpoints/cvae_digits/ (a
  stopped run resumes bit-identically by running the same command again), scored on
  held-out digits (evaluate_cvae below).
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import torch

import workbench as wb
from workbench.latents import save_pretrained

CHECKPOINTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "checkpoints"
SPECS = {"deepscm_parents_digits": "parents", "cvae_digits": "cvae"}
SEED, HELD_OUT_SEED = 0, 12345
PARENT_STEPS, PARENT_TRAIN, PARENT_TEST = 1000, 5000, 5000


def parents_after_error(flows, n: int = 2000, seed: int = HELD_OUT_SEED) -> dict:
    """The learned parents' counterfactual (do(thickness) to a fresh draw) against the exact one."""
    from workbench.deepscm import DigitsDeepSCM, IntensityScaling
    from workbench.metrics.soundness import DigitsGroundTruth

    truth = DigitsGroundTruth()
    _, parents = truth.sample(n, generator=seed)
    _, other = truth.sample(n, generator=seed + 1)
    learned = DigitsDeepSCM(IntensityScaling(), flows)
    out = {}
    for label, do in (("do_thickness", {"thickness": other["thickness"]}), ("null", {"thickness": parents["thickness"]})):
        error = (learned.parents_after(parents, do)["intensity"] - truth.parents_after(parents, do)["intensity"]).abs()
        out[f"{label}_intensity_abs_error_mean"] = round(float(error.mean()), 4)
        out[f"{label}_intensity_abs_error_p95"] = round(float(error.quantile(0.95)), 4)
        out[f"{label}_intensity_abs_error_max"] = round(float(error.max()), 4)
    return out


def train_parents(name: str, steps: int | None, directory) -> dict:
    from workbench.deepscm import DigitParentFlows
    from workbench.latents.flows import fit_digit_parents

    steps = steps or PARENT_STEPS
    wb.seed_everything(SEED)
    start = time.perf_counter()
    fit = fit_digit_parents(n_train=PARENT_TRAIN, n_test=PARENT_TEST, flow="nsf", steps=steps, seed=SEED,
                            progress=True)
    flows = DigitParentFlows.from_fit(fit)
    info = {
        "dataset": "digits (thickness, intensity)",
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "n_train": PARENT_TRAIN, "flow": "nsf", "seed": SEED,
                     "seconds": round(time.perf_counter() - start, 1), "torch": torch.__version__,
                     "python": platform.python_version()},
        "evaluation": {"n_test": PARENT_TEST,
                       "log_likelihood": {v: {k: round(x, 4) for k, x in s.items()}
                                          for v, s in fit.log_likelihood.items()},
                       "parents_after_vs_exact": parents_after_error(flows)},
    }
    return save_pretrained(flows, name, info, directory)


CVAE = {"latent_dim": 16, "channels": 64, "hidden": 256, "beta": 1.0}
CVAE_TRAIN, CVAE_STEPS, CVAE_BATCH, CVAE_LR, CVAE_WARMUP, EVAL_DIGITS, EVAL_SEED = 40_000, 10_000, 64, 1e-3, 1000, 1000, 2026


def evaluate_cvae(mechanism, n: int = EVAL_DIGITS, seed: int = EVAL_SEED) -> dict:
    """Held-out digits (workbench.deepscm.evaluation's test digits and targets): reconstruction,
    composition after 1 and 10 null cycles, do(thickness = t*) effectiveness by exact
    morphometrics (and the digit kept, by predictors_digits when shipped), and the pixel L1 to
    the exact counterfactual against the factual image's, with exact and with learned parents."""
    from workbench.deepscm import DigitsDeepSCM
    from workbench.deepscm.evaluation import draw_targets, evaluation_digits
    from workbench.latents import list_pretrained, load_pretrained
    from workbench.metrics.soundness import (DigitsGroundTruth, composition, digit_morphometrics,
                                             ground_truth_error, predictor_scores)

    truth = DigitsGroundTruth()
    images, parents = evaluation_digits(n, seed)
    do = {"thickness": draw_targets(parents, seed)["thickness"]}
    exact = DigitsDeepSCM(mechanism)
    null = composition(exact, images, parents, cycles=(1, 10)).scores
    counterfactuals = exact(images, parents, do)
    intended = truth.parents_after(parents, do)
    measured = digit_morphometrics(truth.dataset)["thickness"](counterfactuals, intended)
    out = {"held_out_digits": n, "seed": seed,
           "reconstruction_l1": round(null["distance_1"], 3),
           "composition_1": round(null["distance_1"], 3), "composition_10": round(null["distance_10"], 3),
           "do_thickness_within_10pct": round(float(((measured - do["thickness"]).abs()
                                                      <= 0.1 * do["thickness"]).float().mean()), 4),
           "do_thickness_mae": round(float((measured - do["thickness"]).abs().mean()), 4)}
    if "predictors_digits" in list_pretrained():
        classifier = {"digit": load_pretrained("predictors_digits", device="cpu").predictors()["digit"]}
        kept = predictor_scores(counterfactuals, intended, classifier, categorical=["digit"])["digit_accuracy"]
        out["digit_kept"] = round(float(kept.mean()), 4)
    versions = {"exact_parents": exact}
    if "deepscm_parents_digits" in list_pretrained():
        versions["learned_parents"] = DigitsDeepSCM(mechanism, load_pretrained("deepscm_parents_digits", device="cpu"))
    for label, generator in versions.items():
        r = ground_truth_error(generator, images, parents, do, truth)
        out[f"truth_l1_{label}"] = round(r.score, 3)
        out["factual_truth_l1"] = round(r.scores["factual_l1"], 3)
    out["truth_ratio_exact_parents"] = round(out["truth_l1_exact_parents"] / out["factual_truth_l1"], 4)
    return out


def train_cvae(name: str, steps: int | None, directory) -> dict:
    from workbench.deepscm import ConditionalVAE
    from workbench.latents import train
    from workbench.metrics.soundness import DigitsGroundTruth

    steps = steps or CVAE_STEPS
    wb.seed_everything(SEED)
    model = ConditionalVAE(**CVAE, device="cpu")
    images, parents = DigitsGroundTruth().sample(CVAE_TRAIN, generator=SEED)
    result = train(model, model.training_data(images, parents), steps=steps, batch_size=CVAE_BATCH, lr=CVAE_LR,
                   seed=SEED, kl_warmup=CVAE_WARMUP, checkpoint_dir=CHECKPOINTS / name, checkpoint_every=250,
                   progress=True)
    start = time.perf_counter()
    evaluation = evaluate_cvae(model.eval())
    losses = result.losses[-200:]
    info = {
        "dataset": "digits (observational draws of the SCM)",
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "images": CVAE_TRAIN, "batch_size": CVAE_BATCH, "lr": CVAE_LR,
                     "kl_warmup": CVAE_WARMUP, "seed": SEED, "seconds_last_call": round(result.seconds, 1),
                     "mean_loss_last_200": round(sum(losses) / len(losses), 3),
                     "torch": torch.__version__, "python": platform.python_version()},
        "evaluation": {**evaluation, "seconds": round(time.perf_counter() - start, 1)},
    }
    return save_pretrained(model, name, info, directory)


def train_one(name: str, steps: int | None, directory) -> dict:
    return (train_parents if SPECS[name] == "parents" else train_cvae)(name, steps, directory)
