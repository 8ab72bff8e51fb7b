"""Check that every model, sampler and metric runs on a GPU, as fast as it should, agreeing with the CPU.

Usage (from the repository root)::

    .venv/bin/python scripts/gpu_check.py             # on CUDA: the table, exit 1 on disagreement
    .venv/bin/python scripts/gpu_check.py --dry-run   # the same checks CPU against CPU (CI)

For each model in ``workbench.latents.MODELS``: the encoder and decoder (or the
forward map, for a model with no decoder) on the same weights and images (agreement: the
largest absolute difference of their outputs, within 2e-3, which allows for TF32
convolutions on recent GPUs) and, where ``workbench.latents.train`` can train it without
labels, training steps (throughput; the loss must stay finite). For each sampler
(linear, nonlinear and discrete SCMs, an intervention, sprites rendered and moved to the
device): the largest difference of the sample means in standard errors (within 5, since
the two devices draw different random numbers). For each metric in
``workbench.metrics.TABLE_METRICS`` on the same codes: the score difference, within 1e-4;
and the BetaVAE and FactorVAE protocols with their encoder on the device, likewise.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import workbench as wb  # noqa: E402
from workbench import metrics, scm  # noqa: E402
from workbench.latents import MODELS, build_model, train  # noqa: E402


@dataclass
class Check:
    area: str
    name: str
    cpu_s: float
    device_s: float
    agreement: float
    tolerance: float
    unit: str

    @property
    def ok(self) -> bool:
        return self.agreement <= self.tolerance


def timed(fn, device: torch.device, repeats: int):
    """Best wall time of ``repeats`` calls (after one warm-up call) and the last result."""
    out = fn()
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best, out


def _forward(model, x: torch.Tensor) -> torch.Tensor:
    """Everything a model computes from images without randomness, as one tensor."""
    if hasattr(model, "decode"):
        mean, logvar = model.encode(x)
        return torch.cat([mean, logvar, model.decode(mean).flatten(1)], 1)
    return model.read(x)


def _trains_unlabelled(model) -> bool:
    """Whether ``workbench.latents.train`` can train it: ``loss(x, generator=...)``."""
    params = list(inspect.signature(model.loss).parameters.values())[1:]
    return all(p.default is not inspect.Parameter.empty or p.name == "generator" for p in params)


def model_checks(device, quick: bool) -> list[Check]:
    side, steps = (16, 3) if quick else (64, 20)
    images = (torch.rand(64, 1, side, side, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    rows = []
    for kind, cls in MODELS.items():
        wb.seed_everything(0)
        config = {"kind": kind, "image_shape": [1, side, side]}
        if "latent_dim" in inspect.signature(cls).parameters:     # CausalVAE: one per factor
            config["latent_dim"] = 6
        cpu_model = build_model(config, device="cpu").eval()
        dev_model = build_model(cpu_model.config, device=device).eval()
        dev_model.load_state_dict(cpu_model.state_dict())
        on_device = images.to(device)
        with torch.no_grad():
            cpu_s, out_c = timed(lambda: _forward(cpu_model, images), torch.device("cpu"), 3)
            dev_s, out_d = timed(lambda: _forward(dev_model, on_device), device, 3)
        diff = float((out_c - out_d.cpu()).abs().max())
        what = "encode+decode" if hasattr(cpu_model, "decode") else "forward"
        rows.append(Check("model", f"{kind} {what} (64 images)", cpu_s, dev_s, diff, 2e-3,
                          "max |diff|"))
        if not _trains_unlabelled(cpu_model):
            continue                            # e.g. FactorReader: its loss needs labels

        def step(model):
            result = train(model, images.to(model.device), steps=model_steps[0] + steps,
                           batch_size=32, progress=False)
            model_steps[0] = result.step
            if not torch.isfinite(torch.tensor(result.losses[-1])):
                raise RuntimeError(f"{kind}: the loss became {result.losses[-1]} on {model.device}")
            return result
        model_steps = [0]
        cpu_s, _ = timed(lambda: step(cpu_model), torch.device("cpu"), 1)
        model_steps = [0]
        dev_s, _ = timed(lambda: step(dev_model), device, 1)
        rows.append(Check("model", f"{kind} {steps} training steps", cpu_s, dev_s, 0.0, 0.0, "finite loss"))
    return rows


def _mean_gap(a: dict, b: dict) -> float:
    gaps = []
    for name in a:
        x, y = a[name].double().cpu(), b[name].double().cpu()
        se = ((x.var() / len(x) + y.var() / len(y)) ** 0.5).clamp_min(1e-12)
        gaps.append(float((x.mean() - y.mean()).abs() / se))
    return max(gaps)


def sampler_checks(device, quick: bool) -> list[Check]:
    n = 20_000 if quick else 200_000
    samplers = {
        "linear SCM (10 nodes)": lambda: scm.random_linear_scm(10, seed=0),
        "nonlinear SCM (6 nodes)": lambda: scm.random_nonlinear_scm(6, seed=0),
        "discrete SCM (6 nodes)": lambda: scm.random_discrete_scm(6, seed=0),
        "do() on the back-door example": lambda: scm.backdoor_example().do(x=1.0),
    }
    rows = []
    for name, make in samplers.items():
        draws = {}
        for dev in (torch.device("cpu"), device):
            with wb.runtime.using_device(dev):
                model = make()
                draws[dev.type + str(len(draws))] = timed(lambda: model.sample(n, seed=1), dev, 2)
        (cpu_s, a), (dev_s, b) = draws.values()
        rows.append(Check("sampler", name, cpu_s, dev_s, _mean_gap(a, b), 5.0, "std errors"))
    sprites = wb.datasets.Sprites()
    cpu_s, a = timed(lambda: sprites.sample(256 if quick else 2048, generator=0)[0], torch.device("cpu"), 1)
    dev_s, b = timed(lambda: sprites.sample(256 if quick else 2048, generator=0)[0].to(device), device, 1)
    rows.append(Check("sampler", "sprites rendered, moved to the device", cpu_s, dev_s,
                      float((a - b.cpu()).abs().max()), 0.0, "max |diff|"))
    return rows


def metric_checks(device, quick: bool) -> list[Check]:
    n = 1000 if quick else 10_000
    codes, factors = metrics.constructed_codes("rotated", n_points=n, seed=0)
    small = {"num_train": n // 2, "num_test": n // 4}
    options = {"dci": {**small, "mode": "fast"}, "sap": small, "explicitness": small,
               "infomec": {"mode": "fast"}}
    rows = []
    for name, metric in metrics.TABLE_METRICS.items():
        kwargs = options.get(name, {})
        cpu_s, a = timed(lambda: metric(codes, factors, **kwargs), torch.device("cpu"), 1)
        dev_s, b = timed(lambda: metric(codes.to(device), factors.to(device), **kwargs), device, 1)
        rows.append(Check("metric", name, cpu_s, dev_s, abs(a.score - b.score), 1e-4, "|score diff|"))
    process = metrics.SyntheticProcess("rotated")
    sizes = {"num_train": n // 2, "num_eval": n // 4}
    for name, protocol in {"beta_vae_score": metrics.beta_vae_score,
                           "factor_vae_score": metrics.factor_vae_score}.items():
        cpu_s, a = timed(lambda: protocol(process, lambda obs: obs, **sizes), torch.device("cpu"), 1)
        dev_s, b = timed(lambda: protocol(process, lambda obs: obs.to(device), **sizes), device, 1)
        rows.append(Check("metric", f"{name} (encoder on the device)", cpu_s, dev_s,
                          abs(a.score - b.score), 1e-4, "|score diff|"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="run every check with the CPU standing in for the GPU (for CI)")
    parser.add_argument("--device", default="cuda", help="the device to check (default cuda)")
    parser.add_argument("--quick", action="store_true", help="small sizes (implied by --dry-run)")
    args = parser.parse_args(argv)
    if args.dry_run:
        device, quick = torch.device("cpu"), True
    elif not torch.cuda.is_available() and args.device.startswith("cuda"):
        print(f"No CUDA GPU is visible (torch {torch.__version__}, built with CUDA "
              f"{torch.version.cuda}). See README, 'Using a GPU'; --dry-run checks on the CPU.")
        return 2
    else:
        device, quick = wb.device(args.device), args.quick
    torch.set_num_threads(wb.runtime.thread_count())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (dry run)"
    print(f"device: {device} = {name}; torch {torch.__version__}; CPU threads "
          f"{torch.get_num_threads()}; sizes {'quick' if quick else 'full'}")
    rows = model_checks(device, quick) + sampler_checks(device, quick) + metric_checks(device, quick)
    print(f"\n{'area':<8} {'check':<40} {'cpu s':>9} {'device s':>9} {'speed-up':>8}  "
          f"{'agreement':>10} {'within':>8}  unit")
    for r in rows:
        speed = f"{r.cpu_s / r.device_s:.2f}x" if r.device_s > 0 else ""
        print(f"{r.area:<8} {r.name:<40} {r.cpu_s:>9.4f} {r.device_s:>9.4f} {speed:>8}  "
              f"{r.agreement:>10.2e} {r.tolerance:>8.0e}  {r.unit}{'' if r.ok else '  DISAGREES'}")
    bad = [r.name for r in rows if not r.ok]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} checks agree" + (f"; disagree: {bad}" if bad else "."))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
