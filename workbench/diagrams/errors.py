"""Typed errors of the string-diagram area.

Every class here subclasses a class of :mod:`workbench.errors`, so ``except
ValueError`` and ``except WorkbenchInputError`` still catch them.

Examples
--------
>>> from workbench.diagrams.errors import NotStochasticError
>>> from workbench.errors import WorkbenchInputError
>>> issubclass(NotStochasticError, WorkbenchInputError)
True
"""

from __future__ import annotations

from workbench.errors import NotIdentifiableError, ShapeError, WorkbenchInputError

__all__ = [
    "DiagramError", "NotStochasticError", "WireMismatchError", "SupportError",
    "SurgeryConditionsError",
]


class DiagramError(WorkbenchInputError):
    """A diagram, kernel or table that is malformed for the operation asked of it."""


class NotStochasticError(DiagramError):
    """A table with negative entries, or whose rows do not sum to one over its outputs."""


class WireMismatchError(DiagramError, ShapeError):
    """Wires that must agree (name and number of values) do not."""


class SupportError(DiagramError):
    """Conditioning on an event of probability zero (no full support where it is needed)."""


class SurgeryConditionsError(NotIdentifiableError):
    """The graph is not of a shape for which surgery on observational data is proven sound."""
