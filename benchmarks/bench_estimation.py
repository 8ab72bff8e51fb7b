"""Effect estimation: ours vs DoWhy 0.14 on the same data, point estimates and bootstrap.

Each row runs one estimator on 2,000 (quick: 1,000) units of a generating SCM with a
known effect (``workbench.estimation.examples``): a point estimate, then a 95% interval
from 100 bootstrap resamples (ours: one vectorised pass; DoWhy: its own bootstrap,
``confidence_intervals="bootstrap"``). ``agree``: the point estimates differ by less than
our bootstrap standard error; the notes give both numbers, the truth, and both intervals.
Times are the best of 3 (bootstrap rows: of 1; our point rows include one resample),
DoWhy's including its model set-up.

    python benchmarks/bench_estimation.py [--quick]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import workbench.estimation as we  # noqa: E402
from workbench.devtools.timing import best_of, one_thread  # noqa: E402
from workbench.estimation.peers import dowhy_effect  # noqa: E402

CASES = [  # (case, scm, edges, kind, method, our options, latent)
    ("back-door regression", we.linear_backdoor_scm, [("z", "x"), ("z", "y"), ("x", "y")],
     "back-door", "regression", {"model": "additive"}, ()),
    ("back-door IPW", we.linear_backdoor_scm, [("z", "x"), ("z", "y"), ("x", "y")],
     "back-door", "ipw", {"clip": 0.05}, ()),
    ("front-door two-stage regression", we.linear_frontdoor_scm,
     [("u", "x"), ("u", "y"), ("x", "m"), ("m", "y")], "front-door", "regression", {}, ("u",)),
]


def _ours(data, kind, method, options, n_boot):
    where = {"adjustment": ["z"]} if kind == "back-door" else {"mediator": "m"}
    return we.estimate_effect(data, "x", "y", method=method, n_boot=n_boot, **where, **options)


def run(quick: bool = False) -> list[dict]:
    import dowhy

    n, n_boot = (1000, 100) if quick else (2000, 100)
    rows = []
    warnings.filterwarnings("ignore")
    with one_thread():
        for case, make, edges, kind, method, options, latent in CASES:
            scm = make()
            truth = we.TRUE_EFFECTS[scm.name]
            data = scm.sample(n, seed=0)
            observed = {k: v for k, v in data.items() if k not in latent}
            dowhy_effect(observed, edges, "x", "y", kind, method, latent=latent)   # warm-up imports
            ours_s, _ = best_of(lambda: _ours(observed, kind, method, options, 1), 3)
            peer_s, theirs = best_of(lambda: dowhy_effect(observed, edges, "x", "y", kind, method,
                                                          latent=latent), 3)
            boot_s, ours = best_of(lambda: _ours(observed, kind, method, options, n_boot), 1)
            peer_boot_s, (_, (lo, hi)) = best_of(lambda: dowhy_effect(
                observed, edges, "x", "y", kind, method, latent=latent, n_boot=n_boot), 1)
            agree = abs(ours.value - theirs) < ours.se
            common = dict(benchmark="estimation", peer=f"dowhy {dowhy.__version__}", agree=agree)
            rows.append(dict(case=f"{case}, n={n}", ours_s=ours_s, peer_s=peer_s, ratio=peer_s / ours_s,
                             notes=f"ours {ours.value:.4f}, DoWhy {theirs:.4f}, truth {truth}", **common))
            rows.append(dict(case=f"{case}, n={n}, {n_boot} bootstrap resamples", ours_s=boot_s,
                             peer_s=peer_boot_s, ratio=peer_boot_s / boot_s,
                             notes=f"95% intervals: ours [{ours.low:.3f}, {ours.high:.3f}], "
                                   f"DoWhy [{lo:.3f}, {hi:.3f}]", **common))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
