"""The soundness table of issue 17: every learned image mechanism on the same 1,000 test digits.

:func:`workbench.deepscm.evaluation.soundness_table` (definitions of Monteiro et al., ICLR
2023, ``biomedia-mira/counterfactual_axiomatic_soundness``, and Melistas et al., NeurIPS
2024, ``gulnazaki/counterfactual-benchmark``) on 1,000 digits (100 with ``--quick``), seed
2026, for the reference rows (the exact ground truth, the unchanged image) and each
pretrained mechanism present (``cvae_digits``, ``ddim_digits``, ``flow_digits``; the missing
ones are named in a row of their own). Each mechanism runs through
:class:`workbench.deepscm.DigitsDeepSCM` on one thread; ``ours_s`` is the time of its
whole row (wall seconds). A calibration row, the toy exact mechanism ``IntensityScaling``
(it follows intensity and ignores thickness), shows a generator that passes composition and
is wrong. The issue's goals are in ``notes`` beside the numbers and ``agree`` says whether
the row meets those that apply to it:

- composition after 10 null cycles <= 1.0 grey level (exact and DDIM mechanisms);
- after ``do(thickness = t*)``: thickness within 10% of ``t*`` for >= 90% of digits (exact
  morphometrics), digit kept for >= 95% (the anti-causal classifier);
- the best mechanism's pixel L1 to the exact counterfactual <= a third of the factual's;
- the whole row <= 15 minutes per mechanism.

A mechanism too slow for the axioms' 24 passes over all 1,000 digits within its row's budget
(14 minutes, a margin under the goal's 15; the rate is that of the row's own effectiveness
pass) runs them on the first ``axiom_digits`` digits; effectiveness and the ground truth
always use all 1,000. ``--axiom-digits K`` runs the axioms on the first ``K`` digits whatever
the time (``--axiom-digits 1000``: the whole table, to time the goal itself). ``--workers 2`` shares each mechanism's batches between 2 processes
of one thread each (the goal is for 2 cores; the numbers are those of one worker, only the
seconds change; ``cpu_seconds`` counts both); the DDIM mechanism runs in batches of 16
(10% cheaper a counterfactual than 32 in a one-process comparison, the same 73 CPU-ms in
the 2-worker table runs; the two workers end each pass closer together; ``benchmarks/REPORT.md``)
and through its traced
and frozen UNet (:class:`workbench.latents.diffusion.fast_unet.FastUNet`, the same noise to
float rounding; ``--teaching-unet`` runs the teaching forward instead), and, being
deterministic, has the two axiom passes that repeat its effectiveness pass answered from
memory (:class:`workbench.deepscm.table_workers.BatchRunner`).

No peer runs: the published code needs JAX 0.3.5 or CUDA checkpoints. The full table goes to
``benchmarks/results/counterfactual_images.md``.

    nice -n 10 python benchmarks/bench_counterfactual_images.py [--quick] [--steps K] [--workers W]
        [--only ddim_digits] [--axiom-digits K] [--teaching-unet]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.deepscm import IntensityScaling  # noqa: E402
from workbench.deepscm.evaluation import (  # noqa: E402
    MECHANISMS, load_mechanisms, soundness_table,
)
from workbench.devtools.timing import one_thread  # noqa: E402

GOALS = {"composition_10": 1.0, "thickness_within_10pct": 0.90, "digit_kept": 0.95,
         "truth_ratio": 1 / 3, "seconds": 15 * 60}
TOY = "toy: IntensityScaling"
ROW_BUDGET_S = 14 * 60                 # a margin under the 15-minute goal
BATCH_SIZE = {"ddim_digits": 16}       # the others: the table's default
COMPOSITION_GOAL_FOR = ("ground truth", TOY, "flow_digits", "ddim_digits")
SHOWN = ("workers", "axiom_digits", "composition_1", "composition_10", "reversibility", "commutativity", "thickness_within_10pct",
         "thickness_within_10pct_predictor", "thickness_mae", "intensity_mae", "digit_kept", "truth_l1",
         "factual_truth_l1", "truth_ratio", "counterfactuals_per_s", "seconds", "cpu_seconds")


def _meets(row) -> dict[str, bool]:
    met = {"thickness_within_10pct": row["thickness_within_10pct"] >= GOALS["thickness_within_10pct"],
           "digit_kept": row["digit_kept"] >= GOALS["digit_kept"], "seconds": row["seconds"] <= GOALS["seconds"]}
    if row["mechanism"] in COMPOSITION_GOAL_FOR:
        met["composition_10"] = row["composition_10"] <= GOALS["composition_10"]
    return met


def _note(row, met) -> str:
    numbers = ", ".join(f"{k} {row[k]:.3g}" for k in SHOWN)
    goals = ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in met.items())
    return f"{numbers}; goals: {goals}"


def _fmt(value) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e6 else f"{value:.3g}"


def markdown(table) -> str:
    """The table as GitHub markdown, one row per mechanism."""
    head = "| mechanism | " + " | ".join(SHOWN) + " |"
    lines = [head, "|" + "---|" * (len(SHOWN) + 1)]
    for _, row in table.iterrows():
        lines.append(f"| {row['mechanism']} | " + " | ".join(_fmt(row[k]) for k in SHOWN) + " |")
    return "\n".join(lines)


def run(quick: bool = False, steps: int | None = None, workers: int = 1, only=MECHANISMS,
        fast: bool = True, axiom_digits: int | None = None) -> list[dict]:
    n = 100 if quick else 1000
    mechanisms, missing = load_mechanisms(only, device="cpu", ddim_steps=steps, fast=fast)
    with one_thread():
        start = time.perf_counter()
        tables = [soundness_table({TOY: IntensityScaling()}, n=n)]
        for name, mech in mechanisms.items():
            budget = {"row_seconds": ROW_BUDGET_S} if axiom_digits is None else {"axiom_digits": min(axiom_digits, n)}
            tables.append(soundness_table({name: mech}, n=n, references=False, **budget,
                                          batch_size=BATCH_SIZE.get(name, 250), workers=workers))
            print(f"{name}: axioms on {tables[-1]['axiom_digits'][0]} of {n} digits, "
                  f"{tables[-1]['seconds'][0]:.0f} s", flush=True)
    import pandas as pd
    table = pd.concat(tables, ignore_index=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "counterfactual_images.md").write_text(markdown(table) + "\n")
    rows = []
    for _, row in table.iterrows():
        met = _meets(row)
        rows.append({"benchmark": "counterfactual_images", "case": f"{row['mechanism']}, {n} digits",
                     "ours_s": row["seconds"], "peer": "none runnable",
                     "peer_s": None, "ratio": None, "agree": all(met.values()), "notes": _note(row, met)})
    learned = table[table["mechanism"].isin(list(mechanisms))]
    best = float(learned["truth_ratio"].min()) if len(learned) else None
    rows.append({"benchmark": "counterfactual_images", "case": "best mechanism vs doing nothing",
                 "ours_s": time.perf_counter() - start, "peer": "none runnable", "peer_s": None, "ratio": None,
                 "agree": best is not None and best <= GOALS["truth_ratio"],
                 "notes": (f"best truth_l1 / factual_truth_l1 {best:.3g} (goal <= 0.333)" if best is not None
                           else "no learned mechanism present") +
                          (f"; missing: {', '.join(missing)}" if missing else
                           "; all three present" if set(only) == set(MECHANISMS) else f"; only {', '.join(only)}")})
    return rows


def _option(flag: str, default=None):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


if __name__ == "__main__":
    steps, workers, axioms = _option("--steps"), int(_option("--workers", 1)), _option("--axiom-digits")
    only = tuple(_option("--only", ",".join(MECHANISMS)).split(","))
    for r in run(quick="--quick" in sys.argv, steps=None if steps is None else int(steps), workers=workers,
                 only=only, fast="--teaching-unet" not in sys.argv,
                 axiom_digits=None if axioms is None else int(axioms)):
        print(r, flush=True)
