"""The anti-causal predictors of the digits' parents (``predictors_digits``, issue 17).

Run through ``scripts/train_pretrained.py --only predictors_digits`` (one thread, fixed seed,
a few minutes of one CPU core); checkpoints under ``benchmarks/results/predictors_training``
so a stopped run resumes to the same weights.
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch

import workbench as wb
from workbench.deepscm.predictors import evaluate_predictors, train_predictors
from workbench.latents import save_pretrained

SPECS = {"predictors_digits": {"images": 20000, "steps": 3000, "batch_size": 128, "lr": 1e-3, "channels": 32}}
SEED, CHECKPOINTS = 0, Path("benchmarks/results/predictors_training")


def train_one(name: str, steps: int | None, directory) -> dict:
    spec = dict(SPECS[name])
    steps = spec.pop("steps") if steps is None else steps
    spec.pop("steps", None)
    wb.seed_everything(SEED)
    model, result = train_predictors(steps, images=spec["images"], seed=SEED, channels=spec["channels"],
                                     batch_size=spec["batch_size"], lr=spec["lr"],
                                     checkpoint_dir=CHECKPOINTS / name, progress=True)
    scores = evaluate_predictors(model, n=1000, seed=12345)
    info = {
        "dataset": "digits",
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, **spec, "seed": SEED, "seconds_last_call": round(result.seconds, 1),
                     "final_loss": round(result.losses[-1], 5), "torch": torch.__version__,
                     "python": platform.python_version()},
        "evaluation": {"held_out_images": 1000, "held_out_seed": 12345,
                       **{k: round(v, 4) for k, v in scores.items()}},
    }
    return save_pretrained(model, name, info, directory)
