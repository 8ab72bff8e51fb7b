"""Tiny sweeps shared by the sweep tests (seconds each on one core)."""

from __future__ import annotations

from workbench.sweeps import Sweep

COMPARED = ["key", "dataset", "model", "seed", "steps", "final_loss", "weights_sha256"]


def tiny_sweep(seeds=(0, 1), **models) -> Sweep:
    """``vae`` and ``beta_vae`` (beta 8) on 16x16 sprites, 4 steps, MIG and MCC."""
    return Sweep(models=models or {"vae": {}, "beta_vae": {"beta": [8]}}, seeds=list(seeds),
                 metrics=["mig", "mcc"], training={"steps": 4, "batch_size": 16},
                 data={"n_train": 64, "n_eval": 200})


def comparable(wide):
    """The columns that must agree bit for bit between two sweeps of the same grid."""
    scores = sorted(c for c in wide.columns if c.startswith("score."))
    return wide[COMPARED + scores].sort_values("key").reset_index(drop=True)
