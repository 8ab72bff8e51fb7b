"""Where tensors live and how runs are made reproducible.

``device()`` picks CUDA when it is present and the CPU otherwise; the choice can be
overridden per call, with :func:`set_device`, or with the ``WORKBENCH_DEVICE``
environment variable. ``seed_everything`` seeds every random number generator the
workbench touches and clears Pyro's parameter store, so a seeded notebook gives the
same numbers twice.

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

import numpy as np
import torch

from workbench.errors import DeviceUnavailableError, WorkbenchInputError

__all__ = ["device", "set_device", "using_device", "seed_everything", "describe"]

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

    Raises
    ------
    DeviceUnavailableError
        If CUDA is asked for on a machine without it.
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
    """Set (or with ``None`` clear) the default device for this process."""
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
    """Seed Python, NumPy, torch (CPU and CUDA) and Pyro, and clear Pyro's param store."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise WorkbenchInputError(f"seed must be a non-negative integer, got {seed!r}.")
    import pyro

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    pyro.set_rng_seed(seed)
    pyro.clear_param_store()


def describe() -> dict[str, str]:
    """Versions of the main libraries and the device in use, for an environment check."""
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
    return info
