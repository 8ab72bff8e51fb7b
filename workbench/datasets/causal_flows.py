"""The tabular SCMs of the causal normalizing flow benchmark, with exact densities.

Javaloy, Sanchez-Martin & Valera (NeurIPS 2023) evaluate causal flows on small SCMs
whose equations and inverses are written out (their repository ``psanch21/causal-flows``,
``causal_nf/sem_equations``). We write the same equations here as workbench SCMs of
invertible :class:`~workbench.scm.FunctionMechanism` s, so interventions and
counterfactuals come from :mod:`workbench.scm`, and :func:`log_density` gives the exact
``log p(x)`` (change of variables through each mechanism's inverse, with autograd's
derivative). Noise is ``N(0, 1)`` per variable, except the large back-door model, whose
noise is ``Uniform(1e-6, 1)`` as in the benchmark. The collider is linear (the benchmark
has no nonlinear collider); the others are the benchmark's ``non-linear`` equations.

Examples
--------
>>> import torch
>>> m = causal_flow_scm("chain")
>>> m.variables, intervention_targets("chain")
(['x1', 'x2', 'x3'], ['x1', 'x2'])
>>> s = m.sample(4, seed=0)
>>> log_density(m, s).shape
torch.Size([4])
>>> causal_flow_scm("ring")
Traceback (most recent call last):
...
workbench.errors.UnknownVariableError: Unknown benchmark SCM 'ring'. ...
"""

from __future__ import annotations

from typing import Mapping

import pyro.distributions as dist
import torch
import torch.nn.functional as F

from workbench.errors import UnknownVariableError
from workbench.scm import SCM, FunctionMechanism

__all__ = ["CAUSAL_FLOW_SCMS", "causal_flow_scm", "intervention_targets", "log_density"]


def _softplus_inverse(y):
    return y.expm1().clamp_min(1e-6).log()


def _layer(x, y):
    return F.softplus(x + 1) + F.softplus(0.5 + y) - 3.0


def _layer_inverse(x, z):
    return _softplus_inverse(z + 3 - F.softplus(x + 1)) - 0.5


def _laplace_icdf(loc, scale, p):
    return loc - scale * (p - 0.5).sign() * torch.log1p(-2 * (p - 0.5).abs())


def _laplace_cdf(loc, scale, x):
    return 0.5 - 0.5 * (x - loc).sign() * torch.expm1(-(x - loc).abs() / scale)


def _x9_loc(x7, x8):
    return -F.softplus((1.3 * x7 + x8) / 3 + 1) + 2


# name -> [(variable, parents, f(pa, u), inverse(v, pa))]; pa[..., k] is the k-th parent
_EQUATIONS = {
    "chain": [
        ("x1", [], lambda p, u: u, lambda v, p: v),
        ("x2", ["x1"], lambda p, u: torch.exp(p[..., 0] / 2) + u / 4, lambda v, p: 4 * (v - torch.exp(p[..., 0] / 2))),
        ("x3", ["x2"], lambda p, u: (p[..., 0] - 5) ** 3 / 15 + u, lambda v, p: v - (p[..., 0] - 5) ** 3 / 15),
    ],
    "fork": [
        ("x1", [], lambda p, u: u, lambda v, p: v),
        ("x2", [], lambda p, u: u, lambda v, p: v),
        ("x3", ["x1", "x2"],
         lambda p, u: 4 / (1 + torch.exp(-p[..., 0] - p[..., 1])) - p[..., 1] ** 2 + u / 2,
         lambda v, p: 2 * (v - 4 / (1 + torch.exp(-p[..., 0] - p[..., 1])) + p[..., 1] ** 2)),
        ("x4", ["x3"], lambda p, u: 20 / (1 + torch.exp(p[..., 0] ** 2 / 2 - p[..., 0])) + u,
         lambda v, p: v - 20 / (1 + torch.exp(p[..., 0] ** 2 / 2 - p[..., 0]))),
    ],
    "collider": [
        ("x1", [], lambda p, u: u, lambda v, p: v),
        ("x2", [], lambda p, u: 2 - u, lambda v, p: 2 - v),
        ("x3", ["x1", "x2"], lambda p, u: 0.25 * p[..., 1] - 0.5 * p[..., 0] + 0.5 * u,
         lambda v, p: (v - 0.25 * p[..., 1] + 0.5 * p[..., 0]) / 0.5),
    ],
    "triangle": [
        ("x1", [], lambda p, u: u, lambda v, p: v),
        ("x2", ["x1"], lambda p, u: 2 * p[..., 0] ** 2 + u, lambda v, p: v - 2 * p[..., 0] ** 2),
        ("x3", ["x1", "x2"], lambda p, u: 20 / (1 + torch.exp(-p[..., 1] ** 2 + p[..., 0])) + u,
         lambda v, p: v - 20 / (1 + torch.exp(-p[..., 1] ** 2 + p[..., 0]))),
    ],
    "diamond": [
        ("x1", [], lambda p, u: u, lambda v, p: v),
        ("x2", ["x1"], lambda p, u: p[..., 0] ** 2 + u / 2, lambda v, p: 2 * (v - p[..., 0] ** 2)),
        ("x3", ["x1", "x2"], lambda p, u: p[..., 1] ** 2 - 2 / (1 + torch.exp(-p[..., 0])) + u / 2,
         lambda v, p: 2 * (v - p[..., 1] ** 2 + 2 / (1 + torch.exp(-p[..., 0])))),
        ("x4", ["x2", "x3"], lambda p, u: p[..., 1] / ((p[..., 0] + 2).abs() + p[..., 1] + 0.5) + u / 10,
         lambda v, p: 10 * (v - p[..., 1] / ((p[..., 0] + 2).abs() + p[..., 1] + 0.5))),
    ],
    "large_backdoor": [
        ("x1", [], lambda p, u: F.softplus(1.8 * u) - 1, lambda v, p: _softplus_inverse(v + 1) / 1.8),
        ("x2", ["x1"], lambda p, u: 0.25 * u + 1.5 * _layer(p[..., 0], torch.zeros_like(u)),
         lambda v, p: 4 * (v - 1.5 * _layer(p[..., 0], torch.zeros_like(v)))),
        ("x3", ["x1"], lambda p, u: _layer(p[..., 0], u), lambda v, p: _layer_inverse(p[..., 0], v)),
        ("x4", ["x2"], lambda p, u: _layer(p[..., 0], u), lambda v, p: _layer_inverse(p[..., 0], v)),
        ("x5", ["x3"], lambda p, u: _layer(p[..., 0], u), lambda v, p: _layer_inverse(p[..., 0], v)),
        ("x6", ["x4"], lambda p, u: _layer(p[..., 0], u), lambda v, p: _layer_inverse(p[..., 0], v)),
        ("x7", ["x5"], lambda p, u: _layer(p[..., 0], u), lambda v, p: _layer_inverse(p[..., 0], v)),
        ("x8", ["x6"], lambda p, u: 0.3 * u + F.softplus(p[..., 0] + 1) - 1,
         lambda v, p: (v - F.softplus(p[..., 0] + 1) + 1) / 0.3),
        ("x9", ["x7", "x8"], lambda p, u: _laplace_icdf(_x9_loc(p[..., 0], p[..., 1]), 0.6, u),
         lambda v, p: _laplace_cdf(_x9_loc(p[..., 0], p[..., 1]), 0.6, v)),
    ],
}

#: the variables each benchmark intervenes on (``intervention_index_list`` in their code)
_TARGETS = {"chain": ["x1", "x2"], "fork": ["x2", "x3"], "collider": ["x2"], "triangle": ["x1", "x2"],
            "diamond": ["x1", "x2", "x3"], "large_backdoor": ["x1", "x2", "x3", "x5"]}

CAUSAL_FLOW_SCMS = tuple(_EQUATIONS)


def _check_name(name: str) -> str:
    if name not in _EQUATIONS:
        raise UnknownVariableError(name, CAUSAL_FLOW_SCMS, what="benchmark SCM")
    return name


def causal_flow_scm(name: str) -> SCM:
    """The benchmark SCM ``name`` (one of :data:`CAUSAL_FLOW_SCMS`) as a workbench SCM.

    Examples
    --------
    >>> m = causal_flow_scm(CAUSAL_FLOW_SCMS[0])
    >>> len(m.variables) > 1
    True
    """
    uniform = _check_name(name) == "large_backdoor"
    noise = dist.Uniform(1e-6, 1.0) if uniform else dist.Normal(0.0, 1.0)
    return SCM({v: FunctionMechanism(parents, f, noise, inverse=inv) for v, parents, f, inv in _EQUATIONS[name]},
               name=name)


def intervention_targets(name: str) -> list[str]:
    """The variables the benchmark intervenes on in the SCM ``name``.

    Examples
    --------
    >>> all(isinstance(v, str) for v in intervention_targets(CAUSAL_FLOW_SCMS[0]))
    True
    """
    return list(_TARGETS[_check_name(name)])


def log_density(scm: SCM, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Exact ``log p(x)`` of each unit under an SCM of invertible scalar mechanisms.

    ``log p(x) = sum_v [log p_U(u_v) + log |du_v / dx_v|]`` with ``u_v`` the mechanism's
    inverse at the unit's values, and the derivative from autograd (each unit's ``u_v``
    depends on its own ``x_v`` only, so the gradient of the sum is the diagonal).

    Examples
    --------
    >>> m = causal_flow_scm(CAUSAL_FLOW_SCMS[0])
    >>> log_density(m, m.sample(4, seed=0)).shape
    torch.Size([4])
    """
    total = 0.0
    for v in scm.variables:
        mech = scm.mechanisms[v]
        x_v = torch.as_tensor(values[v], dtype=torch.float32)
        pa = torch.stack([torch.as_tensor(values[p], dtype=torch.float32, device=x_v.device)
                          for p in mech.parents], dim=-1) if mech.parents else x_v.new_zeros(len(x_v), 0)
        with torch.enable_grad():
            x = x_v.detach().clone().requires_grad_(True)
            u = mech.abduct(x, pa.detach())
            (slope,) = torch.autograd.grad(u.sum(), x)
        noise = mech.noise()
        inside = noise.support.check(u.detach())
        logp = torch.where(inside, noise.log_prob(u.detach().clamp(*_bounds(noise))), -torch.inf)
        total = total + logp + slope.abs().log()
    return total


def _bounds(noise):
    if isinstance(noise, dist.Uniform):
        return float(noise.low), float(noise.high) - 1e-7
    return -float("inf"), float("inf")
