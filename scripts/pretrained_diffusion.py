"""The diffusion family of scripts/train_pretrained.py: diffusion autoencoders and factor regressors.

Each model trains through workbench.latents.train with a checkpoint folder under
benchmarks/results/checkpoints/<name>/ (saved every 200 steps and on interrupt), so a
stopped run resumes bit-identically by running the same command again. At the end it is
evaluated on 64 held-out images (DDIM inversion then decoding, 20 steps, conditioned on
z_sem) and saved with workbench.latents.save_pretrained.
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch

import workbench as wb
from workbench.datasets import Digits, Pendulum
from workbench.latents import save_pretrained, train
from workbench.latents.diffusion import DiffusionAutoencoder
from workbench.latents.diffusion.regressors import FactorRegressor
from workbench.latents.diffusion.samplers import decode_ddim, invert_ddim

CHECKPOINTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "checkpoints"
SPECS = {
    "diffae_digits": (Digits, {}, (1, 32, 32)),
    "diffae_pendulum": (Pendulum, {"size": 32}, (3, 32, 32)),
    "regressor_digits": (Digits, {}, (1, 32, 32)),
    "regressor_pendulum": (Pendulum, {"size": 32}, (3, 32, 32)),
}
REGRESSOR_STEPS, REGRESSOR_IMAGES = 1000, 8000
SEED, BATCH, LR, CHANNELS, SEMANTIC, DROPOUT, STEPS = 0, 64, 2e-3, 16, 16, 0.2, 10_000


def train_one(name: str, steps: int | None, directory) -> dict:
    if name.startswith("regressor_"):
        return train_regressor(name, steps or REGRESSOR_STEPS, directory)
    steps = steps or STEPS
    data_cls, options, shape = SPECS[name]
    wb.seed_everything(SEED)
    model = DiffusionAutoencoder(shape, channels=CHANNELS, semantic_dim=SEMANTIC,
                                 condition_dropout=DROPOUT, device="cpu")
    data = data_cls(**options)
    result = train(model, data, steps=steps, batch_size=BATCH, lr=LR, seed=SEED,
                   checkpoint_dir=CHECKPOINTS / name, checkpoint_every=200, progress=True)
    held_out, _ = data.sample(64, generator=12345)
    with torch.no_grad():
        z_sem = model.encode(held_out)
        x_T = invert_ddim(model, held_out, z_sem, steps=20)
        mse = float((decode_ddim(model, x_T, z_sem, steps=20) - held_out).pow(2).mean())
    losses = result.losses[-200:]
    info = {
        "dataset": data.name,
        "dataset_options": options,
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "batch_size": BATCH, "lr": LR, "seed": SEED,
                     "seconds_last_call": round(result.seconds, 1),
                     "mean_loss_last_200": round(sum(losses) / len(losses), 5),
                     "torch": torch.__version__, "python": platform.python_version()},
        "evaluation": {"held_out_images": 64, "held_out_seed": 12345, "inversion_steps": 20,
                       "inversion_mse": round(mse, 6)},
    }
    return save_pretrained(model, name, info, directory)


def train_regressor(name: str, steps: int, directory) -> dict:
    """A factor regressor (the instrument that measures samples and edits) on rendered images."""
    data_cls, options, _ = SPECS[name]
    wb.seed_everything(SEED)
    data = data_cls(**options)
    model = FactorRegressor.for_dataset(data, device="cpu")
    labelled = data.sample(REGRESSOR_IMAGES, generator=SEED)          # (images, factor indices)
    result = train(model, labelled, steps=steps, batch_size=BATCH, lr=LR, seed=SEED,
                   checkpoint_dir=CHECKPOINTS / name, checkpoint_every=200, progress=True)
    images, factors = data.sample(1000, generator=12345)
    truth = torch.stack([data.factor_values(k)[factors[:, k]] for k in range(data.num_factors)], 1)
    error = (model.predict(images) - truth).abs().mean(0) / model.factor_range
    info = {
        "dataset": data.name, "dataset_options": options,
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "batch_size": BATCH, "lr": LR, "seed": SEED,
                     "images": REGRESSOR_IMAGES, "seconds_last_call": round(result.seconds, 1),
                     "torch": torch.__version__, "python": platform.python_version()},
        "evaluation": {"held_out_images": 1000, "held_out_seed": 12345,
                       "mean_abs_error_over_range": {n: round(float(e), 5)
                                                     for n, e in zip(data.factor_names, error)}},
    }
    return save_pretrained(model, name, info, directory)
