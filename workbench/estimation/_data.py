"""Reading data for the estimators: float columns, discrete strata, bootstrap weights.

Every estimator works on *weights*: a ``(B, n)`` tensor saying how often each unit
counts in each of ``B`` data sets. The data themselves are weights of ones; a bootstrap
resample is a row of counts. So one vectorised computation gives the point estimate
and every bootstrap draw.

Examples
--------
>>> import torch
>>> data = {"z": torch.tensor([0, 1, 1, 2]), "x": torch.tensor([0, 1, 0, 1])}
>>> strata(data, ["z"])
(tensor([0, 1, 1, 2]), 3)
>>> resample_weights(4, 2, seed=0).sum(1)
tensor([4., 4.], dtype=torch.float64)
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from workbench.errors import UnknownVariableError, WorkbenchInputError

__all__ = ["PositivityError", "column", "binary", "strata", "features", "resample_weights"]


class PositivityError(WorkbenchInputError):
    """A stratum of the data has no treated or no untreated unit (or a propensity of 0 or 1)."""


def column(data: Mapping, name: str) -> torch.Tensor:
    """``data[name]`` as a float64 vector, checked to be finite."""
    if name not in data:
        raise UnknownVariableError(name, list(data), what="column")
    x = torch.as_tensor(data[name]).reshape(-1).to(torch.float64).cpu()
    if not torch.isfinite(x).all():
        raise WorkbenchInputError(f"Column {name!r} holds NaN or infinite values; drop those units first.")
    return x


def binary(data: Mapping, name: str) -> torch.Tensor:
    """A treatment column, which must hold only 0 and 1."""
    x = column(data, name)
    if not bool(((x == 0) | (x == 1)).all()):
        raise WorkbenchInputError(
            f"The treatment {name!r} must be binary (0 or 1); the effect estimated is "
            f"E[y | do({name}=1)] - E[y | do({name}=0)]. Recode it, e.g. (x > 0).long().")
    return x


def strata(data: Mapping, names: Sequence[str]) -> tuple[torch.Tensor, int]:
    """One integer per unit naming its combination of the discrete columns ``names``."""
    n = len(column(data, next(iter(data))))
    if not names:
        return torch.zeros(n, dtype=torch.long), 1
    cols = []
    for name in names:
        c = column(data, name)
        if not torch.equal(c, c.round()) or bool((c < 0).any()):
            raise WorkbenchInputError(
                f"Column {name!r} is not discrete (non-negative whole numbers); the plug-in and "
                "saturated estimators need discrete variables. Use model='linear' instead.")
        cols.append(c.long())
    _, index = torch.unique(torch.stack(cols, 1), dim=0, return_inverse=True)
    return index, int(index.max()) + 1


def features(data: Mapping, names: Sequence[str]) -> torch.Tensor:
    """The design matrix ``[1, names...]`` of shape ``(n, 1 + len(names))``."""
    n = len(column(data, next(iter(data))))
    return torch.stack([torch.ones(n, dtype=torch.float64)] + [column(data, v) for v in names], 1)


def resample_weights(n: int, n_boot: int, *, seed: int = 0) -> torch.Tensor:
    """``(n_boot, n)`` bootstrap counts: each row draws ``n`` units with replacement."""
    if n_boot < 1:
        raise WorkbenchInputError(f"n_boot must be at least 1, got {n_boot}.")
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randint(n, (n_boot, n), generator=g)
    return torch.zeros(n_boot, n, dtype=torch.float64).scatter_add_(
        1, idx, torch.ones(n_boot, n, dtype=torch.float64))
