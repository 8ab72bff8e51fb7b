"""Counterfactuals a second of the shipped ddim_digits on this process's threads, per setting S:k.

Usage: ``OMP_NUM_THREADS=1 python scripts/time_ddim.py 10:0 20:0 50:0 20:2 50:2 50:4`` (one
batch of 64 held-out digits a setting, the null intervention; the UNet passes a counterfactual
costs, S (2 + k), are printed beside, the machine-independent measure).
"""

from __future__ import annotations

import os
import sys
import time

import torch

from workbench.latents import load_pretrained
from workbench.metrics.soundness import DigitsGroundTruth

if __name__ == "__main__":
    torch.set_num_threads(1)
    mech = load_pretrained("ddim_digits", device="cpu")
    images, parents = DigitsGroundTruth().sample(64, generator=12345)
    for setting in sys.argv[1:]:
        steps, iterations = (int(v) for v in setting.split(":"))
        start = time.perf_counter()
        mech.counterfactual(images, parents, parents, steps=steps, iterations=iterations)
        seconds = time.perf_counter() - start
        print(f"S={steps} k={iterations}: {len(images) / seconds:.2f} counterfactuals/s, "
              f"{steps * (2 + iterations)} UNet passes each, load average {os.getloadavg()[0]:.1f}", flush=True)
