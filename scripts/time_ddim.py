"""Counterfactuals a second of the shipped ddim_digits on this process's threads, per setting.

Usage: ``OMP_NUM_THREADS=1 python scripts/time_ddim.py 50:4 20:12:1e-3 --batch 64`` (one batch
of held-out digits a setting, the null intervention). ``S:k`` is S DDIM steps each way and k
fixed-point iterations of every inversion step (the teaching solver, S (2 + k) UNet passes a
counterfactual); ``S:k:tol`` the Anderson solver, at most k iterations a step, stopped at the
residual ``tol``. The UNet passes a counterfactual took are counted and printed beside: the
machine-independent cost. Settings are timed in turn, ``--rounds`` times, best round kept
(the machine is shared: the best is the least disturbed).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from workbench.latents import load_pretrained
from workbench.metrics.soundness import DigitsGroundTruth


def apply(mech, setting: str) -> None:
    parts = setting.split(":")
    mech.steps, mech.iterations = int(parts[0]), int(parts[1])
    mech.solver = "anderson" if len(parts) == 3 else "fixed_point"
    if len(parts) == 3:
        mech.tolerance = float(parts[2])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    mech = load_pretrained("ddim_digits", device="cpu")
    images, parents = DigitsGroundTruth().sample(args.batch, generator=12345)
    best, passes = {}, {}
    for _ in range(args.rounds):
        for setting in args.settings:
            apply(mech, setting)
            count = [0]
            hook = mech.diffusion.unet.register_forward_pre_hook(
                lambda net, inputs: count.__setitem__(0, count[0] + len(inputs[0])))
            start = time.perf_counter()
            mech.counterfactual(images, parents, parents)
            best[setting] = min(best.get(setting, float("inf")), time.perf_counter() - start)
            hook.remove()
            passes[setting] = count[0] / len(images)
    for setting in args.settings:
        rate = len(images) / best[setting]
        print(f"{setting}: {rate:.2f} counterfactuals/s, {passes[setting]:.1f} UNet passes each, "
              f"{passes[setting] * rate:.0f} passes/s; load average {os.getloadavg()[0]:.1f}", flush=True)
