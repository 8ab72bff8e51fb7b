"""The deep-SCM family of scripts/train_pretrained.py: the digits' parent flows and the cVAE.

* ``deepscm_parents_digits``: thickness and intensity | thickness as neural spline flows
  (workbench.latents.flows.fit_digit_parents), scored by their test log-likelihood against
  the true one and by how far their counterfactual parents (abduct, do, solve) lie from the
  exact ones (workbench.metrics.soundness.DigitsGroundTruth.parents_after).
* ``cvae_digits``: the conditional VAE image mechanism (workbench.deepscm.vae), trained with
  workbench.latents.train, checkpointed under benchmarks/results/checkpoints/cvae_digits/ (a
  stopped run resumes bit-identically by running the same command again), scored on
  held-out digits (workbench.deepscm.vae.evaluate_image_mechanism).
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


def train_one(name: str, steps: int | None, directory) -> dict:
    if SPECS[name] == "parents":
        return train_parents(name, steps, directory)
    from workbench.deepscm.vae import train_cvae_digits
    return train_cvae_digits(name, steps, directory, CHECKPOINTS / name)
