"""Samplers (SCMs, an intervention, rendered sprites) and every metric of the table."""

from __future__ import annotations

import torch

import workbench as wb
from workbench import metrics, scm

from .core import Check, guarded, max_diff, timed


def _mean_gap(a: dict, b: dict) -> float:
    gaps = []
    for name in a:
        x, y = a[name].double().cpu(), b[name].double().cpu()
        se = ((x.var() / len(x) + y.var() / len(y)) ** 0.5).clamp_min(1e-12)
        gaps.append(float((x.mean() - y.mean()).abs() / se))
    return max(gaps)


def _sampler(name, make, device, n):
    draws = []
    for dev in (torch.device("cpu"), device):
        with wb.runtime.using_device(dev):
            model = make()
            draws.append(timed(lambda: model.sample(n, seed=1), dev, 2))
    (cpu_s, a), (dev_s, b) = draws
    return Check("sampler", name, cpu_s, dev_s, _mean_gap(a, b), 5.0, "std errors")


def sampler_checks(device, quick: bool) -> list:
    """Sample means on both devices (different random numbers: within 5 standard errors)."""
    n = 20_000 if quick else 200_000
    samplers = {
        "linear SCM (10 nodes)": lambda: scm.random_linear_scm(10, seed=0),
        "nonlinear SCM (6 nodes)": lambda: scm.random_nonlinear_scm(6, seed=0),
        "discrete SCM (6 nodes)": lambda: scm.random_discrete_scm(6, seed=0),
        "do() on the back-door example": lambda: scm.backdoor_example().do(x=1.0),
    }
    rows = []
    for name, make in samplers.items():
        rows += guarded("sampler", name, lambda: _sampler(name, make, device, n))

    def sprites():
        data, count = wb.datasets.Sprites(), 256 if quick else 2048
        cpu_s, a = timed(lambda: data.sample(count, generator=0)[0], torch.device("cpu"), 1)
        dev_s, b = timed(lambda: data.sample(count, generator=0)[0].to(device), device, 1)
        return Check("sampler", "sprites rendered, moved to the device", cpu_s, dev_s,
                     max_diff(a, b), 0.0, "max |diff|")
    return rows + guarded("sampler", "sprites rendered, moved to the device", sprites)


def metric_checks(device, quick: bool) -> list:
    """Every table metric, and the two protocols with their encoder on the device."""
    n = 1000 if quick else 10_000
    codes, factors = metrics.constructed_codes("rotated", n_points=n, seed=0)
    small = {"num_train": n // 2, "num_test": n // 4}
    options = {"dci": {**small, "mode": "fast"}, "sap": small, "explicitness": small,
               "infomec": {"mode": "fast"}}

    def score(name, fn):
        cpu_s, a = timed(lambda: fn(codes, factors), torch.device("cpu"), 1)
        dev_s, b = timed(lambda: fn(codes.to(device), factors.to(device)), device, 1)
        return Check("metric", name, cpu_s, dev_s, abs(a.score - b.score), 1e-4, "|score diff|")
    rows = []
    for name, metric in metrics.TABLE_METRICS.items():
        kwargs = options.get(name, {})
        rows += guarded("metric", name, lambda: score(name, lambda c, f: metric(c, f, **kwargs)))
    process = metrics.SyntheticProcess("rotated")
    sizes = {"num_train": n // 2, "num_eval": n // 4}
    for name, protocol in {"beta_vae_score": metrics.beta_vae_score,
                           "factor_vae_score": metrics.factor_vae_score}.items():
        def run():
            cpu_s, a = timed(lambda: protocol(process, lambda obs: obs, **sizes), torch.device("cpu"), 1)
            dev_s, b = timed(lambda: protocol(process, lambda obs: obs.to(device), **sizes), device, 1)
            return Check("metric", f"{name} (encoder on the device)", cpu_s, dev_s,
                         abs(a.score - b.score), 1e-4, "|score diff|")
        rows += guarded("metric", f"{name} (encoder on the device)", run)
    return rows
