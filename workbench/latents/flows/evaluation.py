"""A causal flow measured against the SCM that generated its data (Javaloy et al.'s metrics).

:func:`evaluate_causal_flow` follows the protocol of the causal-flow benchmark
(``causal_nf/models/causal_nf.py`` and ``scm_preparator.py`` in psanch21/causal-flows):

* **log-likelihood gap**: mean over test units of ``log p(x) - log q(x)``, the true
  density minus the flow's (an estimate of KL(p || q); 0 is perfect);
* **interventional MMD**: for each intervened variable and each of the 25th, 50th and
  75th percentiles of its training values (rounded to 2 decimals), the maximum mean
  discrepancy between the flow's and the SCM's samples of ``P(x | do)`` over all
  variables (RBF kernel, bandwidth the sum of both samples' median distances);
* **counterfactual RMSE**: for the same interventions on the test units, the mean over
  units of ``||x_cf(true) - x_cf(flow)||_2`` (and, beside it, the median over units,
  ``cf_median``: where a mechanism has a pole, as the diamond's x4 does, a few units whose
  counterfactual lands near it dominate the mean);
* **ATE RMSE**: for the percentile pairs (25, 50), (25, 75), (50, 75), the Euclidean norm
  of the difference of the true and the flow's ``E[x | do(a)] - E[x | do(b)]`` over
  the other variables (Monte Carlo, ``n_ate`` draws each).

Examples
--------
>>> import torch
>>> x = torch.randn(200, 2)
>>> mmd(x, x.clone()) == 0.0, mmd(x, x + 3.0) > 0.1
(True, True)
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch

from workbench.datasets.causal_flows import log_density
from workbench.errors import ShapeError
from workbench.latents.flows.causal import CausalFlow
from workbench.latents.flows.conditional import check_finite_data
from workbench.scm import SCM, counterfactual

__all__ = ["mmd", "intervention_values", "evaluate_causal_flow"]

PERCENTILES = (25, 50, 75)
ATE_PAIRS = ((25, 50), (25, 75), (50, 75))


def mmd(x: torch.Tensor, y: torch.Tensor, sigma: float | None = None) -> float:
    """Biased MMD^2 estimate with an RBF kernel (the benchmark's ``maximum_mean_discrepancy``).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x, y = torch.randn(100, 1, generator=g), torch.randn(100, 1, generator=g)
    >>> round(mmd(x, y), 3), round(mmd(x, y + 2.0), 3)   # same law: near 0; shifted: clearly not
    (0.005, 0.575)
    """
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ShapeError(f"mmd needs two (n, d) samples of one dimension, got {tuple(x.shape)} and {tuple(y.shape)}.")
    if len(x) < 2 or len(y) < 2:
        raise ShapeError(f"mmd needs at least 2 points in each sample, got {len(x)} and {len(y)}.")
    check_finite_data("x", x)
    check_finite_data("y", y)
    if sigma is None:
        sigma = float(torch.median(torch.pdist(x)) + torch.median(torch.pdist(y)))
    k = lambda a, b: torch.exp(-torch.cdist(a, b) ** 2 / (2 * sigma ** 2)).mean()  # noqa: E731
    return float(k(x, x) + k(y, y) - 2 * k(x, y))


def intervention_values(train: Mapping[str, torch.Tensor], variable: str) -> dict[int, float]:
    """``{percentile: value}`` of ``variable``'s training data, rounded to 2 decimals.

    Examples
    --------
    >>> import torch
    >>> intervention_values({"x": torch.arange(101.0) / 100}, "x")   # the 25th, 50th, 75th percentiles
    {25: 0.25, 50: 0.5, 75: 0.75}
    """
    values = np.percentile(torch.as_tensor(train[variable]).cpu().numpy(), PERCENTILES)
    return {p: round(float(v), 2) for p, v in zip(PERCENTILES, values)}


def _matrix(flow: CausalFlow, data: Mapping) -> torch.Tensor:
    return flow.as_tensor({v: data[v] for v in flow.variables}).cpu()


def evaluate_causal_flow(flow: CausalFlow, scm: SCM, train: Mapping[str, torch.Tensor],
                         test: Mapping[str, torch.Tensor], targets: Sequence[str], *,
                         n_samples: int = 1000, n_ate: int = 10_000, seed: int = 0) -> dict:
    """All four metrics of ``flow`` against the generating ``scm`` (see the module docstring).

    Returns ``{"log_likelihood_gap": float, "per_node": {variable: {"mmd", "cf_rmse",
    "cf_median", "ate_rmse"}}, "rows": [...]}``; the per-node numbers average over percentiles.

    Examples
    --------
    >>> import torch, workbench as wb
    >>> from workbench.scm import SCM, LinearGaussian
    >>> wb.seed_everything(0)
    >>> scm = SCM({"x": LinearGaussian({}, 0.0, 1.0), "y": LinearGaussian({"x": 2.0}, 0.0, 0.5)})
    >>> train, test = scm.sample(500, seed=0), scm.sample(200, seed=1)
    >>> flow = CausalFlow(["x", "y"], [("x", "y")], hidden=(16,))
    >>> _ = flow.fit(train, steps=100, lr=1e-2, progress=False)
    >>> result = evaluate_causal_flow(flow, scm, train, test, ["x"], n_samples=50, n_ate=100)
    >>> sorted(result["per_node"]["x"]), len(result["rows"])   # 3 percentiles + 3 ATE pairs
    (['ate_rmse', 'cf_median', 'cf_rmse', 'mmd'], 6)
    >>> round(result["log_likelihood_gap"], 1)   # about KL(p || q): near 0 once fitted
    0.0
    """
    gen = torch.Generator(device=flow.device).manual_seed(seed)
    with torch.no_grad():
        gap = float((log_density(scm, test).cpu() - flow.log_prob(test).cpu()).mean())
    units = {v: torch.as_tensor(test[v])[:n_samples] for v in flow.variables}
    rows = []
    for k, v in enumerate(targets):
        values = intervention_values(train, v)
        for p, a in values.items():
            true = _matrix(flow, scm.do({v: a}).sample(n_samples, seed=seed + 1 + k))
            est = flow.intervene({v: a}, n_samples, generator=gen).cpu()
            cf_true = _matrix(flow, counterfactual(scm, units, {v: a}).counterfactual)
            cf_est = flow.counterfactual(units, {v: a}).cpu()
            errors = (cf_true - cf_est).norm(dim=1)
            rows.append({"variable": v, "percentile": p, "value": a, "mmd": mmd(est, true),
                         "cf_rmse": float(errors.mean()), "cf_median": float(errors.median())})
        for lo, hi in ATE_PAIRS:
            others = [j for j, w in enumerate(flow.variables) if w != v]
            true = [_matrix(flow, scm.do({v: values[q]}).sample(n_ate, seed=seed + 100 + q))[:, others].mean(0)
                    for q in (lo, hi)]
            est = flow.ate(v, values[lo], values[hi], n_ate, generator=gen).cpu()
            rows.append({"variable": v, "pair": (lo, hi), "ate_rmse": float((true[0] - true[1] - est).norm())})
    per_node = {}
    for v in targets:
        mine = [r for r in rows if r["variable"] == v]
        per_node[v] = {m: float(np.mean([r[m] for r in mine if m in r]))
                       for m in ("mmd", "cf_rmse", "cf_median", "ate_rmse")}
    return {"log_likelihood_gap": gap, "per_node": per_node, "rows": rows}
