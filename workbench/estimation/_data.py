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
    """A stratum of the data has no treated or no untreated unit (or a propensity of 0 or 1).

    Examples
    --------
    >>> from workbench.estimation.backdoor import plug_in_backdoor
    >>> data = {"z": [0, 0, 1, 1], "x": [0, 1, 1, 1], "y": [0.0, 1.0, 1.0, 2.0]}
    >>> plug_in_backdoor(data, "x", "y", ["z"])  # nobody with z = 1 is untreated
    Traceback (most recent call last):
    ...
    workbench.estimation._data.PositivityError: Some stratum of the adjustment set has no treated or no untreated unit, ...
    """


def column(data: Mapping, name: str) -> torch.Tensor:
    """``data[name]`` as a float64 vector, checked to be finite.

    Examples
    --------
    >>> column({"x": [1, 2, 3]}, "x")
    tensor([1., 2., 3.], dtype=torch.float64)
    >>> column({"x": [1, 2, 3]}, "y")
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown column 'y'. Known columns: x.
    """
    if name not in data:
        raise UnknownVariableError(name, list(data), what="column")
    x = torch.as_tensor(data[name]).reshape(-1).to(torch.float64).cpu()
    if not torch.isfinite(x).all():
        raise WorkbenchInputError(f"Column {name!r} holds NaN or infinite values; drop those units first.")
    return x


def binary(data: Mapping, name: str) -> torch.Tensor:
    """A treatment column, which must hold only 0 and 1.

    Examples
    --------
    >>> binary({"x": [0, 1, 1]}, "x")
    tensor([0., 1., 1.], dtype=torch.float64)
    >>> binary({"x": [0, 2]}, "x")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: The treatment 'x' must be binary (0 or 1); ...
    """
    x = column(data, name)
    if not bool(((x == 0) | (x == 1)).all()):
        raise WorkbenchInputError(
            f"The treatment {name!r} must be binary (0 or 1); the effect estimated is "
            f"E[y | do({name}=1)] - E[y | do({name}=0)]. Recode it, e.g. (x > 0).long().")
    return x


def strata(data: Mapping, names: Sequence[str]) -> tuple[torch.Tensor, int]:
    """One integer per unit naming its combination of the discrete columns ``names``.

    Examples
    --------
    >>> index, n_strata = strata({"z": [0, 1, 0, 1], "w": [0, 0, 1, 1]}, ["z", "w"])
    >>> index.tolist(), n_strata
    ([0, 2, 1, 3], 4)
    >>> strata({"z": [0, 1]}, [])  # no adjustment: one stratum
    (tensor([0, 0]), 1)
    """
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
    """The design matrix ``[1, names...]`` of shape ``(n, 1 + len(names))``.

    Examples
    --------
    >>> features({"z": [2.0, 3.0], "w": [5.0, 7.0]}, ["z", "w"])
    tensor([[1., 2., 5.],
            [1., 3., 7.]], dtype=torch.float64)
    """
    n = len(column(data, next(iter(data))))
    return torch.stack([torch.ones(n, dtype=torch.float64)] + [column(data, v) for v in names], 1)


def resample_weights(n: int, n_boot: int, *, seed: int = 0) -> torch.Tensor:
    """``(n_boot, n)`` bootstrap counts: each row draws ``n`` units with replacement.

    Examples
    --------
    >>> w = resample_weights(5, 3, seed=0)
    >>> w.shape, w.sum(1).tolist()  # each row is one bootstrap data set of 5 units
    (torch.Size([3, 5]), [5.0, 5.0, 5.0])
    """
    if n_boot < 1:
        raise WorkbenchInputError(f"n_boot must be at least 1, got {n_boot}.")
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randint(n, (n_boot, n), generator=g)
    return torch.zeros(n_boot, n, dtype=torch.float64).scatter_add_(
        1, idx, torch.ones(n_boot, n, dtype=torch.float64))
