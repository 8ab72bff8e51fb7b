"""Where tensors live and how runs are made reproducible.

``device()`` picks CUDA when it is present and the CPU otherwise; the choice can be
overridden per call, with :func:`set_device`, or with the ``WORKBENCH_DEVICE``
environment variable. ``seed_everything`` seeds every random number generator the
workbench touches and clears Pyro's parameter store, so a seeded notebook gives the
same numbers twice.

How many threads torch uses is chosen once at import from the CPUs this process may
actually run on, leaving one of them to the rest of the machine (see
:mod:`workbench.threads`, whose functions are re-exported here). Importing this
module also sets ``OMP_WAIT_POLICY=PASSIVE`` (unless it is already set) before torch
loads OpenMP: idle OpenMP threads then sleep instead of spinning, which on a busy
machine made small tensor work (MIG on 10k points) 20-40x slower.

Examples
--------
>>> import torch
>>> from workbench.runtime import device, seed_everything
>>> device("cpu")
device(type='cpu')
>>> seed_everything(0); a = torch.rand(2)
>>> seed_everything(0); b = torch.rand(2)
>>> bool(torch.equal(a, b))
True
"""

from __future__ import annotations

import os
import random
from contextlib import contextmanager

# Before torch loads OpenMP (it reads this once): idle threads sleep, not spin.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.errors import DeviceUnavailableError, WorkbenchInputError
from workbench.threads import (available_cpus, cgroup_cpu_limit, configure_threads,  # noqa: F401
                               default_threads, thread_count, using_threads)

__all__ = ["device", "set_device", "using_device", "seed_everything", "describe",
           "available_cpus", "cgroup_cpu_limit", "thread_count", "default_threads",
           "configure_threads", "using_threads"]

_override: torch.device | None = None


def _resolve(requested: str | torch.device, source: str = "argument") -> torch.device:
    where = ("by the WORKBENCH_DEVICE environment variable" if source == "env"
             else "as an argument")
    fix = ("unset WORKBENCH_DEVICE (or set it to 'cpu') to let the workbench choose"
           if source == "env" else "use device('cpu'), or device() to let the workbench choose")
    try:
        dev = torch.device(requested)
    except (RuntimeError, TypeError) as exc:
        raise WorkbenchInputError(
            f"Cannot understand device {requested!r} (given {where}): "
            "use 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"Device {requested!r} was requested {where} but this machine has no CUDA "
                f"GPU (torch.cuda.is_available() is False): {fix}."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"Device {requested!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist."
            )
    elif dev.type not in {"cpu", "mps"}:
        raise WorkbenchInputError(f"Unsupported device type {dev.type!r}: use 'cpu' or 'cuda'.")
    return dev


def device(requested: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    Parameters
    ----------
    requested : str or torch.device, optional
        An explicit choice such as ``"cpu"`` or ``"cuda:0"``. When omitted, the
        device set by :func:`set_device`, then the ``WORKBENCH_DEVICE`` environment
        variable, then CUDA if available, else the CPU.

    Returns
    -------
    torch.device
        Where new tensors and models should go.

    Raises
    ------
    DeviceUnavailableError
        If CUDA is asked for on a machine without it.
    WorkbenchInputError
        If ``requested`` is not a device name torch understands.

    Examples
    --------
    >>> device("cpu")
    device(type='cpu')
    >>> device("gpu")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Cannot understand device 'gpu' (given as an argument): use 'cpu', 'cuda' or 'cuda:N'.
    """
    if requested is not None:
        return _resolve(requested)
    if _override is not None:
        return _override
    env = os.environ.get("WORKBENCH_DEVICE", "").strip()
    if env:
        return _resolve(env, source="env")
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def set_device(requested: str | torch.device | None) -> torch.device:
    """Set (or with ``None`` clear) the default device for this process.

    Parameters
    ----------
    requested : str, torch.device or None
        The new default; ``None`` goes back to the automatic choice.

    Returns
    -------
    torch.device
        The default now in force.

    Examples
    --------
    >>> set_device("cpu")
    device(type='cpu')
    >>> torch.zeros(2, device=device()).device.type
    'cpu'
    >>> set_device(None) == device()
    True
    """
    global _override
    _override = None if requested is None else _resolve(requested)
    return device()


@contextmanager
def using_device(requested: str | torch.device):
    """Temporarily compute on ``requested``.

    Examples
    --------
    >>> with using_device("cpu"):
    ...     device()
    device(type='cpu')
    """
    global _override
    previous = _override
    _override = _resolve(requested)
    try:
        yield _override
    finally:
        _override = previous


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, torch (CPU and CUDA) and so Pyro, and clear Pyro's param store.

    Pyro draws from torch's generator, so seeding torch seeds Pyro (``pyro.set_rng_seed``
    would only seed the same three generators again, and NumPy's with no reduction).

    Parameters
    ----------
    seed : int
        A whole number from 0 to ``2**64 - 1`` (torch's range; NumPy gets ``seed % 2**32``).

    Raises
    ------
    WorkbenchInputError
        If ``seed`` is negative, too large, a bool or not an integer.

    Examples
    --------
    >>> seed_everything(3); first = (random.random(), np.random.rand(), torch.rand(1).item())
    >>> seed_everything(3); first == (random.random(), np.random.rand(), torch.rand(1).item())
    True
    >>> seed_everything(2**40)                  # beyond NumPy's 32 bits: reduced for NumPy
    >>> seed_everything(-1)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: seed must be a non-negative integer, got -1.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise WorkbenchInputError(f"seed must be a non-negative integer, got {seed!r}.")
    if seed >= 2**64:
        raise WorkbenchInputError(f"seed must be below 2**64 (torch's seeds are 64-bit), got {seed!r}.")
    import pyro

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    pyro.clear_param_store()


def describe() -> dict[str, str]:
    """Versions of the main libraries and the device in use, for an environment check.

    One entry per library (``"not installed"`` when absent), plus ``python``, ``device``,
    ``cuda`` and ``threads``.

    Examples
    --------
    >>> info = describe()
    >>> info["torch"] == torch.__version__
    True
    >>> info["device"] == str(device())
    True
    """
    import importlib.metadata as md
    import platform

    info = {"python": platform.python_version(), "device": str(device())}
    for dist in ["torch", "pyro-ppl", "chirho", "networkx", "matplotlib", "altair",
                 "ipywidgets", "jupyterlab", "scikit-learn"]:
        try:
            info[dist] = md.version(dist)
        except md.PackageNotFoundError:
            info[dist] = "not installed"
    info["cuda"] = torch.version.cuda or "none (CPU build)"
    info["threads"] = f"{torch.get_num_threads()} of {available_cpus()} available CPU(s)"
    return info
