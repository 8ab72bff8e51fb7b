"""The DDIM image mechanism of scripts/train_pretrained.py (``--only ddim_digits``), issue 17.

A :class:`workbench.deepscm.DiffusionMechanism` (conditional UNet on the digits' parents:
digit one-hot, thickness, intensity) trained through workbench.latents.train on 20,000
observational digits of the SCM (seed 0), one thread, with a checkpoint folder under
benchmarks/results/checkpoints/<name>/ (every 200 steps and on interrupt): running the same
command again resumes bit-identically. Halfway, the weights are also saved (with their own
manifest) under benchmarks/results/checkpoints/<name>_halfway/ to measure an intermediate
model. Measuring the held-out soundness numbers is scripts/evaluate_ddim.py's job; it writes
them into the manifest's ``evaluation``.
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch

import workbench as wb
from workbench.deepscm import DiffusionMechanism, encode_parents
from workbench.latents import save_pretrained, train
from workbench.metrics.soundness import DigitsGroundTruth

CHECKPOINTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "checkpoints"
#: name -> mechanism settings
SPECS = {
    "ddim_digits": {"channels": 16, "semantic_dim": 0},
    "ddim_sem_digits": {"channels": 16, "semantic_dim": 8},     # the semantic-encoder ablation
}
SEED, BATCH, LR, IMAGES, STEPS = 0, 64, 2e-3, 20_000, 6000


def training_data(n: int = IMAGES, seed: int = SEED):
    """``(images, encode_parents(parents))`` of ``n`` observational digits."""
    images, parents = DigitsGroundTruth().sample(n, generator=seed)
    return images, encode_parents(parents)


def train_one(name: str, steps: int | None, directory) -> dict:
    steps = steps or STEPS
    wb.seed_everything(SEED)
    mech = DiffusionMechanism(**SPECS[name], device="cpu")
    data = training_data()
    settings = dict(steps=steps, batch_size=BATCH, lr=LR, seed=SEED, checkpoint_dir=CHECKPOINTS / name,
                    checkpoint_every=200, progress=True)
    halfway = CHECKPOINTS / f"{name}_halfway"
    if not (halfway / f"{name}.safetensors").is_file():
        first = train(mech, data, **{**settings, "steps": steps // 2})
        save_pretrained(mech, name, {"training": {"steps": first.step}}, halfway)
    result = train(mech, data, **settings)
    losses = result.losses[-200:]
    info = {
        "dataset": "digits (observational SCM samples, DigitsGroundTruth().sample)",
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "batch_size": BATCH, "lr": LR, "seed": SEED, "images": IMAGES,
                     "seconds_last_call": round(result.seconds, 1),
                     "mean_loss_last_200": round(sum(losses) / len(losses), 5),
                     "torch": torch.__version__, "python": platform.python_version()},
    }
    return save_pretrained(mech, name, info, directory)
