"""Input checks shared by the domain-counterfactual modules: typed errors, never NaNs.

Examples
--------
>>> check_domains(1, 3, n_domains=2).tolist()
[1, 1, 1]
>>> check_domains([0, 2], 2, n_domains=2)
Traceback (most recent call last):
...
workbench.errors.WorkbenchInputError: domain index 2 is out of range: this model has 2 domains (0 to 1).
"""

from __future__ import annotations

import torch

from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError

__all__ = ["check_matrix", "check_domains", "check_domain_index"]


def check_domain_index(index, count: int, what: str = "domain") -> int:
    """``index`` as an int in ``range(count)``, else a :class:`WorkbenchInputError`.

    Examples
    --------
    >>> check_domain_index(torch.tensor(1), 3)
    1
    """
    if isinstance(index, torch.Tensor) and index.numel() == 1:
        index = index.item()
    if isinstance(index, bool) or not isinstance(index, int) and not hasattr(index, "__index__"):
        raise WorkbenchInputError(f"{what} index must be an integer, got {index!r}.")
    index = int(index)
    if not 0 <= index < count:
        plural = "domains" if what == "domain" else "variables"
        raise WorkbenchInputError(
            f"{what} index {index} is out of range: this model has {count} {plural} (0 to {count - 1})."
        )
    return index


def check_matrix(x, width: int, name: str = "x") -> torch.Tensor:
    """``x`` as a finite float32 tensor of shape ``(n, width)``.

    Examples
    --------
    >>> check_matrix([[1, 2]], 2).dtype
    torch.float32
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2 or x.shape[1] != width:
        raise ShapeError(f"{name} must have shape (n, {width}), got {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise NonFiniteValueError(f"{name} holds NaN or infinite values; pass finite numbers.")
    return x


def check_domains(domains, n: int, n_domains: int) -> torch.Tensor:
    """One domain index per row as an int64 tensor of length ``n``, each in range.

    Examples
    --------
    >>> check_domains(torch.tensor([0, 1, 1]), 3, n_domains=2)
    tensor([0, 1, 1])
    >>> check_domains([0, 1], 3, n_domains=2)
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: domains must be one integer or 3 of them (one per row), got shape (2,).
    """
    if isinstance(domains, int) and not isinstance(domains, bool):
        return torch.full((n,), check_domain_index(domains, n_domains), dtype=torch.int64)
    d = torch.as_tensor(domains)
    if d.ndim == 0:
        return torch.full((n,), check_domain_index(d, n_domains), dtype=torch.int64)
    if d.ndim != 1 or len(d) != n:
        raise ShapeError(f"domains must be one integer or {n} of them (one per row), got shape "
                         f"{tuple(d.shape)}.")
    if d.is_floating_point() and not (d == d.round()).all():
        raise WorkbenchInputError("domains must be integers (domain indices).")
    d = d.to(torch.int64)
    bad = d[(d < 0) | (d >= n_domains)]
    if len(bad):
        check_domain_index(int(bad[0]), n_domains)
    return d
