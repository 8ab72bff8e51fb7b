"""The pendulum's deep SCM in scripts/train_pretrained.py: its shadow flows and its image cVAE.

* ``deepscm_parents_pendulum``: shadow_length (a censored flow: the clamp max(3, .) kept) and
  shadow_position, each a neural spline flow given (theta, phi)
  (workbench.deepscm.pendulum_parents.fit_pendulum_parents);
* ``cvae_pendulum``: the conditional VAE image mechanism at 32x32 RGB
  (workbench.deepscm.pendulum_image.PendulumCVAE).

Both train with workbench.latents.train on draws of workbench.datasets.Pendulum's SCM, one
thread, checkpoints under benchmarks/results/checkpoints/<name>/ (a stopped run resumes
bit-identically with the same command). ``--only pendulum`` trains both; the cVAE is scored on
500 held-out pendulums (workbench.deepscm.pendulum_evaluation.evaluate_pendulum) with the
shipped (or just trained) parent flows.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import torch

import workbench as wb
from workbench.latents import save_pretrained

CHECKPOINTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "checkpoints"
SPECS = {"deepscm_parents_pendulum": "parents", "cvae_pendulum": "cvae", "pendulum": "both"}
SEED = 0
FLOWS = {"flow": "nsf", "transforms": 3, "hidden": (64, 64)}
FLOW_TRAIN, FLOW_STEPS, FLOW_BATCH, FLOW_LR = 20_000, 2000, 512, 3e-3
CVAE = {"latent_dim": 2, "channels": 32, "hidden": 256, "beta": 1.0}
CVAE_TRAIN, CVAE_STEPS, CVAE_BATCH, CVAE_LR, CVAE_WARMUP = 20_000, 12_000, 64, 2e-3, 1000


def _versions() -> dict:
    return {"torch": torch.__version__, "python": platform.python_version()}


def train_parents(name: str, steps: int | None, directory) -> dict:
    from workbench.deepscm.pendulum_parents import fit_pendulum_parents

    steps = steps or FLOW_STEPS
    wb.seed_everything(SEED)
    start = time.perf_counter()
    flows, results = fit_pendulum_parents(FLOW_TRAIN, steps=steps, batch_size=FLOW_BATCH, lr=FLOW_LR, seed=SEED,
                                          checkpoint_dir=CHECKPOINTS / name, progress=True, **FLOWS)
    from workbench.deepscm.pendulum_evaluation import evaluate_parents   # after the long part

    info = {"dataset": "pendulum (theta, phi, shadow_length, shadow_position; noise_std 0.5)",
            "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
            "training": {"steps": steps, "n_train": FLOW_TRAIN, "batch_size": FLOW_BATCH, "lr": FLOW_LR, "seed": SEED,
                         **{k: list(v) if isinstance(v, tuple) else v for k, v in FLOWS.items()},
                         "final_nll": {v: round(r.losses[-1], 4) for v, r in results.items()},
                         "seconds_last_call": round(time.perf_counter() - start, 1), **_versions()},
            "evaluation": evaluate_parents(flows)}
    return save_pretrained(flows, name, info, directory)


def train_cvae(name: str, steps: int | None, directory) -> dict:
    from workbench.datasets.pendulum import render_pendulum
    from workbench.deepscm.pendulum_image import PendulumCVAE
    from workbench.deepscm.pendulum_parents import pendulum_parent_data
    from workbench.latents import list_pretrained, load_pretrained, train

    steps = steps or CVAE_STEPS
    wb.seed_everything(SEED)
    model = PendulumCVAE(**CVAE, device="cpu")
    values = pendulum_parent_data(CVAE_TRAIN, seed=SEED + 1)
    result = train(model, model.training_data(render_pendulum(values, 32), values), steps=steps,
                   batch_size=CVAE_BATCH, lr=CVAE_LR, seed=SEED, kl_warmup=CVAE_WARMUP,
                   checkpoint_dir=CHECKPOINTS / name, checkpoint_every=500, progress=True)
    from workbench.deepscm.pendulum_evaluation import evaluate_pendulum   # after the long part

    losses = result.history[-500:]
    start = time.perf_counter()
    parents = (load_pretrained("deepscm_parents_pendulum", device="cpu", directory=directory)
               if "deepscm_parents_pendulum" in list_pretrained(directory) else None)
    info = {"dataset": "pendulum, 32x32 RGB renders of draws of its SCM (noise_std 0.5)",
            "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
            "training": {"steps": steps, "images": CVAE_TRAIN, "batch_size": CVAE_BATCH, "lr": CVAE_LR,
                         "kl_warmup": CVAE_WARMUP, "seed": SEED, "seconds_last_call": round(result.seconds, 1),
                         **{f"mean_{k}_last_500": round(sum(r[k] for r in losses) / len(losses), 4)
                            for k in ("loss", "reconstruction", "kl")}, **_versions()},
            "evaluation": {**evaluate_pendulum(model.eval(), parents), "seconds": round(time.perf_counter() - start, 1)}}
    return save_pretrained(model, name, info, directory)


def train_one(name: str, steps: int | None, directory) -> dict:
    if SPECS[name] == "both":
        train_parents("deepscm_parents_pendulum", None, directory)
        return train_cvae("cvae_pendulum", steps, directory)
    return (train_parents if SPECS[name] == "parents" else train_cvae)(name, steps, directory)
