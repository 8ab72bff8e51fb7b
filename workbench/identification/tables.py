"""Discrete tables: a torch tensor whose axes are named by variables.

A :class:`DiscreteTable` is the one numeric object of the identification area. It
holds a joint distribution ``P(v1, ..., vn)`` over discrete variables (each taking
values ``0 .. k-1``), and equally any intermediate *factor* met while evaluating an
estimand, such as ``P(y | x, z)`` or ``sum_z P(z | x) P(y | x, z)``. Products of
tables broadcast over the union of their variables, sums remove axes.

Examples
--------
>>> import torch
>>> from workbench.identification import DiscreteTable
>>> p = DiscreteTable(("x", "y"), torch.tensor([[0.3, 0.1], [0.2, 0.4]]))
>>> p.marginal(["y"]).values.tolist()
[0.5, 0.5]
>>> cond = p.conditional(["y"], ["x"])          # P(y | x), axes (x, y)
>>> [round(v, 2) for v in cond.values[1].tolist()]
[0.33, 0.67]
>>> DiscreteTable.from_samples({"x": torch.tensor([0, 1, 1, 1])}).values.tolist()
[0.25, 0.75]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping

import torch

from workbench.errors import (
    NonFiniteValueError, NotIdentifiableError, ShapeError, UnknownVariableError, WorkbenchInputError,
)

__all__ = ["DiscreteTable", "NotADistributionError", "PositivityError", "PositivityWarning"]

DTYPE = torch.float64


class NotADistributionError(WorkbenchInputError):
    """A table given as a joint distribution whose entries do not sum to one.

    Examples
    --------
    >>> import torch
    >>> DiscreteTable(("x",), torch.tensor([0.5, 0.7])).check_distribution()
    Traceback (most recent call last):
    ...
    workbench.identification.tables.NotADistributionError: The table must be a joint distribution, but its entries sum to 1.2, not 1. ...
    """


class PositivityError(NotIdentifiableError):
    """An estimand divides by a zero-probability cell that carries weight: its value is undefined.

    The classic case is a positivity violation in an adjustment formula: some
    treatment value never occurs together with some value of the adjustment set.

    Examples
    --------
    >>> import torch
    >>> from workbench.identification import Probability
    >>> joint = DiscreteTable(("x", "y"), torch.tensor([[0.5, 0.5], [0.0, 0.0]]))
    >>> Probability(["y"], ["x"]).evaluate(joint)
    Traceback (most recent call last):
    ...
    workbench.identification.tables.PositivityError: ...
    """


class PositivityWarning(UserWarning):
    """Issued with ``on_undefined="nan"``: the cells it names are NaN in the result.

    Examples
    --------
    >>> import torch, warnings
    >>> from workbench.identification import Probability
    >>> joint = DiscreteTable(("x", "y"), torch.tensor([[0.5, 0.5], [0.0, 0.0]]))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = Probability(["y"], ["x"]).evaluate(joint, on_undefined="nan")
    >>> caught[0].category.__name__
    'PositivityWarning'
    """


@dataclass(frozen=True)
class DiscreteTable:
    """A tensor over discrete variables; axis ``i`` is variable ``variables[i]``.

    Parameters
    ----------
    variables : tuple
        Distinct variable names, one per axis.
    values : torch.Tensor
        Non-negative finite numbers; ``values.shape[i]`` is the number of values
        (the cardinality) of ``variables[i]``.

    Examples
    --------
    >>> import torch
    >>> t = DiscreteTable(("x", "y"), torch.tensor([[0.1, 0.2], [0.3, 0.4]]))
    >>> t.cardinalities, t.marginal(["x"]).values
    ({'x': 2, 'y': 2}, tensor([0.3000, 0.7000], dtype=torch.float64))
    """

    variables: tuple
    values: torch.Tensor

    def __post_init__(self):
        variables = tuple(self.variables)
        object.__setattr__(self, "variables", variables)
        values = torch.as_tensor(self.values, dtype=DTYPE)
        object.__setattr__(self, "values", values)
        if len(set(variables)) != len(variables):
            raise WorkbenchInputError(f"Table variables must be distinct, got {variables}.")
        if values.dim() != len(variables):
            raise ShapeError(
                f"A table over {len(variables)} variables {variables} needs a tensor with "
                f"{len(variables)} axes, got shape {tuple(values.shape)}."
            )
        if not bool(torch.isfinite(values).all()):
            raise NonFiniteValueError("Table values contain NaN or infinity; pass finite numbers.")
        if bool((values < 0).any()):
            raise WorkbenchInputError(
                f"Table values must be probabilities (or products of them), but {int((values < 0).sum())} "
                f"are negative (smallest {float(values.min()):.3g}); pass non-negative numbers."
            )

    @classmethod
    def _raw(cls, variables: tuple, values: torch.Tensor) -> "DiscreteTable":
        """A table built by this module's own algebra: no re-validation (NaN may mark "undefined")."""
        table = object.__new__(cls)
        object.__setattr__(table, "variables", tuple(variables))
        object.__setattr__(table, "values", values)
        return table

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_samples(cls, samples: Mapping[Hashable, torch.Tensor],
                     cardinalities: Mapping[Hashable, int] | None = None) -> "DiscreteTable":
        """The empirical joint distribution of integer-valued samples.

        Parameters
        ----------
        samples : mapping of name to 1-D integer tensor
            Equal-length columns of values ``0 .. k-1``.
        cardinalities : mapping of name to int, optional
            Number of values of each variable; for a name it lacks, ``max + 1`` of
            its column.
        """
        if not samples:
            raise WorkbenchInputError("from_samples needs at least one column of samples.")
        names = tuple(samples)
        cols = [_integer_column(name, samples[name]) for name in names]
        n_rows = {c.numel() for c in cols}
        if len(n_rows) != 1 or 0 in n_rows:
            raise ShapeError(f"Sample columns must be non-empty and of equal length, got {sorted(n_rows)}.")
        cards = []
        for name, col in zip(names, cols):
            known = cardinalities is not None and name in cardinalities
            k = int(cardinalities[name]) if known else int(col.max()) + 1
            if int(col.min()) < 0 or int(col.max()) >= k:
                raise WorkbenchInputError(
                    f"Samples of {name!r} must lie in 0..{k - 1}; got values "
                    f"{int(col.min())}..{int(col.max())}."
                )
            cards.append(k)
        flat = torch.zeros_like(cols[0])
        for col, k in zip(cols, cards):
            flat = flat * k + col
        total = 1
        for k in cards:
            total *= k
        counts = torch.bincount(flat, minlength=total).to(DTYPE)
        return cls(names, (counts / counts.sum()).reshape(cards))

    # -- queries ----------------------------------------------------------------------
    @property
    def cardinalities(self) -> dict:
        """``{variable: number of values}``."""
        return dict(zip(self.variables, self.values.shape))

    def _check(self, names: Iterable) -> list:
        names = list(names)
        for n in names:
            if n not in self.variables:
                raise UnknownVariableError(n, self.variables, what="table variable")
        return names

    def sum_out(self, names: Iterable) -> "DiscreteTable":
        """Sum over the axes of ``names`` (a marginalisation)."""
        names = set(self._check(names))
        if not names:
            return self
        axes = [i for i, v in enumerate(self.variables) if v in names]
        keep = tuple(v for v in self.variables if v not in names)
        return DiscreteTable._raw(keep, self.values.sum(dim=axes))

    def marginal(self, names: Iterable) -> "DiscreteTable":
        """The table summed down to ``names`` (kept in this table's axis order)."""
        names = set(self._check(names))
        return self.sum_out([v for v in self.variables if v not in names])

    def conditional(self, targets: Iterable, given: Iterable = ()) -> "DiscreteTable":
        """``P(targets | given)`` from this joint; cells with ``P(given) = 0`` are 0."""
        targets, given = self._check(targets), self._check(given)
        joint = self.marginal(set(targets) | set(given))
        return joint.divide(joint.marginal(given))

    def permute(self, order: Iterable) -> "DiscreteTable":
        """The same table with axes in ``order`` (which must list every variable)."""
        order = tuple(self._check(order))
        if set(order) != set(self.variables) or len(order) != len(self.variables):
            raise WorkbenchInputError(f"permute needs all of {self.variables}, got {order}.")
        perm = [self.variables.index(v) for v in order]
        return DiscreteTable._raw(order, self.values.permute(perm))

    # -- algebra ----------------------------------------------------------------------
    def _aligned(self, order: tuple, cards: dict) -> torch.Tensor:
        """This table's tensor with singleton axes so it broadcasts over ``order``."""
        mine = [v for v in order if v in self.variables]
        t = self.permute(mine).values if mine else self.values
        shape = [cards[v] if v in self.variables else 1 for v in order]
        return t.reshape(shape)

    def _union(self, other: "DiscreteTable") -> tuple[tuple, dict]:
        order = self.variables + tuple(v for v in other.variables if v not in self.variables)
        cards = dict(other.cardinalities)
        for v, k in self.cardinalities.items():
            if cards.setdefault(v, k) != k:
                raise ShapeError(f"Variable {v!r} has {k} values in one table, {cards[v]} in another.")
        return order, cards

    def __mul__(self, other: "DiscreteTable") -> "DiscreteTable":
        order, cards = self._union(other)
        return DiscreteTable._raw(order, self._aligned(order, cards) * other._aligned(order, cards))

    def divide(self, other: "DiscreteTable") -> "DiscreteTable":
        """``self / other`` broadcast over both; a zero denominator gives 0, never NaN."""
        order, cards = self._union(other)
        num, den = self._aligned(order, cards), other._aligned(order, cards)
        safe = torch.where(den > 0, den, torch.ones_like(den))
        out = torch.where(den > 0, num / safe, torch.zeros_like(num / safe))
        return DiscreteTable._raw(order, out)

    def expand(self, cardinalities: Mapping) -> "DiscreteTable":
        """Broadcast to also range over the variables of ``cardinalities`` (constant there)."""
        order = tuple(cardinalities)
        extra = tuple(v for v in self.variables if v not in cardinalities)
        order = order + extra
        cards = {**self.cardinalities, **dict(cardinalities)}
        shape = [cards[v] for v in order]
        return DiscreteTable._raw(order, self._aligned(order, cards).expand(shape).clone())

    def undefined_divide(self, other: "DiscreteTable") -> "DiscreteTable":
        """``self / other`` with NaN ("undefined") wherever the denominator is 0.

        Used while evaluating estimands, where :meth:`weighted_product` then keeps
        an undefined cell only if it carries weight.
        """
        order, cards = self._union(other)
        num, den = self._aligned(order, cards), other._aligned(order, cards)
        undefined = torch.tensor(float("nan"), dtype=DTYPE)
        return DiscreteTable._raw(order, torch.where(den > 0, num / den, undefined))

    def weighted_product(self, other: "DiscreteTable") -> "DiscreteTable":
        """``self * other`` where 0 times an undefined (NaN) cell is 0: a weight of zero
        makes the value of a conditional on that cell irrelevant."""
        order, cards = self._union(other)
        a, b = self._aligned(order, cards), other._aligned(order, cards)
        out = a * b
        return DiscreteTable._raw(order, out.masked_fill((a == 0) | (b == 0), 0.0))

    def check_distribution(self, what: str = "The table", atol: float = 1e-5) -> None:
        """Raise :class:`NotADistributionError` unless the entries sum to one."""
        total = float(self.values.sum())
        if abs(total - 1.0) > atol:
            raise NotADistributionError(
                f"{what} must be a joint distribution, but its entries sum to {total:.6g}, not 1. "
                "Normalise it first: DiscreteTable(t.variables, t.values / t.values.sum())."
            )

    def cells(self, mask: torch.Tensor) -> list[dict]:
        """The assignments ``{variable: value}`` where boolean ``mask`` (this table's shape) is true."""
        return [dict(zip(self.variables, (int(i) for i in index)))
                for index in torch.nonzero(mask, as_tuple=False)]

    def max_abs_diff(self, other: "DiscreteTable") -> float:
        """Largest absolute difference after broadcasting both to the same axes."""
        order, cards = self._union(other)
        a = self._aligned(order, cards).expand([cards[v] for v in order])
        b = other._aligned(order, cards).expand([cards[v] for v in order])
        return float((a - b).abs().max())

    def __repr__(self) -> str:
        shape = "x".join(str(k) for k in self.values.shape) or "scalar"
        return f"DiscreteTable({list(self.variables)}, {shape})"


def _integer_column(name, column) -> torch.Tensor:
    """A 1-D long tensor of a column of category indices; fractions are refused, not truncated."""
    col = torch.as_tensor(column).reshape(-1)
    if col.dtype == torch.bool:
        return col.long()
    if col.is_floating_point() or col.is_complex():
        if not bool(torch.isfinite(col).all()):
            raise NonFiniteValueError(f"Samples of {name!r} contain NaN or infinity; pass category indices.")
        if not bool((col == col.round()).all()):
            bad = col[col != col.round()][:3].tolist()
            raise WorkbenchInputError(
                f"Samples of {name!r} must be whole numbers (category indices 0..k-1); got {bad}. "
                "Discretise them first (e.g. torch.bucketize) instead of relying on truncation."
            )
    return col.long()

