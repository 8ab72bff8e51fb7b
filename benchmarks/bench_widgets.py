"""How long one widget interaction takes, against the budget an interaction must meet.

These timings used to be test assertions (``test_each_update_is_fast``: under 0.3 s;
``test_one_interaction_under_a_second``), which failed on a loaded machine. Here they
are reported, never failing, with ``peer`` the interactive budget (a slider update that
answers within about 0.3 s feels immediate; an identification query within 1 s).

Cases:

* ``InterventionPanel``: ``set_intervention("x3", v)`` on a random 10-node linear SCM
  with 20,000 samples (sampling, the histogram and the PNG), after one warm-up.
* ``IdentificationExplorer``: one change of query on the napkin graph (ID, the
  derivation, the drawing, the estimate on 20,000 samples against the truth).

``ratio`` = budget / our time (above 1: within budget). Best of several, one thread.

    python benchmarks/bench_widgets.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.devtools.timing import best_of, one_thread  # noqa: E402


def _row(case, ours_s, budget_s, agree, notes):
    return {"benchmark": "widget update", "case": case, "ours_s": ours_s,
            "peer": "interactive budget", "peer_s": budget_s, "ratio": budget_s / ours_s,
            "agree": agree, "notes": notes}


def bench_intervention_panel(repeats: int) -> dict:
    from workbench.scm import random_linear_scm
    from workbench.widgets.scm import InterventionPanel

    panel = InterventionPanel(random_linear_scm(10, seed=0), n=20_000)
    panel.set_intervention("x3", 0.5)                           # warm up
    values = iter([0.0, 1.0, -1.0, 0.25, 0.75, -0.5, 0.1, -0.1, 0.3])
    ours_s, _ = best_of(lambda: panel.set_intervention("x3", next(values)), repeats)
    return _row("InterventionPanel do(x3), 10-node linear SCM, 20000 samples", ours_s, 0.3,
                panel.interventions.get("x3") is not None, "slider callback to new PNG")


def bench_identification_explorer(repeats: int) -> dict:
    from workbench.identification import FIXTURES
    from workbench.widgets.identification import IdentificationExplorer

    w = IdentificationExplorer(FIXTURES["napkin"].graph, ("x",), ("y",), n=20_000, seed=1)
    queries = iter([("w2",), ("x",)] * 8)

    def change():
        w.treatments = next(queries)
    ours_s, _ = best_of(change, repeats)
    return _row("IdentificationExplorer, one query change on the napkin, 20000 samples", ours_s, 1.0,
                w.result is not None and w.max_error_exact < 1e-10,
                "ID + derivation + drawing + estimate vs truth")


def run(quick: bool = False) -> list[dict]:
    repeats = 3 if quick else 7
    with one_thread():
        return [bench_intervention_panel(repeats), bench_identification_explorer(repeats)]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(" | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()))
