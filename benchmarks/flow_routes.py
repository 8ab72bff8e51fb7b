"""The routes that bench_flows.py times against each other, on one flow SCM.

- ours: :func:`workbench.latents.flows.fit_flow_scm` (every mechanism in one stacked
  network) and :meth:`StackedFlows.counterfactual`;
- the teaching route: ``FlowMechanism.fit`` per variable and ``workbench.scm.counterfactual``;
- deepscm style (Pawlowski et al. 2020): Pyro ``spline`` / ``conditional_spline``
  transforms per variable, ChiRho ``MultiWorldCounterfactual`` for counterfactuals;
- raw zuko: the same zuko flows with a bare loop and abduction written out by hand.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import pyro.distributions.transforms as T
import torch
import zuko
from chirho.counterfactual.handlers import MultiWorldCounterfactual
from chirho.indexed.ops import IndexSet, gather
from chirho.interventional.handlers import do as chirho_do
from chirho.observational.handlers import condition as chirho_condition

from workbench.latents.flows import FlowMechanism, fit_flow_scm
from workbench.scm import SCM

HIDDEN, BINS, LR, BATCH, BOUND = (32, 32), 8, 3e-3, 512, 5.0


def _parents(scm):
    return {v: list(scm.mechanisms[v].parents) for v in scm.variables}


def _stack(data, names, n):
    return torch.stack([data[p] for p in names], -1) if names else torch.zeros(n, 0)


def _mechanisms(scm):
    return {v: FlowMechanism(p, flow="nsf", transforms=1, hidden=HIDDEN, bins=BINS) for v, p in _parents(scm).items()}


def stacked_fit(scm, data, steps, seed=0):
    """Ours: every mechanism trained at once as one stacked network (the weights land in them)."""
    torch.manual_seed(seed)
    mechs = _mechanisms(scm)
    fit_flow_scm(mechs, data, steps=steps, batch_size=BATCH, lr=LR, seed=seed, progress=False)
    return SCM(mechs)


def teaching_fit(scm, data, steps, seed=0):
    """The teaching route: ``FlowMechanism.fit`` one variable after the other."""
    torch.manual_seed(seed)
    mechs = _mechanisms(scm)
    for v, m in mechs.items():
        m.fit(data, v, steps=steps, batch_size=BATCH, lr=LR, seed=seed, progress=False)
    return SCM(mechs)


def wrapper_in_bare_loop_fit(scm, data, steps, seed=0):
    """The teaching route's flows (``ConditionalFlow.loss``, standardisation built in) in raw
    zuko's bare loop: the wrapper's own overhead, without the training loop's."""
    torch.manual_seed(seed)
    mechs = _mechanisms(scm)
    for v, m in mechs.items():
        batch = m.training_data(data, v)
        m.net.standardize(*m.net.split(batch))
        opt = torch.optim.Adam(m.net.parameters(), lr=LR)
        g = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            loss, _ = m.net.loss(batch[torch.randint(0, len(batch), (BATCH,), generator=g)])
            opt.zero_grad()
            loss.backward()
            opt.step()
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
