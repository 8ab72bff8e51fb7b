"""Flows on one CPU core: flow-SCM training and counterfactuals against the deepscm-style route.

The model: the causal-flow benchmark's 9-variable large back-door SCM
(``workbench.datasets.causal_flows``), one flow mechanism per variable fitted to its
observational data. The same architecture on both sides: one rational-quadratic spline
layer per variable (8 bins, bound 5, on standardised data), conditioned on the parents by
an MLP (32, 32) with ReLU, trained by Adam (lr 3e-3) on minibatches of 512.

Rows (torch on one thread; the routes are in ``benchmarks/flow_routes.py``). Times are
the process's CPU seconds, best of a few interleaved repeats: on one thread that is what
the wall clock shows on an idle core, and on a shared machine other jobs stretch the wall
clock far more than the CPU time (the wall-clock ratio is in the notes). The wrapper
overheads are medians of many back-to-back pairs, with their quartiles.

- ``train steps``: optimizer steps/s of the whole flow SCM. Ours: ``fit_flow_scm``, which
  trains every mechanism at once as one stacked network (``StackedFlows``: the nine
  networks' weights stacked for batched matrix products, one spline call for all
  variables; the same parameters and functions). Peer (deepscm style, Pawlowski et al.
  2020): Pyro ``spline`` / ``conditional_spline`` transforms in a
  ``TransformedDistribution`` per variable, the summed ``log_prob`` minimised by Adam.
  ``agree``: held-out NLL per variable within 0.05 nats of each other after the same steps
  (the two parameterise and initialise the spline differently).
- ``train steps (same model, per variable)``: ours against ``FlowMechanism.fit`` one
  variable after the other (the teaching route): the same minibatches, so the weights
  must agree (``agree``: held-out NLL within 1e-3 nats; the weights' difference in notes).
- ``train steps (raw zuko)``: the teaching route against the same zuko flows trained by a
  bare loop (no standardisation wrapper, no training loop): the wrapper's overhead, goal <= 10 %,
  as the median of back-to-back pairs of 75-step fits; beside it the wrapper alone (its loss in
  that bare loop), which separates the wrapper from the training loop's reproducible minibatches.
- ``counterfactuals``: units/s of ``StackedFlows.counterfactual`` (exact abduction of every
  variable in one call, then the descendants of the ``do`` one generation at a time) on
  10,000 units, ``do(x1 = median)``, vs the deepscm route: the Pyro flows' model under
  ChiRho ``MultiWorldCounterfactual``, conditioned on the units. ``agree``: both within 0.05
  of the true counterfactual's RMSE of each other (their RMSEs against the generating SCM in notes).
- ``counterfactuals (same model)``: ours vs ChiRho's MultiWorld route on *our* flow SCM
  (``pyro.poutine.trace`` around ``workbench.scm.counterfactual``), the same answer to 1e-4;
  the SCM's own one-step route in notes.
- ``counterfactuals (raw zuko)``: the SCM route vs abduction and prediction written out on
  the raw zuko flows: the wrapper's overhead, goal <= 10 %.
- ``causal flow <graph>`` (skipped with ``--quick``): the causal normalizing flow on each
  benchmark SCM (25,000 units as in Javaloy et al., 1,500 steps of 1,024; one affine layer, and
  for the diamond three with data standardised robustly, by median and IQR; one spline layer
  for the uniform-noise large back-door), its four metrics against the generating SCM in notes
  (the counterfactual error also as the median over units); ``agree``: interventional MMD < 0.01.
- ``digit parents``: thickness and intensity | thickness as flows; gap to the true
  log-likelihood in notes beside deepscm's published numbers (different data: see
  ``workbench.latents.flows.deep_scm``); ``agree``: both gaps < 0.05 nats.

    nice -n 10 python benchmarks/bench_flows.py [--quick] [--speed]   # --speed: timed rows only
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyro  # noqa: E402
import pyro.distributions as dist  # noqa: E402
import pyro.distributions.transforms as T  # noqa: E402
import torch  # noqa: E402

import workbench as wb  # noqa: E402
from benchmarks.flow_routes import (  # noqa: E402
    BATCH, BINS, BOUND, HIDDEN, LR, _stack, pyro_counterfactual, pyro_fit, raw_zuko_counterfactual, raw_zuko_fit,
    stacked_fit, teaching_fit, wrapper_in_bare_loop_fit,
)
from workbench.datasets.causal_flows import CAUSAL_FLOW_SCMS, causal_flow_scm, intervention_targets  # noqa: E402
from workbench.devtools.timing import one_thread  # noqa: E402
from workbench.latents.flows import CausalFlow, StackedFlows, evaluate_causal_flow, fit_digit_parents  # noqa: E402
from workbench.scm import counterfactual  # noqa: E402

GRAPH = "large_backdoor"
# the diamond's x4 = x3 / (|x2 + 2| + x3 + 0.5) varies too sharply near its pole for one affine layer
LAYERS, ROBUST = {"diamond": 3}, {"diamond"}   # (its sd comes from the units near the pole)


def _row(benchmark, case, ours_s, peer, peer_s, agree, notes):
    return {"benchmark": benchmark, "case": case, "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
            "ratio": (peer_s / ours_s) if (peer_s and ours_s) else None, "agree": bool(agree), "notes": notes}


# ------------------------------------------------------------------ rows
def _held_out_nll(fn, test):
    with torch.no_grad():
        return float(-fn(test).mean())


def _clocked(call):
    """``(CPU seconds, wall seconds, result)`` of one call. On one thread the process's CPU
    time is what the wall time would be on an idle core: other jobs on a shared machine
    stretch the wall time, hardly the CPU time."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = call()
    return time.process_time() - cpu, time.perf_counter() - wall, out


def _interleaved(calls, repeats):
    """Best CPU time, best wall time and last result of each call, the calls taking turns
    (a shared machine's load then falls on all of them alike)."""
    best = [(float("inf"), float("inf"), None)] * len(calls)
    for _ in range(repeats):
        for i, call in enumerate(calls):
            cpu, wall, out = _clocked(call)
            best[i] = (min(best[i][0], cpu), min(best[i][1], wall), out)
    return best


def _overhead(ours, theirs, pairs):
    """``ours / theirs - 1`` in CPU time from ``pairs`` back-to-back pairs (the order
    alternating): the median and the quartiles, in percent."""
    ratios = []
    for k in range(pairs):
        first, second = (ours, theirs) if k % 2 == 0 else (theirs, ours)
        a, b = _clocked(first)[0], _clocked(second)[0]
        ratios.append(a / b if k % 2 == 0 else b / a)
    low, median, high = statistics.quantiles(ratios, n=4)
    return tuple(100 * (r - 1) for r in (median, low, high)) + (pairs,)


def _spread(overhead):
    median, low, high, pairs = overhead
    return f"{median:+.1f}% (quartiles {low:+.1f}% to {high:+.1f}%, {pairs} interleaved pairs)"


def _wall(ours_wall, peer_wall):
    return f"wall clock {ours_wall:.3g} vs {peer_wall:.3g} s, {peer_wall / ours_wall:.2f}x"


def _max_weight_difference(a, b):
    return max(float((p - q).abs().max()) for v in a.variables
               for p, q in zip(a.mechanisms[v].net.parameters(), b.mechanisms[v].net.parameters()))


def _speed_rows(quick: bool) -> list[dict]:
    scm = causal_flow_scm(GRAPH)
    data, test = scm.sample(5000, seed=0), scm.sample(2000, seed=1)
    steps = 60 if quick else 150
    fits = (stacked_fit, pyro_fit, teaching_fit, raw_zuko_fit)
    for fit in fits:   # warm-up: first calls allocate and import
        fit(scm, data, 20)
    (ours_s, ours_w, ours), (peer_s, peer_w, peer), (teach_s, teach_w, teach), (raw_s, raw_w, raw) = _interleaved(
        [lambda f=f: f(scm, data, steps) for f in fits], 3)
    pairs = 6 if quick else 12
    wrapper = _overhead(lambda: teaching_fit(scm, data, 75), lambda: raw_zuko_fit(scm, data, 75), pairs)
    loss_only = _overhead(lambda: wrapper_in_bare_loop_fit(scm, data, 75), lambda: raw_zuko_fit(scm, data, 75), pairs)
    d = len(scm.variables)

    def scm_lp(model):
        return lambda t: sum(model.mechanisms[v].log_prob(t[v], _stack(t, model.mechanisms[v].parents, len(t[v])))
                             for v in scm.variables)
    nll_ours, nll_peer = _held_out_nll(scm_lp(ours), test) / d, _held_out_nll(peer.log_prob, test) / d
    same = _max_weight_difference(ours, teach)
    nll_teach = _held_out_nll(scm_lp(teach), test) / d
    rows = [_row("flows", f"train steps ({GRAPH}, {d} flows, batch {BATCH})", ours_s / steps,
                 "Pyro conditional_spline (deepscm style)", peer_s / steps, abs(nll_ours - nll_peer) < 0.05,
                 f"{steps / ours_s:.0f} vs {steps / peer_s:.0f} SCM steps/s ({_wall(ours_w, peer_w)}); ours: "
                 f"fit_flow_scm (the nine networks stacked); held-out NLL per variable {nll_ours:.3f} vs "
                 f"{nll_peer:.3f} after {steps} steps"),
            _row("flows", "train steps (same model, per variable)", ours_s / steps,
                 "FlowMechanism.fit per variable (teaching route)", teach_s / steps, abs(nll_ours - nll_teach) < 1e-3,
                 f"{_wall(ours_w, teach_w)}; held-out NLL per variable {nll_ours:.4f} vs {nll_teach:.4f}; "
                 f"max weight difference after "
                 f"{steps} steps {same:.1e} (same minibatches; float rounding grows through Adam's steps)"),
            _row("flows", "train steps (raw zuko)", teach_s / steps, "zuko NSF, bare loop", raw_s / steps, True,
                 f"teaching route (wrapper + training loop) overhead {_spread(wrapper)} of 75-step fits "
                 f"(goal <= 10%; best of 3 above {100 * (teach_s / raw_s - 1):+.1f}%); the wrapper alone (its "
                 f"loss in the bare loop) {_spread(loss_only)}; stacked route "
                 f"{100 * (ours_s / raw_s - 1):+.1f}%")]
    rows += _counterfactual_rows(scm, data, ours, peer, raw, 2000 if quick else 10_000)
    rows += _counterfactual_rows(scm, data, ours, peer, raw, 1, single=True)
    return rows


def _counterfactual_rows(scm, data, ours, peer, raw, n, single=False):
    units = {v: x[:n] for v, x in scm.sample(max(n, 2), seed=2).items()}
    a = float(data["x1"].median())
    do = {"x1": a}
    truth = counterfactual(scm, units, do).counterfactual
    stacked = StackedFlows(ours.mechanisms)
    repeats = 20 if single else 7

    def traced():
        with pyro.poutine.trace():
            return counterfactual(ours, units, do).counterfactual
    (c_ours_s, c_ours_w, cf_ours), (c_peer_s, c_peer_w, cf_peer), (c_scm_s, _, cf_scm), (c_chirho_s, _, cf_chirho), \
        (c_raw_s, _, cf_raw) = _interleaved([lambda: stacked.counterfactual(units, do),
                                             lambda: pyro_counterfactual(peer, units, {"x1": torch.tensor(a)}),
                                             lambda: counterfactual(ours, units, do).counterfactual, traced,
                                             lambda: raw_zuko_counterfactual(scm, raw, data, units, do)], repeats)
    wrapper = None if single else _overhead(lambda: counterfactual(ours, units, do),
                                            lambda: raw_zuko_counterfactual(scm, raw, data, units, do), 30)
    def rmse(cf):
        return float(torch.stack([(cf[v] - truth[v]) for v in scm.variables], -1).norm(dim=-1).mean())

    def differ(a, b):
        return max(float((a[v] - b[v]).abs().max()) for v in scm.variables)
    if single:
        return [_row("flows", "counterfactual of 1 unit (a query)", c_ours_s, "Pyro flows + ChiRho MultiWorld",
                     c_peer_s, differ(cf_ours, cf_chirho) < 1e-4,
                     f"{1 / c_ours_s:,.0f} vs {1 / c_peer_s:,.0f} queries/s ({_wall(c_ours_w, c_peer_w)}); on our "
                     f"flow SCM: SCM route "
                     f"{c_scm_s * 1e3:.1f} ms, ChiRho {c_chirho_s * 1e3:.1f} ms; raw zuko by hand {c_raw_s * 1e3:.1f} ms")]
    return [
        _row("flows", f"counterfactuals ({n} units, do(x1))", c_ours_s / n, "Pyro flows + ChiRho MultiWorld",
             c_peer_s / n, abs(rmse(cf_ours) - rmse(cf_peer)) < 0.05,
             f"{n / c_ours_s:,.0f} vs {n / c_peer_s:,.0f} units/s ({_wall(c_ours_w, c_peer_w)}; ours: "
             f"StackedFlows.counterfactual); RMSE to the true counterfactual {rmse(cf_ours):.3f} vs {rmse(cf_peer):.3f}"),
        _row("flows", "counterfactuals (same model)", c_ours_s / n, "ChiRho MultiWorld on our flow SCM",
             c_chirho_s / n, differ(cf_ours, cf_chirho) < 1e-4,
             f"max difference {differ(cf_ours, cf_chirho):.1e}; the SCM's own route "
             f"{n / c_scm_s:,.0f} units/s, difference {differ(cf_scm, cf_chirho):.1e}"),
        _row("flows", "counterfactuals (raw zuko)", c_scm_s / n, "abduction + prediction by hand, raw zuko",
             c_raw_s / n, rmse(cf_raw) < 10, f"SCM route (wrapper) overhead {_spread(wrapper)} (goal <= 10%; "
             f"best of {repeats} above {100 * (c_scm_s / c_raw_s - 1):+.1f}%); stacked route "
             f"{100 * (c_ours_s / c_raw_s - 1):+.1f}%; raw flows' RMSE {rmse(cf_raw):.3f}"),
    ]


def _joint_rows(quick: bool) -> list[dict]:
    """One autoregressive flow over all variables: our causal flow vs Pyro's spline_autoregressive."""
    scm = causal_flow_scm(GRAPH)
    data, test = scm.sample(5000, seed=0), scm.sample(2000, seed=1)
    d, steps = len(scm.variables), 20 if quick else 50
    x = torch.stack([data[v] for v in scm.variables], -1)
    xt = torch.stack([test[v] for v in scm.variables], -1)
    loc, sd = x.mean(0), x.std(0)

    def ours():
        torch.manual_seed(0)
        flow = CausalFlow(scm.variables, list(scm.graph.edges), flow="nsf", transforms=1, hidden=HIDDEN, bins=BINS)
        flow.fit(data, steps=steps, batch_size=BATCH, lr=LR, progress=False)
        with torch.no_grad():
            return float(-flow.log_prob(test).mean()) / d

    def pyro_joint():
        torch.manual_seed(0)
        # order="linear": Pyro 1.9.2's SplineAutoregressive unpacks four parameter sets, so its
        # "quadratic" order fails; the linear-rational spline costs about the same
        t = T.spline_autoregressive(d, hidden_dims=list(HIDDEN), count_bins=BINS, bound=BOUND, order="linear")
        q = dist.TransformedDistribution(dist.Normal(torch.zeros(d), 1.0).to_event(1),
                                         [t, T.AffineTransform(loc, sd, event_dim=1)])
        opt = torch.optim.Adam(t.parameters(), lr=LR)
        g = torch.Generator().manual_seed(0)
        for _ in range(steps):
            loss = -q.log_prob(x[torch.randint(0, len(x), (BATCH,), generator=g)]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            return float(-q.log_prob(xt).mean()) / d
    ours()   # warm-up
    (ours_s, ours_w, nll_ours), (peer_s, peer_w, nll_peer) = _interleaved([ours, pyro_joint], 1)
    return [_row("flows", f"train steps (one joint autoregressive flow, {d} variables)", ours_s / steps,
                 "Pyro spline_autoregressive", peer_s / steps, True,
                 f"{steps / ours_s:.0f} vs {steps / peer_s:.1f} steps/s ({_wall(ours_w, peer_w)}); held-out NLL per variable "
                 f"{nll_ours:.3f} vs {nll_peer:.3f} after {steps} steps. Ours is masked by the graph, "
                 "Pyro's fully autoregressive; Pyro's log_prob runs its sequential inverse (d passes)")]


def _causal_flow_rows(names=CAUSAL_FLOW_SCMS) -> list[dict]:
    rows = []
    for name in names:
        scm = causal_flow_scm(name)
        train, test = scm.sample(25_000, seed=0), scm.sample(2500, seed=1)
        start = time.perf_counter()
        torch.manual_seed(0)
        flow = CausalFlow(scm.variables, list(scm.graph.edges), flow="nsf" if name == "large_backdoor" else "maf",
                          transforms=LAYERS.get(name, 1), hidden=(32, 32, 32))
        flow.fit(train, steps=1500, batch_size=1024, lr=3e-3, progress=False, robust=name in ROBUST)
        report = evaluate_causal_flow(flow, scm, train, test, intervention_targets(name), n_samples=2000,
                                      n_ate=5000)
        seconds = time.perf_counter() - start
        per = report["per_node"]
        worst_mmd = max(s["mmd"] for s in per.values())
        notes = f"log-likelihood gap {report['log_likelihood_gap']:.3f}; " + "; ".join(
            f"{v}: MMD {s['mmd']:.4f}, CF RMSE {s['cf_rmse']:.3f} (median unit {s['cf_median']:.3f}), "
            f"ATE RMSE {s['ate_rmse']:.3f}" for v, s in per.items())
        rows.append(_row("flows", f"causal flow {name}", seconds, "generating SCM (ground truth)", None,
                         worst_mmd < 0.01, notes))
    return rows


def _digit_rows(quick: bool) -> list[dict]:
    start = time.perf_counter()
    fit = fit_digit_parents(steps=200 if quick else 1000, progress=False)
    seconds = time.perf_counter() - start
    ll = fit.log_likelihood
    notes = "; ".join(f"log p({v}): ours {s['flow']:.3f}, true SCM {s['true']:.3f} (gap {s['gap']:.3f}), "
                      f"deepscm {s['published']:.2f} on Morpho-MNIST" for v, s in ll.items())
    return [_row("flows", "digit parents (thickness -> intensity)", seconds,
                 "deepscm published (other data)", None, all(s["gap"] < 0.05 for s in ll.values()), notes)]


def run(quick: bool = False) -> list[dict]:
    with one_thread():
        wb.seed_everything(0)
        rows = _speed_rows(quick)
        rows += _joint_rows(quick)
        rows += _digit_rows(quick)
        if not quick:
            rows += _causal_flow_rows()
    return rows


if __name__ == "__main__":
    if "--speed" in sys.argv:            # only the timed rows against the peers
        with one_thread():
            wb.seed_everything(0)
            rows = _speed_rows("--quick" in sys.argv) + _joint_rows("--quick" in sys.argv)
    else:
        rows = run(quick="--quick" in sys.argv)
    for row in rows:
        print(row)
