"""One hierarchy of clear, typed errors for the whole workbench.

Every error caused by bad input is a :class:`WorkbenchInputError`, which is a
:class:`ValueError`, so ``except ValueError`` still catches it. Each subclass
names one kind of mistake; its message says what was wrong and how to fix it.

Examples
--------
>>> from workbench.errors import UnknownVariableError, WorkbenchInputError
>>> err = UnknownVariableError("smokng", ["smoking", "tar", "cancer"])
>>> print(err)
Unknown variable 'smokng'. Did you mean 'smoking'? Known variables: cancer, smoking, tar.
>>> isinstance(err, WorkbenchInputError) and isinstance(err, ValueError)
True
>>> print(UnknownVariableError("2", [1, 2], what="node"))
Unknown node '2'. It is written like the node 2, but that is an int and '2' is a str: pass 2. Known nodes: 1, 2.
"""

from __future__ import annotations

import difflib
from typing import Iterable

__all__ = [
    "WorkbenchError",
    "WorkbenchInputError",
    "UnknownVariableError",
    "CycleError",
    "GraphError",
    "NonFiniteValueError",
    "ShapeError",
    "WidgetValueError",
    "DeviceUnavailableError",
    "NotIdentifiableError",
    "CheckpointError",
    "did_you_mean",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class WorkbenchInputError(WorkbenchError, ValueError):
    """Bad input: a value, name, shape or setting the caller can fix."""


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """Return the closest known name to ``name``, or ``None`` if none is close.

    Examples
    --------
    >>> did_you_mean("cancr", ["smoking", "cancer"])
    'cancer'
    >>> did_you_mean("zzz", ["smoking", "cancer"]) is None
    True
    >>> did_you_mean("X", ["x", "y"])  # case is forgiven
    'x'
    """
    known = [str(k) for k in known]
    matches = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    by_lower = {k.lower(): k for k in known}
    matches = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


class UnknownVariableError(WorkbenchInputError, KeyError):
    """A variable (node, site, factor) name that the model does not have."""

    def __init__(self, name: str, known: Iterable[str], what: str = "variable"):
        known = list(known)
        same_text = [k for k in known if str(k) == str(name)]
        known = sorted(str(k) for k in known)
        self.name, self.known = name, known
        hint = did_you_mean(name, known)
        message = f"Unknown {what} {name!r}."
        if same_text:   # '2' for the node 2: the text matches, the type does not
            message += (f" It is written like the {what} {same_text[0]!r}, but that is "
                        f"{_a(type(same_text[0]).__name__)} and {name!r} is "
                        f"{_a(type(name).__name__)}: pass {same_text[0]!r}.")
        elif hint is not None:
            message += f" Did you mean {hint!r}?"
        message += f" Known {what}s: {', '.join(known) if known else '(none)'}."
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class GraphError(WorkbenchInputError):
    """A graph that is malformed for the operation asked of it."""


class CycleError(GraphError):
    """A directed cycle where the model must be acyclic (a DAG or an ADMG)."""


class NonFiniteValueError(WorkbenchInputError):
    """NaN or infinite values where finite numbers are required."""


class ShapeError(WorkbenchInputError):
    """A tensor or array whose shape does not fit the operation."""


class WidgetValueError(WorkbenchInputError):
    """A value set on a widget that lies outside what the widget allows."""


class DeviceUnavailableError(WorkbenchInputError):
    """A compute device was requested that this machine does not have."""


class NotIdentifiableError(WorkbenchInputError):
    """A causal effect that cannot be computed from the given observational data."""


class CheckpointError(WorkbenchError):
    """A checkpoint that is missing, corrupted or fails its hash check."""
