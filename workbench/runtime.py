"""Where tensors live and how runs are made reproducible.

``device()`` picks CUDA when it is present and the CPU otherwise; the choice can be
overridden per call, with :func:`set_device`, or with the ``WORKBENCH_DEVICE``
environment variable. ``seed_everything`` seeds every random number generator the
workbench touches and clears Pyro's parameter store, so a seeded notebook gives the
same numbers twice.

How many threads torch uses is chosen from the CPUs this process may actually run on
(:func:`available_cpus`: its scheduler affinity and its cgroup CPU quota, not the
host's core count that ``os.cpu_count()`` reports), once at import and again with
:func:`configure_threads`. Importing this module also sets
``OMP_WAIT_POLICY=PASSIVE`` (unless it is already set) before torch loads OpenMP:
idle OpenMP threads then sleep instead of spinning, which on a busy machine made
small tensor work (MIG on 10k points) 20-40x slower. See :func:`thread_count`.

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

import math
import os
import random
import warnings
from contextlib import contextmanager
from pathlib import Path

# Before torch loads OpenMP (it reads this once): idle threads sleep, not spin.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.errors import DeviceUnavailableError, WorkbenchInputError

__all__ = ["device", "set_device", "using_device", "seed_everything", "describe",
           "available_cpus", "cgroup_cpu_limit", "thread_count", "configure_threads",
           "using_threads"]

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
    """Seed Python, NumPy, torch (CPU and CUDA) and Pyro, and clear Pyro's param store.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Raises
    ------
    WorkbenchInputError
        If ``seed`` is negative, a bool or not an integer.

    Examples
    --------
    >>> seed_everything(3); first = (random.random(), np.random.rand(), torch.rand(1).item())
    >>> seed_everything(3); first == (random.random(), np.random.rand(), torch.rand(1).item())
    True
    >>> seed_everything(-1)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: seed must be a non-negative integer, got -1.
    """
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


# ----- threads ---------------------------------------------------------------------

def cgroup_cpu_limit(root="/sys/fs/cgroup") -> float | None:
    """The CPU quota of this process's cgroup in CPUs (e.g. 1.0 on Binder), or ``None``.

    Reads cgroup v2's ``cpu.max`` ("quota period", or "max" for no limit) and cgroup
    v1's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1 for no limit), at the
    root of ``root`` and under this process's own cgroup path.

    Examples
    --------
    >>> cgroup_cpu_limit("/no/such/folder") is None
    True
    """
    root = Path(root)
    own = _own_cgroup_paths()
    for folder in [root / p for p in own.get("", [])] + [root]:
        text = _read(folder / "cpu.max")
        if text:
            quota, _, period = text.partition(" ")
            if quota != "max" and period:
                return int(quota) / int(period)
            return None
    for sub in ("cpu", "cpu,cpuacct"):
        for folder in [root / sub / p for p in own.get("cpu", [])] + [root / sub]:
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota and period:
                return None if int(quota) <= 0 else int(quota) / int(period)
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, ValueError):
        return ""


def _own_cgroup_paths() -> dict[str, list[str]]:
    """``{controller: [relative path]}`` from ``/proc/self/cgroup`` ("" is cgroup v2)."""
    paths: dict[str, list[str]] = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        rel = path.strip("/")
        for name in controllers.split(",") if controllers else [""]:
            if rel:
                paths.setdefault(name, []).append(rel)
    return paths


def available_cpus(root="/sys/fs/cgroup") -> int:
    """How many CPUs this process can really use: affinity, capped by the cgroup quota.

    A fractional quota is rounded down (1.5 CPUs -> 1), never below 1.

    Examples
    --------
    >>> available_cpus() >= 1
    True
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):          # macOS, Windows
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cpus = min(cpus, max(1, math.floor(limit)))
    return max(1, cpus)


def _positive_int(value, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if isinstance(value, bool) or number < 1 or str(number) != str(value).strip():
        raise WorkbenchInputError(f"{what} must be a positive integer, got {value!r}.")
    return number


def thread_count() -> int:
    """The thread count the workbench uses, from the first of these that is set.

    1. ``WORKBENCH_THREADS`` (our own override);
    2. ``OMP_NUM_THREADS`` (as Dask workers set it: 1 each);
    3. :func:`available_cpus`, but no more than torch's own default (its count of
       physical cores: hyperthreads do not speed up its kernels).

    Raises
    ------
    WorkbenchInputError
        If the variable in force is not a positive integer.

    Examples
    --------
    >>> saved = {k: os.environ.pop(k, None) for k in ("WORKBENCH_THREADS", "OMP_NUM_THREADS")}
    >>> os.environ["OMP_NUM_THREADS"] = "3"
    >>> thread_count()
    3
    >>> os.environ["WORKBENCH_THREADS"] = "2"      # our own override wins
    >>> thread_count()
    2
    >>> os.environ["WORKBENCH_THREADS"] = "two"
    >>> thread_count()
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: The environment variable WORKBENCH_THREADS must be a positive integer, got 'two'.
    >>> for name, value in saved.items():         # put the environment back
    ...     if value is None:
    ...         del os.environ[name]
    ...     else:
    ...         os.environ[name] = value
    """
    for name in ("WORKBENCH_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            return _positive_int(value, f"The environment variable {name}")
    return _default_threads()


def _default_threads() -> int:
    return max(1, min(available_cpus(), _TORCH_DEFAULT_THREADS))


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count to ``n`` (default :func:`thread_count`).

    Examples
    --------
    >>> previous = torch.get_num_threads()
    >>> configure_threads(1)
    1
    >>> configure_threads(previous) == previous
    True
    """
    n = thread_count() if n is None else _positive_int(n, "The thread count")
    torch.set_num_threads(n)
    return n


@contextmanager
def using_threads(n: int):
    """Run the block with torch on ``n`` threads, then restore the previous count.

    Examples
    --------
    >>> with using_threads(1):
    ...     torch.get_num_threads()
    1
    """
    previous = torch.get_num_threads()
    configure_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(previous)


_TORCH_DEFAULT_THREADS = torch.get_num_threads()     # before we change it
try:
    configure_threads()
except WorkbenchInputError as _exc:             # a bad variable must not break the import
    warnings.warn(f"{_exc} Using {_default_threads()} thread(s).", stacklevel=2)
    torch.set_num_threads(_default_threads())
