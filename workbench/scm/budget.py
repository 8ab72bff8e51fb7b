"""How much memory a draw needs, estimated before a byte is allocated.

``scm.sample(10**12)`` would otherwise ask the allocator for terabytes and fail with
the allocator's own error (or, on a machine that overcommits, swap itself to a halt).
:func:`check_memory` estimates the bytes a call keeps alive (every variable's values
and its noise, for every unit and world) and refuses with
:class:`MemoryBudgetError` when that exceeds the memory available on the device.

Examples
--------
>>> from workbench.scm import SCM, LinearGaussian
>>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 1.0})})
>>> bytes_per_unit(m)
48
>>> check_memory(m, 10**12, "sample(1000000000000)")
Traceback (most recent call last):
...
workbench.scm.budget.MemoryBudgetError: sample(1000000000000) needs about 48 TB ...
"""

from __future__ import annotations

import math

import torch

from workbench.errors import WorkbenchInputError
from workbench.runtime import device as default_device

__all__ = ["MemoryBudgetError", "bytes_per_unit", "available_bytes", "check_memory"]

TEMPORARIES = 2   # a mechanism's inputs and outputs are alive at once
ALWAYS_FITS = 256 * 2 ** 20   # below this estimate the device is not even asked (the fast path)


class MemoryBudgetError(WorkbenchInputError):
    """A call that would need more memory than the device has available.

    Examples
    --------
    >>> from workbench.scm import random_linear_scm
    >>> random_linear_scm(3, seed=0).sample(10 ** 15)
    Traceback (most recent call last):
    ...
    workbench.scm.budget.MemoryBudgetError: ...
    """


def bytes_per_unit(scm) -> int:
    """Bytes one unit keeps alive: each variable's value and its noise (a vector for a table).

    Examples
    --------
    >>> from workbench.scm import random_linear_scm
    >>> bytes_per_unit(random_linear_scm(2, seed=0)) > 0
    True
    """
    total = 0
    for mech in scm.mechanisms.values():
        noise_size = mech.cardinality if getattr(mech, "table", None) is not None else 1
        total += 8 + 4 * int(noise_size or 1)
    return total * TEMPORARIES


def available_bytes() -> int:
    """Free memory of the default device: CUDA's free memory, else the system's available RAM.

    Examples
    --------
    >>> available_bytes() > 0
    True
    """
    dev = default_device()
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(free)
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - no psutil or no /proc: assume nothing is known
        return 2 ** 62


def _human(n_bytes: float) -> str:
    units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"]
    k = min(int(math.log(max(n_bytes, 1), 1000)), len(units) - 1)
    return f"{n_bytes / 1000 ** k:.0f} {units[k]}"


def check_memory(scm, n_units: int, what: str) -> None:
    """Raise :class:`MemoryBudgetError` if ``n_units`` units of ``scm`` cannot fit in memory.

    Examples
    --------
    >>> from workbench.scm import random_linear_scm
    >>> check_memory(random_linear_scm(2, seed=0), 100, "a small sample") is None
    True
    """
    need = bytes_per_unit(scm) * int(n_units)
    if need <= ALWAYS_FITS:
        return
    have = available_bytes()
    if need > have:
        raise MemoryBudgetError(
            f"{what} needs about {_human(need)} ({int(n_units):,} units x {bytes_per_unit(scm)} "
            f"bytes), more than the {_human(have)} available on {default_device()}. Draw fewer "
            "units, or draw them in batches and reduce each batch (e.g. to a mean or a histogram)."
        )
