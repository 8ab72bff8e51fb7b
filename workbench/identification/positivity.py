"""Positivity: where an estimand divides by zero, and whether that zero matters.

Evaluating ``sum_z P(y | x, z) P(z)`` divides by ``P(x, z)``. When a cell
``P(x, z)`` is 0 but ``P(z) > 0``, the conditional ``P(y | x, z)`` is not determined
by the data, and neither is ``P(y | do(x))`` for that ``x``: positivity fails. (When
``P(z) = 0`` as well, the cell has weight 0 and the sum does not depend on it.)

:class:`Evaluation` carries what one evaluation shares (cached marginals, and every
zero denominator met); divisions mark undefined cells NaN, products treat
``0 * undefined`` as 0, and :func:`settle` turns the NaN that survive into a
:class:`~workbench.identification.tables.PositivityError` naming the cells, or, asked
for, a :class:`~workbench.identification.tables.PositivityWarning` and NaN.

Examples
--------
>>> import torch
>>> from workbench.identification import DiscreteTable, Probability
>>> p = DiscreteTable(("x", "y"), torch.tensor([[0.5, 0.5], [0.0, 0.0]]))   # x = 1 never seen
>>> Probability(["y"], ["x"]).evaluate(p)
Traceback (most recent call last):
...
workbench.identification.tables.PositivityError: P(y | x) is undefined at x=1: it divides by P(x=1) = 0, ...
"""

from __future__ import annotations

import warnings

import torch

from workbench.identification.tables import DiscreteTable, PositivityError, PositivityWarning

__all__ = ["Evaluation", "settle"]

MAX_RECORDED = 1000   # zero cells remembered per evaluation (the message shows a few)
MAX_SHOWN = 4


def _cell_text(cell: dict) -> str:
    return ", ".join(f"{v}={i}" for v, i in sorted(cell.items(), key=lambda item: str(item[0])))


class Evaluation:
    """Shared state of one evaluation: the joint, cached marginals, zero denominators met.

    Examples
    --------
    >>> import torch
    >>> ev = Evaluation(DiscreteTable(("x", "y"), torch.tensor([[0.5, 0.0], [0.25, 0.25]])))
    >>> ev.marginal(["x"]).values
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """

    def __init__(self, table: DiscreteTable):
        self.table = table
        self.marginals: dict = {}
        self.empty: list[tuple[str, dict]] = []

    def marginal(self, names) -> DiscreteTable:
        """The joint's marginal over ``names``, computed once and kept."""
        key = frozenset(names)
        if key not in self.marginals:
            self.marginals[key] = self.table.marginal(names)
        return self.marginals[key]

    def divide(self, numerator: DiscreteTable, denominator: DiscreteTable, label: str) -> DiscreteTable:
        """``numerator / denominator``, NaN where the denominator is 0 (recorded with ``label``)."""
        zero = denominator.values == 0
        if bool(zero.any()) and len(self.empty) < MAX_RECORDED:
            for cell in denominator.cells(zero)[:MAX_RECORDED - len(self.empty)]:
                self.empty.append((label.format(_cell_text(cell)), cell))
        return numerator.undefined_divide(denominator)


def _undefined_cells(result: DiscreteTable, mask: torch.Tensor) -> list[dict]:
    """Cells of ``mask``, over only the variables the mask depends on (``x=1``, not every ``y``)."""
    keep = [i for i in range(mask.dim()) if not torch.equal(mask.all(dim=i), mask.any(dim=i))]
    drop = [i for i in range(mask.dim()) if i not in keep]
    reduced = mask.any(dim=drop) if drop else mask
    return DiscreteTable._raw(tuple(result.variables[i] for i in keep), reduced).cells(reduced) \
        if keep else [{}]


def settle(what: str, result: DiscreteTable, evaluation: Evaluation, on_undefined: str) -> DiscreteTable:
    """Return ``result`` if it is defined everywhere; else raise or warn (see module doc).

    Examples
    --------
    >>> import torch
    >>> t = DiscreteTable(("x",), torch.tensor([0.5, 0.5]))
    >>> settle("P(x)", t, Evaluation(t), "raise") is t
    True
    """
    mask = torch.isnan(result.values)
    if not bool(mask.any()):
        return result
    undefined = _undefined_cells(result, mask)
    where = "; ".join(_cell_text(c) for c in undefined[:MAX_SHOWN]) or "every cell"
    where += f" and {len(undefined) - MAX_SHOWN} more" if len(undefined) > MAX_SHOWN else ""
    related = [label for label, cell in evaluation.empty
               if any(all(cell.get(v, i) == i for v, i in u.items()) for u in undefined)]
    related = list(dict.fromkeys(related or [label for label, _ in evaluation.empty]))
    causes = ", ".join(related[:MAX_SHOWN]) + (f" and {len(related) - MAX_SHOWN} more"
                                                if len(related) > MAX_SHOWN else "")
    message = (f"{what} is undefined at {where}: it divides by {causes}, a cell with no "
               "probability that still carries weight (positivity fails: that combination "
               "never occurs in the data). Collect data there or merge categories; or pass "
               "on_undefined='nan' to get NaN in exactly the undefined cells.")
    if on_undefined == "raise":
        raise PositivityError(message)
    warnings.warn(message, PositivityWarning, stacklevel=3)
    return result
