"""Soundness of three reference generators on the digits, scored against the exact counterfactual.

No learned mechanism exists yet (issue 17, item 1); these rows calibrate the table that
the deep SCMs will join, on 1,000 test digits (100 with ``--quick``) drawn from the SCM
with seed 0, each intervened ``do(thickness = t*)`` with ``t*`` drawn from the SCM's
marginal of thickness (Monteiro et al.'s ``parent_dist.sample``), seed 1:

- ``exact twin``: :class:`workbench.metrics.DigitsGroundTruth`, the true counterfactual;
- ``brightness edit``: rescales the pixels to the counterfactual intensity and leaves the
  stroke as it is (sound by every axiom, wrong in shape: what the axioms miss);
- ``do nothing``: returns the factual image (the cost of not changing anything).

Columns: composition after 10 null cycles and reversibility after 5 cycles of 2 (grey
levels, 0-255), effectiveness with the exact morphometrics against the SCM's counterfactual
parents (thickness MAE in pixels and the share within 10% of ``t*``, the issue's goal), the
pixel L1 to the exact counterfactual and the factual image's L1 to it. ``ours_s`` is the
whole table's CPU time for that generator, one thread. No peer runs here: the published
code needs JAX 0.3.5 (Monteiro et al.) or CUDA checkpoints (Melistas et al.); ``agree`` is
whether the row scores as its construction says it must.

    nice -n 10 python benchmarks/bench_soundness.py [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.devtools.timing import one_thread  # noqa: E402
from workbench.metrics import soundness as snd  # noqa: E402


def _brightness_edit(truth):
    def generator(images, parents, interventions):
        after = truth.parents_after(parents, interventions)["intensity"]
        return (images * (after / parents["intensity"]).view(-1, 1, 1, 1)).clamp(0, 1)
    return generator


def _table(generator, truth, measure, images, parents, do):
    comp = snd.composition(generator, images, parents)
    rev = snd.reversibility(generator, images, parents, do, parents_after=truth.parents_after)
    eff = snd.effectiveness(generator, images, parents, do, measure, parents_after=truth.parents_after)
    gt = snd.ground_truth_error(generator, images, parents, do, truth)
    target = do["thickness"]
    within = float(((eff.details["per_image"]["thickness_absolute_error"]) <= 0.1 * target).float().mean())
    return {"composition_10": float(comp), "reversibility_10": float(rev),
            "thickness_mae": eff.scores["thickness_absolute_error"],
            "intensity_mae": eff.scores["intensity_absolute_error"], "thickness_within_10pct": within,
            "pixel_l1": gt.scores["pixel_l1"], "factual_l1": gt.scores["factual_l1"]}


def run(quick: bool = False) -> list[dict]:
    n = 100 if quick else 1000
    truth = snd.DigitsGroundTruth()
    measure = snd.digit_morphometrics(truth.dataset)
    images, parents = truth.sample(n, generator=0)
    rng = np.random.default_rng(1)
    do = {"thickness": torch.as_tensor(0.5 + rng.gamma(10.0, 1 / 5.0, n), dtype=torch.float32)}
    generators = {"exact twin": truth, "brightness edit": _brightness_edit(truth),
                  "do nothing": lambda images, parents, interventions: images}
    rows = []
    for name, generator in generators.items():
        with one_thread():
            start = time.process_time()
            t = _table(generator, truth, measure, images, parents, do)
            seconds = time.process_time() - start
        agree = {"exact twin": t["pixel_l1"] < 1e-3 and t["composition_10"] < 1e-3 and t["reversibility_10"] < 1e-2,
                 "brightness edit": t["composition_10"] < 1e-3 and t["pixel_l1"] > 0.0,
                 "do nothing": abs(t["pixel_l1"] - t["factual_l1"]) < 1e-6}[name]
        rows.append({"benchmark": "soundness", "case": f"{name}, {n} digits, do(thickness)",
                     "ours_s": seconds, "peer": "none runnable", "peer_s": None, "ratio": None,
                     "agree": agree, "notes": ", ".join(f"{k} {v:.3g}" for k, v in t.items())})
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
