"""The pendulum's deep SCM against the exact counterfactual: do(light) moves the shadow, not the pendulum.

:func:`workbench.deepscm.pendulum_evaluation.evaluate_pendulum` on 500 held-out pendulums (50
with ``--quick``), seed 2026, with the shipped ``cvae_pendulum`` image mechanism and the shipped
``deepscm_parents_pendulum`` shadow flows (and, as a reference, the true shadow equations), for
``do(phi = phi*)`` and the control ``do(theta = theta*)`` (targets: fresh draws of the SCM).
Rows:

* ``do(phi)`` / ``do(theta)``, learned and exact parents: pixel L1 (0-255) to the exact
  counterfactual render against the factual image's (goal: at most a third), the change the
  action made (from the model's own reconstruction) inside the pendulum (rod and ball pixels of
  the exact renders) and inside the shadow strip and the sun, beside the truth's change there,
  and the shadow variables' mean errors (off and on the length's floor of 3) against the true
  ones (our SCM drew ``U_l, U_p``). ``agree``: pixel L1 <= factual / 3, and for do(phi) the
  pendulum's change at most a quarter of the shadow's, theta unchanged exactly;
* composition (:func:`workbench.metrics.soundness.composition`): the null intervention applied 1
  and 10 times, L1 (0-255) to the input (``agree``: 10 cycles <= 1.0 grey level);
* speed: counterfactuals a second on one thread, by hand (``ours``) against the exact renderer
  (``peer``: solving the true equations with the known noise and rendering), and the ChiRho
  twin-world route against the by-hand route (``agree``: the same images to 1e-6).

No published code runs this (CausalVAE's pendulum has no counterfactual ground truth there).

    nice -n 10 python benchmarks/bench_counterfactual_pendulum.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from workbench.datasets.pendulum import render_pendulum  # noqa: E402
from workbench.deepscm.pendulum import PendulumDeepSCM  # noqa: E402
from workbench.deepscm.pendulum_evaluation import evaluate_pendulum, held_out_pendulums, true_counterfactual  # noqa: E402
from workbench.deepscm.pendulum_parents import PENDULUM_VARIABLES  # noqa: E402
from workbench.devtools.timing import one_thread  # noqa: E402
from workbench.latents import list_pretrained, load_pretrained  # noqa: E402
from workbench.metrics.soundness import composition  # noqa: E402

NAMES = ("cvae_pendulum", "deepscm_parents_pendulum")
SHOWN = ("pixel_l1", "factual_l1", "pendulum_action", "pendulum_change_true", "shadow_action", "shadow_change_true",
         "sun_action", "sun_change_true", "shadow_length_mae_off_floor", "shadow_length_mae_on_floor",
         "shadow_position_mae", "read_length_mae", "read_position_mae", "theta_max_abs_change")


def _row(case, seconds, notes, agree, peer="", peer_s=None) -> dict:
    return {"benchmark": "counterfactual_pendulum", "case": case, "ours_s": round(seconds, 3), "peer": peer,
            "peer_s": None if peer_s is None else round(peer_s, 3),
            "ratio": None if peer_s is None else round(seconds / peer_s, 2), "agree": agree, "notes": notes}


def _agree(name: str, s: dict) -> bool:
    ok = s["pixel_l1"] <= s["factual_l1"] / 3
    if name.startswith("do_phi"):
        ok = ok and s["pendulum_action"] <= s["shadow_action"] / 4 and s["theta_max_abs_change"] == 0.0
    return bool(ok)


def _composition(scm, n: int, seed: int = 2026) -> dict:
    values = held_out_pendulums(n, seed)
    start = time.perf_counter()
    r = composition(scm, render_pendulum(values, 32), {v: values[v] for v in PENDULUM_VARIABLES}, cycles=(1, 10))
    seconds, d1, d10 = time.perf_counter() - start, r.scores["distance_1"], r.scores["distance_10"]
    return _row(f"composition, null intervention 1 and 10 times, {n} pendulums", seconds,
                f"L1 (0-255) to the input: 1 cycle {d1:.3f}, 10 cycles {d10:.3f}", d10 <= 1.0)


def _speed(scm, n: int, seed: int = 2026) -> list[dict]:
    values = held_out_pendulums(n, seed)
    images, units = render_pendulum(values, 32), {v: values[v] for v in PENDULUM_VARIABLES}
    do = {"phi": held_out_pendulums(n, seed + 1)["phi"]}
    start = time.perf_counter()
    by_hand = scm.counterfactual_by_hand(images, units, do)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    true_counterfactual(values, do)
    exact = time.perf_counter() - start
    start = time.perf_counter()
    chirho = scm.counterfactual_chirho(images, units, do)
    twin = time.perf_counter() - start
    same = bool(torch.allclose(by_hand.images, chirho.images, atol=1e-6))
    return [_row(f"speed: do(phi) by hand, {n} pendulums", ours, f"{n / ours:.0f} counterfactuals/s on one thread; "
                 f"peer: the exact renderer with the known noise ({n / exact:.0f}/s)", True,
                 "exact renderer", exact),
            _row(f"speed: do(phi) through ChiRho's TwinWorldCounterfactual, {n} pendulums", twin,
                 f"{n / twin:.0f} counterfactuals/s; peer: the by-hand route; same images to 1e-6: {same}", same,
                 "by hand", ours)]


def run(quick: bool = False) -> list[dict]:
    missing = [n for n in NAMES if n not in list_pretrained()]
    if missing:
        return [_row("pretrained weights missing", 0.0, f"train them: scripts/train_pretrained.py --only pendulum "
                     f"(missing {', '.join(missing)})", False)]
    n = 50 if quick else 500
    rows = []
    with one_thread():
        mechanism, parents = (load_pretrained(name, device="cpu") for name in NAMES)
        start = time.perf_counter()
        result = evaluate_pendulum(mechanism, parents, n=n)
        seconds = time.perf_counter() - start
        for name, scores in result.items():
            if not isinstance(scores, dict):
                continue
            notes = ", ".join(f"{k} {scores[k]:.3g}" for k in SHOWN) + f"; reconstruction_l1 {result['reconstruction_l1']:.3g}"
            rows.append(_row(f"{name} ({n} pendulums)", seconds, notes, _agree(name, scores)))
        scm = PendulumDeepSCM(mechanism, parents)
        rows += [_composition(scm, n), *_speed(scm, n)]
    out = ROOT / "benchmarks" / "results" / "counterfactual_pendulum.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"evaluation": result, "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(json.dumps(r))
