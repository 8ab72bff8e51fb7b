"""Normalizing flows: a flow as an SCM mechanism (FlowMechanism) and a causal flow (CausalFlow)."""

from __future__ import annotations

import torch

import workbench as wb
from workbench.latents.flows import CausalFlow, FlowMechanism

from .core import compare, guarded, training_steps, twins

# Flows compose many small networks and splines (bin searches near edges): 1e-4 on their
# outputs, in full float32 on both devices.
FLOW_TOLERANCE = 1e-4


def _mechanism(device, n, steps):
    g = torch.Generator().manual_seed(0)
    pa, u = torch.randn(n, 2, generator=g), torch.randn(n, generator=g)
    wb.seed_everything(0)
    cpu = FlowMechanism(["a", "b"], flow="nsf", transforms=2, hidden=(16, 16), device="cpu")
    dev = cpu.to(device)

    def run(mech, pa, u):                       # generate, abduct, score: the mechanism's contract
        v = mech(pa, u)
        return torch.stack([v, mech.abduct(v, pa), mech.log_prob(v, pa)])
    rows = [compare("flow", f"FlowMechanism (nsf) generate+abduct+log_prob ({n})",
                    lambda: run(cpu, pa, u), lambda: run(dev, pa.to(device), u.to(device)),
                    device, FLOW_TOLERANCE, exact=True)]
    data = {"v": pa[:, 0] * 0.5 + pa[:, 1] ** 2 + 0.1 * u, "a": pa[:, 0], "b": pa[:, 1]}
    fresh = [FlowMechanism(["a", "b"], flow="nsf", transforms=2, hidden=(16, 16), device=d)
             for d in ("cpu", device)]
    rows.append(training_steps(
        "flow", f"FlowMechanism {steps} training steps",
        lambda m: m.fit(data, "v", steps=steps, batch_size=128, progress=False),
        *fresh, device))
    return rows


def _causal(device, n, steps):
    variables, edges = ["x", "y", "z"], [("x", "y"), ("y", "z"), ("x", "z")]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, generator=g)
    y = torch.tanh(x) + 0.3 * torch.randn(n, generator=g)
    data = torch.stack([x, y, x * y + 0.3 * torch.randn(n, generator=g)], 1)
    wb.seed_everything(0)
    cpu, dev = twins(lambda d: CausalFlow(variables, edges, hidden=(16, 16), device=d), device)

    def run(flow, data):                        # rungs 1 and 3: density, abduction, a counterfactual
        return (flow.log_prob(data), flow.abduct(data), flow.counterfactual(data, {"x": 1.0}))
    rows = [compare("flow", f"CausalFlow log_prob+abduct+counterfactual ({n})",
                    lambda: run(cpu, data), lambda: run(dev, data.to(device)), device,
                    FLOW_TOLERANCE, exact=True)]
    fresh = [CausalFlow(variables, edges, hidden=(16, 16), device=d) for d in ("cpu", device)]
    rows.append(training_steps("flow", f"CausalFlow {steps} training steps",
                               lambda f: f.fit(data, steps=steps, batch_size=128, progress=False),
                               *fresh, device))
    return rows


def flow_checks(device, quick: bool) -> list:
    n, steps = (512, 3) if quick else (20_000, 50)
    return (guarded("flow", "FlowMechanism", lambda: _mechanism(device, n, steps))
            + guarded("flow", "CausalFlow", lambda: _causal(device, n, steps)))
