"""SCM speed against DoWhy's gcm and against plain torch, on the same models, in one run.

Cases (random linear-Gaussian DAGs of 10 and 50 nodes, and a 10-node MLP additive-noise
DAG, all seeded):

* ``interventional``: 100k samples of ``do(x1 = 1)``.
  Ours: ``scm.do(x1=1.0).sample(n)``. With no Pyro handler active this runs the
  mechanisms directly (the same draws as the Pyro program under ChiRho's ``do``);
  an MLP is evaluated on its parents' columns in cache-sized blocks
  (``workbench.scm.fast.mlp_of_columns``), while gcm and the plain torch loop
  call the same MLP on an ``(n, n_parents)`` matrix, as any fitted regressor is called.
  gcm: ``gcm.interventional_samples`` on the same mechanisms (``workbench.scm.peers``).
  plain torch: the same ancestral sampling written as a bare torch loop, no Pyro.
  agree: two-sample KS test on the last variable (p > 0.001) and on ``x1`` being 1.
* ``counterfactual``: unit-level counterfactuals of 100k (quick: 20k) observed units
  under ``do(x1 = 1)``. Ours: ``scm.counterfactual`` (abduction, then the two worlds;
  with no handler active they are computed directly, with the same values as ChiRho's
  ``MultiWorldCounterfactual``). gcm: ``gcm.counterfactual_samples``. plain torch:
  ``counterfactual_by_hand`` (the three steps with no Pyro, the teaching path: each
  mechanism called as ``mech(pa, u)`` on stacked parents). agree: max |difference| < 1e-3.
  The bare route reads the factual world from the data and recomputes only the
  variables ``x1`` reaches (abduction and prediction in one step per variable); the
  abducted noise is computed when read, so a second row times the same query with
  every noise read (what gcm computes).
* Both also time our own Pyro / ChiRho route (the same call under an inert handler,
  ``pyro.poutine.block()``, which makes it run through the handlers); agree: the two
  routes give the same results from the same seed, to float rounding (max |difference|
  below 1e-4).

``ratio`` = peer time / our time (above 1: we are faster). Each time is the best of
several repeats (ours and the peers' interleaved), with torch on one thread as on Binder:
the machine is shared, and the minimum is the least disturbed estimate of each cost.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyro  # noqa: E402
import torch  # noqa: E402
from scipy import stats  # noqa: E402

from workbench.scm import (  # noqa: E402
    LinearGaussian, counterfactual_by_hand, random_linear_scm, random_nonlinear_scm,
)
from workbench.scm.peers import to_dowhy_gcm  # noqa: E402
from workbench.devtools.timing import one_thread  # noqa: E402


def plain_torch_interventional(scm, n, target, value):
    """Ancestral sampling written by hand in bare torch: the no-Pyro baseline.

    Linear mechanisms are ``bias + sum(w * parent) + scale * randn``; other additive
    mechanisms call their ``f`` on the stacked parents, as our program does.
    """
    out = {}
    for v in scm.variables:
        m = scm.mechanisms[v]
        if v == target:
            out[v] = torch.full((n,), value)
        elif isinstance(m, LinearGaussian):
            x = m.noise_scale * torch.randn(n) + m.bias
            for p, w in m.weights.items():
                x += w * out[p]
            out[v] = x
        else:
            pa = torch.stack([out[p] for p in m.parents], -1) if m.parents else torch.zeros(n, 0)
            out[v] = m.f(pa) + float(m.noise().scale) * torch.randn(n)
    return out


def through_handlers(fn):
    """``fn()`` with an inert Pyro handler active, so our Pyro / ChiRho route runs."""
    with pyro.poutine.block():
        return fn()


def _gap(a, b) -> float:
    """Largest |difference| between two ``{variable: tensor}`` mappings (inf if keys differ)."""
    if list(a) != list(b):
        return float("inf")
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def _timed(fns: dict, repeats: int) -> tuple[dict, dict]:
    times, results = {k: [] for k in fns}, {}
    for k, f in fns.items():  # warm-up
        results[k] = f()
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            results[k] = f()
            times[k].append(time.perf_counter() - t)
    return {k: min(t) for k, t in times.items()}, results


def _read_all_noise(result):
    for site in result.noise:
        result.noise[site]
    return result


def _frame(d):
    return pd.DataFrame({k: v.double().numpy() for k, v in d.items()})


def _models():
    return [("linear", 10, random_linear_scm(10, seed=0)), ("linear", 50, random_linear_scm(50, seed=0)),
            ("mlp", 10, random_nonlinear_scm(10, seed=0))]


def _row(benchmark, case, ours, peer, peer_s, agree, notes):
    return {"benchmark": benchmark, "case": case, "ours_s": ours, "peer": peer, "peer_s": peer_s,
            "ratio": peer_s / ours, "agree": agree, "notes": notes}


def interventional_rows(n: int, repeats: int) -> list[dict]:
    from dowhy import gcm

    rows = []
    for kind, size, m in _models():
        peer, intervened, last = to_dowhy_gcm(m), m.do(x1=1.0), m.variables[-1]
        t, r = _timed({
            "ours": lambda: intervened.sample(n),
            "gcm": lambda: gcm.interventional_samples(peer, {"x1": lambda x: 1.0}, num_samples_to_draw=n),
            "torch": lambda: plain_torch_interventional(m, n, "x1", 1.0),
            "pyro": lambda: through_handlers(lambda: intervened.sample(n)),
        }, repeats)
        gap = _gap(intervened.sample(1000, seed=0), through_handlers(lambda: intervened.sample(1000, seed=0)))
        ks_gcm = stats.ks_2samp(r["ours"][last].numpy(), r["gcm"][last].to_numpy()).pvalue
        ks_torch = stats.ks_2samp(r["ours"][last].numpy(), r["torch"][last].numpy()).pvalue
        ok = bool((r["ours"]["x1"] == 1).all()) and bool((r["gcm"]["x1"] == 1).all())
        case = f"{kind} {size} nodes, {n} samples, do(x1=1)"
        rows.append(_row("scm interventional sampling", case, t["ours"], "dowhy.gcm", t["gcm"],
                         ok and ks_gcm > 1e-3, f"KS p on {last} = {ks_gcm:.3f}"))
        rows.append(_row("scm interventional sampling", case, t["ours"], "plain torch", t["torch"],
                         ok and ks_torch > 1e-3, f"KS p on {last} = {ks_torch:.3f}; no Pyro"))
        rows.append(_row("scm interventional sampling", case, t["ours"], "ours via Pyro/ChiRho do",
                         t["pyro"], gap < 1e-4, f"same seed: max |difference| {gap:.1e} (float rounding)"))
    return rows


def counterfactual_rows(n: int, repeats: int) -> list[dict]:
    from dowhy import gcm

    rows = []
    for kind, size, m in _models():
        peer, f = to_dowhy_gcm(m), m.sample(n, seed=1)
        df = _frame(f)
        t, r = _timed({
            "ours": lambda: m.counterfactual(f, {"x1": 1.0}),
            "gcm": lambda: gcm.counterfactual_samples(peer, {"x1": lambda x: 1.0}, observed_data=df),
            "torch": lambda: counterfactual_by_hand(m, f, {"x1": 1.0}),
            "chirho": lambda: through_handlers(lambda: m.counterfactual(f, {"x1": 1.0})),
            "all noise": lambda: _read_all_noise(m.counterfactual(f, {"x1": 1.0})),
        }, repeats)
        ours = torch.stack([r["ours"].counterfactual[v] for v in m.variables], 1).double().numpy()
        gcm_cf = r["gcm"][m.variables].to_numpy()
        hand = torch.stack([r["torch"].counterfactual[v] for v in m.variables], 1).double().numpy()
        d_gcm, d_hand = float(np.abs(ours - gcm_cf).max()), float(np.abs(ours - hand).max())
        case = f"{kind} {size} nodes, {n} units, do(x1=1)"
        rows.append(_row("scm counterfactual", case, t["ours"], "dowhy.gcm", t["gcm"], d_gcm < 1e-3,
                         f"max |ours - gcm| = {d_gcm:.1e}"))
        rows.append(_row("scm counterfactual", case, t["ours"], "plain torch (by hand)", t["torch"],
                         d_hand < 1e-3, f"max |ours - by hand| = {d_hand:.1e}; no Pyro"))
        gap = max(_gap(getattr(r["ours"], k), getattr(r["chirho"], k))
                  for k in ("factual", "counterfactual", "noise"))
        rows.append(_row("scm counterfactual", case, t["ours"], "ours via ChiRho MultiWorld", t["chirho"],
                         gap < 1e-4, f"max |difference| {gap:.1e} (float rounding)"))
        rows.append(_row("scm counterfactual", case + ", every abducted noise read", t["all noise"],
                         "dowhy.gcm", t["gcm"], d_gcm < 1e-3,
                         "ours abducts noise when read; here all of it is, as gcm computes it"))
    return rows


def run(quick: bool = False) -> list[dict]:
    """Rows of ours vs DoWhy gcm and vs plain torch (see the module docstring)."""
    torch.manual_seed(0)
    np.random.seed(0)
    with one_thread():
        return _rows(quick)


def _rows(quick: bool) -> list[dict]:
    repeats = 3 if quick else 7
    return interventional_rows(100_000, repeats) + counterfactual_rows(20_000 if quick else 100_000, repeats)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(" | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()))
