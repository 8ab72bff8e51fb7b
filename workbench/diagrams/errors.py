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
    """A diagram, kernel or table that is malformed for the operation asked of it.

    Examples
    --------
    >>> from workbench.diagrams import box
    >>> box("", [], [])
    Traceback (most recent call last):
    ...
    workbench.diagrams.errors.DiagramError: A box needs a non-empty string name, got ''.
    """


class NotStochasticError(DiagramError):
    """A table with negative entries, or whose rows do not sum to one over its outputs.

    Examples
    --------
    >>> from workbench.diagrams import Wire, state
    >>> state([Wire("a", 2)], [0.5, 0.7])
    Traceback (most recent call last):
    ...
    workbench.diagrams.errors.NotStochasticError: ...
    """


class WireMismatchError(DiagramError, ShapeError):
    """Wires that must agree (name and number of values) do not.

    Examples
    --------
    >>> from workbench.diagrams import Wire, state, identity
    >>> state([Wire("a", 2)], [0.5, 0.5]) >> identity([Wire("b", 2)])
    Traceback (most recent call last):
    ...
    workbench.diagrams.errors.WireMismatchError: ...
    """


class SupportError(DiagramError):
    """Conditioning on an event of probability zero (no full support where it is needed).

    Examples
    --------
    >>> from workbench.diagrams import Wire, state
    >>> a, b = Wire("a", 2), Wire("b", 2)
    >>> state([a, b], [[0.5, 0.5], [0.0, 0.0]]).condition({"a": 1})
    Traceback (most recent call last):
    ...
    workbench.diagrams.errors.SupportError: ...
    """


class SurgeryConditionsError(NotIdentifiableError):
    """The graph is not of a shape for which surgery on observational data is proven sound.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> from workbench.diagrams import surgery_conditions
    >>> surgery_conditions(dag([("h", "x"), ("h", "y"), ("x", "y")]), "x", hidden=["h"])
    Traceback (most recent call last):
    ...
    workbench.diagrams.errors.SurgeryConditionsError: ...
    """
