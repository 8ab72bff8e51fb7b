"""How many threads torch uses: from the CPUs this process may really use, less one.

:func:`available_cpus` counts the CPUs this process may actually run on: its
scheduler affinity and its cgroup CPU quota (:func:`cgroup_cpu_limit`), not the
host's core count that ``os.cpu_count()`` reports (Binder shows the host's cores
and allows one). :func:`thread_count` picks torch's intra-op thread count from our
variable, OpenMP's, or :func:`default_threads` (one CPU left to the rest of the
machine). Importing this module sets it (:func:`configure_threads`), and sets
``OMP_WAIT_POLICY=PASSIVE`` first unless it is already set: idle OpenMP threads sleep
instead of spinning (it only takes effect if torch was not imported before).

Examples
--------
>>> from workbench.threads import available_cpus, default_threads
>>> 1 <= default_threads() <= available_cpus()
True
"""

from __future__ import annotations

import math
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before torch loads OpenMP

import torch  # noqa: E402

from workbench.errors import WorkbenchInputError  # noqa: E402

__all__ = ["available_cpus", "cgroup_cpu_limit", "thread_count", "default_threads",
           "configure_threads", "using_threads", "CGROUP_ROOT"]

CGROUP_ROOT = "/sys/fs/cgroup"     # where cgroup quotas are read (tests point it elsewhere)


def cgroup_cpu_limit(root=None) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (e.g. 1.0 on Binder), or ``None``.

    Reads cgroup v2's ``cpu.max`` ("quota period", or "max" for no limit) and cgroup
    v1's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1 for no limit), at the
    root of ``root`` and under this process's own cgroup path.

    Examples
    --------
    >>> cgroup_cpu_limit("/no/such/folder") is None
    True
    """
    root = Path(CGROUP_ROOT if root is None else root)
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


def available_cpus(root=None) -> int:
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
    3. :func:`default_threads`: the available CPUs less one (never below one),
       and no more than torch's own default (its count of physical cores).

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
    return default_threads()


def default_threads(cpus: int | None = None) -> int:
    """Threads for torch when no variable says otherwise: one CPU is left to the rest.

    A parallel region ends when its slowest thread does. With a thread on every
    CPU, any other runnable process (the notebook server, a browser, another
    kernel, a busy loop) leaves one of them waiting in the run queue, and every
    region waits for it: on the shared 2-CPU machine a training step took 2.4-5x its
    one-thread time on 2 threads (``benchmarks/bench_sweeps.py``, threads row). Small
    tensor work gains nothing from a second thread even on a quiet machine (MIG on 10k
    points: 3.5 ms on one thread, 4.0 ms on two). So: ``cpus - 1`` threads, at least 1
    (Binder's one CPU: 1; two CPUs: 1; eight: 7), and no more than torch's count of
    physical cores (hyperthreads do not speed up its kernels).

    Parameters
    ----------
    cpus : int, optional
        The CPUs to plan for; default :func:`available_cpus`.

    Examples
    --------
    >>> default_threads(1), default_threads(2)        # Binder's one CPU; two CPUs
    (1, 1)
    >>> default_threads(64) <= _TORCH_DEFAULT_THREADS  # no more than torch's physical cores
    True
    """
    cpus = available_cpus() if cpus is None else _positive_int(cpus, "The CPU count")
    return max(1, min(cpus - 1, _TORCH_DEFAULT_THREADS))


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
    warnings.warn(f"{_exc} Using {default_threads()} thread(s).", stacklevel=2)
    torch.set_num_threads(default_threads())
