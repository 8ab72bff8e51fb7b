"""Flows on one CPU core: flow-SCM training and counterfactuals against the deepscm-style route.

The model: the causal-flow benchmark's 9-variable large back-door SCM
(``workbench.datasets.causal_flows``), one flow mechanism per variable fitted to its
observational data. The same architecture on both sides: one rational-quadratic spline
layer per variable (8 bins, bound 5, on standardised data), conditioned on the parents by
an MLP (32, 32) with ReLU, trained by Adam (lr 3e-3) on minibatches of 512.

Rows (torch on one thread; best of a few repeats, the machine is shared):

- ``train steps``: optimizer steps/s of the whole flow SCM. Ours: ``FlowMechanism.fit``
  per variable through ``workbench.latents.train`` (zuko NSF). Peer (deepscm style,
  Pawlowski et al. 2020): Pyro ``spline`` / ``conditional_spline`` transforms in a
  ``TransformedDistribution`` per variable, the summed ``log_prob`` minimised by Adam.
  ``agree``: held-out NLL per variable within 0.05 nats of each other after the same steps.
- ``train steps (raw zuko)``: ours against the same zuko flows trained by a bare loop (no
  standardisation wrapper, no training loop): the wrapper's overhead, goal <= 10 %.
- ``counterfactuals``: units/s of ``workbench.scm.counterfactual`` (exact abduction by
  inversion, then the worlds) on 10,000 units, ``do(x1 = median)``, vs the deepscm route:
  the Pyro flows' model under ChiRho ``MultiWorldCounterfactual``, conditioned on the
  units, abducting through the transforms. ``agree``: both within 0.05 of the true
  counterfactual's RMSE of each other (their RMSEs against the generating SCM in notes).
- ``counterfactuals (same model)``: ours vs ChiRho's MultiWorld route on *our* flow SCM
  (``pyro.poutine.trace`` around the call), the same answer to 1e-5.
- ``counterfactuals (raw zuko)``: ours vs abduction and prediction written out on the raw
  zuko flows: the wrapper's overhead, goal <= 10 %.
- ``causal flow <graph>`` (skipped with ``--quick``): the causal normalizing flow on each
  benchmark SCM (25,000 units as in Javaloy et al., 1,500 steps of 1,024), its four metrics
  against the generating SCM in notes; ``agree``: interventional MMD < 0.01.
- ``digit parents``: thickness and intensity | thickness as flows; gap to the true
  log-likelihood in notes beside deepscm's published numbers (different data: see
  ``workbench.latents.flows.deep_scm``); ``agree``: both gaps < 0.05 nats.

    nice -n 10 python benchmarks/bench_flows.py [--quick] [--speed]   # --speed: timed rows only
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyro  # noqa: E402
import pyro.distributions as dist  # noqa: E402
import pyro.distributions.transforms as T  # noqa: E402
import torch  # noqa: E402
import zuko  # noqa: E402
from chirho.counterfactual.handlers import MultiWorldCounterfactual  # noqa: E402
from chirho.indexed.ops import IndexSet, gather  # noqa: E402
from chirho.interventional.handlers import do as chirho_do  # noqa: E402
from chirho.observational.handlers import condition as chirho_condition  # noqa: E402

import workbench as wb  # noqa: E402
from workbench.datasets.causal_flows import CAUSAL_FLOW_SCMS, causal_flow_scm, intervention_targets  # noqa: E402
from workbench.devtools.timing import best_of, one_thread  # noqa: E402
from workbench.latents.flows import CausalFlow, FlowMechanism, evaluate_causal_flow, fit_digit_parents  # noqa: E402
from workbench.scm import SCM, counterfactual  # noqa: E402

HIDDEN, BINS, LR, BATCH, BOUND = (32, 32), 8, 3e-3, 512, 5.0
GRAPH = "large_backdoor"


def _row(benchmark, case, ours_s, peer, peer_s, agree, notes):
    return {"benchmark": benchmark, "case": case, "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
            "ratio": (peer_s / ours_s) if (peer_s and ours_s) else None, "agree": bool(agree), "notes": notes}


def _parents(scm):
    return {v: list(scm.mechanisms[v].parents) for v in scm.variables}


def _stack(data, names, n):
    return torch.stack([data[p] for p in names], -1) if names else torch.zeros(n, 0)


# ------------------------------------------------------------------ the three routes
def ours_fit(scm, data, steps, seed=0):
    torch.manual_seed(seed)
    mechs = {v: FlowMechanism(p, flow="nsf", transforms=1, hidden=HIDDEN, bins=BINS) for v, p in _parents(scm).items()}
    for v, m in mechs.items():
        m.fit(data, v, steps=steps, batch_size=BATCH, lr=LR, seed=seed, progress=False)
    return SCM(mechs)


class _Expand(torch.distributions.Transform):
    """Broadcast a value to the flow's batch shape: Pyro's spline does not broadcast its input
    against parameters that carry ChiRho's world dimension (glue the deepscm route needs here)."""

    bijective = True
    domain = codomain = torch.distributions.constraints.real_vector

    def __init__(self, shape):
        super().__init__(cache_size=0)
        self.shape = shape

    def _call(self, x):
        return x.expand(self.shape)

    def _inverse(self, y):
        return y.expand(self.shape)

    def log_abs_det_jacobian(self, x, y):
        return torch.zeros(self.shape[:-1])


class PyroFlowSCM(torch.nn.Module):
    """The deepscm-style model: a Pyro spline flow per variable, conditioned on its parents."""

    def __init__(self, parents, data):
        super().__init__()
        self.parents = parents
        self.flows = torch.nn.ModuleDict()
        self.scale = {}
        for v, pa in parents.items():
            self.flows[v] = (T.conditional_spline(1, len(pa), hidden_dims=list(HIDDEN), count_bins=BINS,
                                                  bound=BOUND, order="quadratic") if pa else
                             T.Spline(1, count_bins=BINS, bound=BOUND, order="quadratic"))
            self.scale[v] = (data[v].mean(), data[v].std())

    def distribution(self, v, pa):
        flow = self.flows[v].condition(pa) if self.parents[v] else self.flows[v]
        loc, sd = self.scale[v]
        base = dist.Normal(torch.zeros(pa.shape[:-1] + (1,)), 1.0).to_event(1)
        return dist.TransformedDistribution(base, [flow, _Expand(pa.shape[:-1] + (1,)),
                                                   T.AffineTransform(loc, sd, event_dim=1)])

    def log_prob(self, data):
        n = len(next(iter(data.values())))
        return sum(self.distribution(v, _stack(data, pa, n)).log_prob(data[v][:, None]) for v, pa in self.parents.items())

    def model(self, n):
        values = {}
        with pyro.plate("units", n, dim=-1):
            for v, pa in self.parents.items():
                cols = [values[p] for p in pa]
                ctx = torch.stack(torch.broadcast_tensors(*cols), -1) if cols else torch.zeros(n, 0)
                values[v] = pyro.sample(v, self.distribution(v, ctx))[..., 0]
        return values


def pyro_fit(scm, data, steps, seed=0):
    torch.manual_seed(seed)
    model = PyroFlowSCM(_parents(scm), data)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(seed)
    n = len(data[scm.variables[0]])
    for _ in range(steps):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        loss = -model.log_prob({v: x[idx] for v, x in data.items()}).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def pyro_counterfactual(model, units, do):
    n = len(next(iter(units.values())))
    obs = {v: x[:, None] for v, x in units.items()}
    with torch.no_grad(), pyro.validation_enabled(False), MultiWorldCounterfactual(first_available_dim=-2):
        with chirho_condition(data=obs), chirho_do(actions=do):
            values = model.model(n)
        return {v: gather(x, IndexSet(**{k: {1} for k in do})).reshape(-1)[-n:] if x.dim() > 1 else x
                for v, x in values.items()}


def raw_zuko_fit(scm, data, steps, seed=0):
    """The same zuko flows with a bare loop: pre-standardised data, no wrapper, no training loop."""
    torch.manual_seed(seed)
    out = {}
    n = len(data[scm.variables[0]])
    for v, pa in _parents(scm).items():
        flow = zuko.flows.NSF(1, len(pa), bins=BINS, transforms=1, hidden_features=HIDDEN)
        x = ((data[v] - data[v].mean()) / data[v].std())[:, None]
        c = _stack(data, pa, n)
        c = (c - c.mean(0)) / c.std(0) if pa else None
        opt = torch.optim.Adam(flow.parameters(), lr=LR)
        g = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            idx = torch.randint(0, n, (BATCH,), generator=g)
            loss = -flow(c[idx] if pa else None).log_prob(x[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        out[v] = flow
    return out


def raw_zuko_counterfactual(scm, flows_, data, units, do):
    """Abduction u = T(x) and prediction T^-1(u) per variable, by hand on the raw flows."""
    n = len(next(iter(units.values())))
    std = {v: (data[v].mean(), data[v].std()) for v in scm.variables}
    parents = _parents(scm)

    def context(values, pa):
        if not pa:
            return None
        c = _stack(values, pa, n)
        return (c - torch.stack([std[p][0] for p in pa])) / torch.stack([std[p][1] for p in pa])

    cf = {}
    with torch.no_grad():
        for v in scm.variables:
            if v in do:
                cf[v] = torch.full((n,), float(do[v]))
                continue
            m, s = std[v]
            t = flows_[v](context(units, parents[v])).transform
            u = t(((units[v] - m) / s)[:, None])
            cf[v] = flows_[v](context(cf, parents[v])).transform.inv(u)[:, 0] * s + m
    return cf


# ------------------------------------------------------------------ rows
def _held_out_nll(fn, test):
    with torch.no_grad():
        return float(-fn(test).mean())


def _interleaved(calls, repeats):
    """Best time and last result of each call, the calls taking turns (a shared machine's
    load then falls on all of them alike)."""
    best = [(float("inf"), None)] * len(calls)
    for _ in range(repeats):
        for i, call in enumerate(calls):
            seconds, out = best_of(call, 1)
            best[i] = (min(best[i][0], seconds), out)
    return best


def _speed_rows(quick: bool) -> list[dict]:
    scm = causal_flow_scm(GRAPH)
    data, test = scm.sample(5000, seed=0), scm.sample(2000, seed=1)
    steps = 60 if quick else 150
    repeats = 2
    for fit in (ours_fit, pyro_fit, raw_zuko_fit):   # warm-up: first calls allocate and import
        fit(scm, data, 20)
    (ours_s, ours), (peer_s, peer), (raw_s, raw) = _interleaved(
        [lambda: ours_fit(scm, data, steps), lambda: pyro_fit(scm, data, steps),
         lambda: raw_zuko_fit(scm, data, steps)], repeats)
    d = len(scm.variables)

    def ours_lp(t):
        return sum(ours.mechanisms[v].log_prob(t[v], _stack(t, ours.mechanisms[v].parents, len(t[v])))
                   for v in scm.variables)
    nll_ours, nll_peer = _held_out_nll(ours_lp, test) / d, _held_out_nll(peer.log_prob, test) / d
    rows = [_row("flows", f"train steps ({GRAPH}, {d} flows, batch {BATCH})", ours_s / steps,
                 "Pyro conditional_spline (deepscm style)", peer_s / steps, abs(nll_ours - nll_peer) < 0.05,
                 f"{steps / ours_s:.0f} vs {steps / peer_s:.0f} SCM steps/s; held-out NLL per variable "
                 f"{nll_ours:.3f} vs {nll_peer:.3f} after {steps} steps"),
            _row("flows", "train steps (raw zuko)", ours_s / steps, "zuko NSF, bare loop", raw_s / steps, True,
                 f"wrapper + training loop overhead {100 * (ours_s / raw_s - 1):+.1f}% (goal <= 10%)")]
    rows += _counterfactual_rows(scm, data, ours, peer, raw, 2000 if quick else 10_000)
    rows += _counterfactual_rows(scm, data, ours, peer, raw, 1, single=True)
    return rows


def _counterfactual_rows(scm, data, ours, peer, raw, n, single=False):
    units = {v: x[:n] for v, x in scm.sample(max(n, 2), seed=2).items()}
    a = float(data["x1"].median())
    do = {"x1": a}
    truth = counterfactual(scm, units, do).counterfactual
    repeats = 20 if single else 3
    def traced():
        with pyro.poutine.trace():
            return counterfactual(ours, units, do).counterfactual
    (c_ours_s, cf_ours), (c_peer_s, cf_peer), (c_chirho_s, cf_chirho), (c_raw_s, cf_raw) = _interleaved(
        [lambda: counterfactual(ours, units, do).counterfactual,
         lambda: pyro_counterfactual(peer, units, {"x1": torch.tensor(a)}), traced,
         lambda: raw_zuko_counterfactual(scm, raw, data, units, do)], repeats)

    def rmse(cf):
        return float(torch.stack([(cf[v] - truth[v]) for v in scm.variables], -1).norm(dim=-1).mean())
    same = max(float((cf_chirho[v] - cf_ours[v]).abs().max()) for v in scm.variables)
    if single:
        return [_row("flows", "counterfactual of 1 unit (a query)", c_ours_s, "Pyro flows + ChiRho MultiWorld",
                     c_peer_s, same < 1e-5, f"{1 / c_ours_s:,.0f} vs {1 / c_peer_s:,.0f} queries/s; ChiRho on "
                     f"our SCM {c_chirho_s * 1e3:.1f} ms, raw zuko by hand {c_raw_s * 1e3:.1f} ms")]
    rows = [
        _row("flows", f"counterfactuals ({n} units, do(x1))", c_ours_s / n, "Pyro flows + ChiRho MultiWorld",
             c_peer_s / n, abs(rmse(cf_ours) - rmse(cf_peer)) < 0.05,
             f"{n / c_ours_s:,.0f} vs {n / c_peer_s:,.0f} units/s; RMSE to the true counterfactual "
             f"{rmse(cf_ours):.3f} vs {rmse(cf_peer):.3f}"),
        _row("flows", "counterfactuals (same model)", c_ours_s / n, "ChiRho MultiWorld on our flow SCM",
             c_chirho_s / n, same < 1e-5, f"max difference {same:.1e}"),
        _row("flows", "counterfactuals (raw zuko)", c_ours_s / n, "abduction + prediction by hand, raw zuko",
             c_raw_s / n, rmse(cf_raw) < 10, f"wrapper overhead {100 * (c_ours_s / c_raw_s - 1):+.1f}% "
             f"(goal <= 10%); raw flows' RMSE {rmse(cf_raw):.3f}"),
    ]
    return rows


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
    (ours_s, nll_ours), (peer_s, nll_peer) = _interleaved([ours, pyro_joint], 1)
    return [_row("flows", f"train steps (one joint autoregressive flow, {d} variables)", ours_s / steps,
                 "Pyro spline_autoregressive", peer_s / steps, True,
                 f"{steps / ours_s:.0f} vs {steps / peer_s:.1f} steps/s; held-out NLL per variable "
                 f"{nll_ours:.3f} vs {nll_peer:.3f} after {steps} steps. Ours is masked by the graph, "
                 "Pyro's fully autoregressive; Pyro's log_prob runs its sequential inverse (d passes)")]


def _causal_flow_rows() -> list[dict]:
    rows = []
    for name in CAUSAL_FLOW_SCMS:
        scm = causal_flow_scm(name)
        train, test = scm.sample(25_000, seed=0), scm.sample(2500, seed=1)
        start = time.perf_counter()
        torch.manual_seed(0)
        flow = CausalFlow(scm.variables, list(scm.graph.edges), flow="nsf" if name == "large_backdoor" else "maf",
                          hidden=(32, 32, 32))
        flow.fit(train, steps=1500, batch_size=1024, lr=3e-3, progress=False)
        report = evaluate_causal_flow(flow, scm, train, test, intervention_targets(name), n_samples=2000,
                                      n_ate=5000)
        seconds = time.perf_counter() - start
        per = report["per_node"]
        worst_mmd = max(s["mmd"] for s in per.values())
        notes = f"log-likelihood gap {report['log_likelihood_gap']:.3f}; " + "; ".join(
            f"{v}: MMD {s['mmd']:.4f}, CF RMSE {s['cf_rmse']:.3f}, ATE RMSE {s['ate_rmse']:.3f}" for v, s in per.items())
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
