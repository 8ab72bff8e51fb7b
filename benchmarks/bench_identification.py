"""ID algorithm: ours vs y0 on the fixtures and on random ADMGs of 10, 20 and 40 nodes.

Both run on the same graphs and queries in the same process. ``agree`` means the same
identifiability verdict on every query of the row; where both identify, and the graph
is small enough to enumerate (fixtures), both estimands are also evaluated on the exact
observational table of a random discrete model and compared with its true
``P(y | do(x))`` (noted when y0's estimand is wrong). Times are per query (median of
repeats for fixtures, mean over the queries for random rows). y0 raising an exception
is reported in ``notes`` and that query is left out of the timing.

    python benchmarks/bench_identification.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.identification import (  # noqa: E402
    FIXTURES, identify, random_admg, random_discrete_model, random_query,
)
from workbench.identification.y0_bridge import from_y0, to_y0_graph  # noqa: E402
from workbench.devtools.timing import best_of, median_of as _time  # noqa: E402


def _y0(yg, x, y):
    """y0's own call only (graph converted beforehand, translation done afterwards)."""
    from y0.algorithm.identify import identify_outcomes
    from y0.dsl import Variable

    xs, ys = {Variable(v) for v in x}, {Variable(v) for v in y}
    return lambda: identify_outcomes(yg, xs, ys)




def _fixture_rows(repeats: int) -> list[dict]:
    rows = []
    for name, f in FIXTURES.items():
        yg = to_y0_graph(f.graph)
        ours_s, ours = _time(lambda: identify(f.graph, f.treatments, f.outcomes), repeats)
        peer_s, theirs = _time(_y0(yg, f.treatments, f.outcomes), repeats)
        theirs = None if theirs is None else from_y0(theirs)
        agree = ours.identifiable == (theirs is not None)
        notes = "identifiable" if ours.identifiable else f"hedge {ours.hedge!r}"
        if ours.identifiable and theirs is not None:
            model = random_discrete_model(f.graph, seed=1, concentration=0.3)
            joint, truth = model.observational(), model.interventional(f.treatments, f.outcomes)
            err_ours = ours.estimand.evaluate(joint).max_abs_diff(truth)
            err_y0 = theirs.evaluate(joint).max_abs_diff(truth)
            notes += f"; max error vs truth: ours {err_ours:.1e}, y0 {err_y0:.1e}"
            if err_y0 > 1e-6:
                notes += f" (y0 answers {theirs}: wrong, truth wins)"
        rows.append(dict(benchmark="id", case=f"fixture {name}", ours_s=ours_s, peer="y0 0.2.11",
                         peer_s=peer_s, ratio=peer_s / ours_s, agree=agree, notes=notes))
    return rows


def _random_rows(sizes, n_graphs: int) -> list[dict]:
    rows = []
    for n in sizes:
        ours_t, peer_t, agree, errors, identified = [], [], True, 0, 0
        for seed in range(n_graphs):
            g = random_admg(n, p_directed=min(0.4, 3.0 / n), p_bidirected=min(0.3, 4.0 / n), seed=seed)
            x, y = random_query(g, n_treatments=1 + seed % 2, n_outcomes=1 + (seed // 2) % 2, seed=seed)
            call_y0 = _y0(to_y0_graph(g), x, y)
            # best of 3 per query for both: one stray pause (GC, another process) would
            # otherwise dominate a mean over sub-millisecond calls
            ours_s, ours = best_of(lambda: identify(g, x, y), 3)
            try:
                theirs_s, theirs = best_of(call_y0, 3)
            except Exception:  # y0 crashes on a few graphs (a NetworkXError)
                errors += 1
                continue
            ours_t.append(ours_s)
            peer_t.append(theirs_s)
            identified += ours.identifiable
            agree &= ours.identifiable == (theirs is not None)
        ours_s, peer_s = statistics.mean(ours_t), statistics.mean(peer_t)
        notes = f"{len(ours_t)} queries, {identified} identifiable"
        notes += f"; y0 raised on {errors}" if errors else ""
        notes += f"; our slowest {max(ours_t) * 1e3:.1f} ms"
        rows.append(dict(benchmark="id", case=f"random ADMG {n} nodes", ours_s=ours_s,
                         peer="y0 0.2.11", peer_s=peer_s, ratio=peer_s / ours_s, agree=agree,
                         notes=notes))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Rows of ours vs y0 (see the module docstring)."""
    repeats, n_graphs = (3, 10) if quick else (10, 40)
    return _fixture_rows(repeats) + _random_rows([10, 20, 40], n_graphs)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(" | ".join(f"{v:.2e}" if isinstance(v, float) else str(v) for v in row.values()))
