"""What every check shares: its row, timing on a device, twins with one set of weights."""

from __future__ import annotations

import contextlib
import time
import traceback
from dataclasses import dataclass

import torch


@dataclass
class Check:
    """One row of the table: CPU and device time, and how far the two results are apart."""

    area: str
    name: str
    cpu_s: float
    device_s: float
    agreement: float
    tolerance: float
    unit: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.agreement <= self.tolerance


def guarded(area: str, name: str, fn) -> list[Check]:
    """``fn()``'s rows, or one failing row carrying the exception (the other checks go on)."""
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - a broken model is a row, not a stopped script
        tail = traceback.format_exc(limit=-2).strip().splitlines()[-1]
        return [Check(area, name, float("nan"), float("nan"), float("inf"), 0.0, "error",
                      error=f"{type(exc).__name__}: {exc}"[:300] + f" ({tail[:120]})")]
    return out if isinstance(out, list) else [out]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, repeats: int):
    """Best wall time of ``repeats`` calls (after one warm-up call) and the last result."""
    out = fn()
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best, out


def max_diff(a, b) -> float:
    """Largest absolute difference of two tensors (or tuples of tensors), on the CPU."""
    if isinstance(a, (tuple, list)):
        return max(max_diff(x, y) for x, y in zip(a, b))
    return float((a.detach().double().cpu() - b.detach().double().cpu()).abs().max())


def twins(build, device: torch.device):
    """``(cpu model, device model)`` with the same weights, both in eval mode."""
    cpu = build("cpu").eval()
    dev = build(device).eval()
    dev.load_state_dict(cpu.state_dict())
    return cpu, dev


@contextlib.contextmanager
def full_float32():
    """TF32 off: a chain of many network calls (a sampler, an inversion, a deep flow)
    amplifies TF32's 1e-3 rounding; the comparison is of the code path, not of TF32."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def compare(area: str, name: str, cpu_call, device_call, device, tolerance: float,
            unit: str = "max |diff|", repeats: int = 2, exact: bool = False) -> Check:
    """Time ``cpu_call`` and ``device_call`` and compare their results."""
    with full_float32() if exact else contextlib.nullcontext(), torch.no_grad():
        cpu_s, a = timed(cpu_call, torch.device("cpu"), repeats)
        dev_s, b = timed(device_call, device, repeats)
    return Check(area, name, cpu_s, dev_s, max_diff(a, b), tolerance, unit)


def training_steps(area: str, name: str, train_one, cpu_model, dev_model, device) -> Check:
    """Throughput of ``train_one(model)`` (some steps of the one training loop); finite loss."""
    def run(model):
        result = train_one(model)
        if not torch.isfinite(torch.tensor(result.losses[-1])):
            raise RuntimeError(f"{name}: the loss became {result.losses[-1]} on {model.device}")
        return result
    cpu_s, _ = timed(lambda: run(cpu_model), torch.device("cpu"), 1)
    dev_s, _ = timed(lambda: run(dev_model), device, 1)
    return Check(area, name, cpu_s, dev_s, 0.0, 0.0, "finite loss")
