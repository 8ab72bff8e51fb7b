"""Turn whatever the caller passes as ``generator`` into a NumPy random generator.

Data sets draw their exogenous noise with NumPy (it has every distribution we need,
Gamma included, under one seedable generator) and render with torch. Callers may pass
an ``int`` seed, a :class:`numpy.random.Generator`, a :class:`torch.Generator`, or
``None`` (then a seed is drawn from torch's global generator, so
``workbench.seed_everything`` makes the result reproducible).

Examples
--------
>>> a = as_numpy_rng(3).integers(0, 100, 4)
>>> b = as_numpy_rng(3).integers(0, 100, 4)
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.errors import WorkbenchInputError

__all__ = ["as_numpy_rng"]


def as_numpy_rng(generator=None) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``generator`` (see module doc).

    Examples
    --------
    >>> import numpy as np, torch
    >>> as_numpy_rng(0).integers(0, 10, 3)
    array([8, 6, 5])
    >>> rng = np.random.default_rng(1)
    >>> as_numpy_rng(rng) is rng
    True
    >>> isinstance(as_numpy_rng(torch.Generator().manual_seed(0)), np.random.Generator)
    True
    """
    if generator is None:
        return np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        return np.random.default_rng(seed)
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        if generator < 0:
            raise WorkbenchInputError(f"A seed must be non-negative, got {generator}.")
        return np.random.default_rng(int(generator))
    raise WorkbenchInputError(
        f"generator must be None, an int seed, a numpy.random.Generator or a "
        f"torch.Generator; got {type(generator).__name__}."
    )


def check_count(n, what: str = "n") -> int:
    """Validate a positive count of images.

    Examples
    --------
    >>> check_count(4)
    4
    >>> check_count(0, "n_images")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: n_images must be a positive integer, got 0.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise WorkbenchInputError(f"{what} must be a positive integer, got {n!r}.")
    return int(n)
