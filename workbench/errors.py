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
    """Base class of every error the workbench raises on purpose.

    Examples
    --------
    >>> from workbench.errors import CheckpointError, ShapeError, WorkbenchError
    >>> issubclass(ShapeError, WorkbenchError), issubclass(CheckpointError, WorkbenchError)
    (True, True)
    >>> issubclass(CheckpointError, ValueError)  # a broken file is not bad input
    False
    """


class WorkbenchInputError(WorkbenchError, ValueError):
    """Bad input: a value, name, shape or setting the caller can fix.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> try:
    ...     dag([("a", "b"), ("b", "a")])
    ... except ValueError as err:  # every input error is a ValueError
    ...     print(type(err).__name__, isinstance(err, WorkbenchInputError))
    CycleError True
    """


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
    """A variable (node, site, factor) name that the model does not have.

    Examples
    --------
    >>> err = UnknownVariableError("tarr", ["smoking", "tar"])
    >>> print(err)
    Unknown variable 'tarr'. Did you mean 'tar'? Known variables: smoking, tar.
    >>> err.name, err.known, isinstance(err, KeyError)
    ('tarr', ['smoking', 'tar'], True)
    """

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
    """A graph that is malformed for the operation asked of it.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> dag([("a",)])
    Traceback (most recent call last):
    ...
    workbench.errors.GraphError: Each edge must be a pair (source, target), like ('x', 'y'); got ('a',).
    """


class CycleError(GraphError):
    """A directed cycle where the model must be acyclic (a DAG or an ADMG).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> dag([("a", "b"), ("b", "a")])
    Traceback (most recent call last):
    ...
    workbench.errors.CycleError: The graph has a directed cycle a -> b -> a; a causal graph must be acyclic. Remove one of these edges.
    """


class NonFiniteValueError(WorkbenchInputError):
    """NaN or infinite values where finite numbers are required.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.flows.conditional import check_finite_data
    >>> check_finite_data("data", torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    Traceback (most recent call last):
    ...
    workbench.errors.NonFiniteValueError: data has 1 row(s) with NaN or infinite values; drop or fix them.
    """


class ShapeError(WorkbenchInputError):
    """A tensor or array whose shape does not fit the operation.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.flows.evaluation import mmd
    >>> mmd(torch.zeros(3, 2), torch.zeros(3, 1))
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: mmd needs two (n, d) samples of one dimension, got (3, 2) and (3, 1).
    """


class WidgetValueError(WorkbenchInputError):
    """A value set on a widget that lies outside what the widget allows.

    Examples
    --------
    >>> issubclass(WidgetValueError, ValueError)  # traitlets' @validate may raise it
    True
    """


class DeviceUnavailableError(WorkbenchInputError):
    """A compute device was requested that this machine does not have.

    Examples
    --------
    >>> from workbench.runtime import device
    >>> device("cuda:99")
    Traceback (most recent call last):
    ...
    workbench.errors.DeviceUnavailableError: Device 'cuda:99' was requested ...
    """


class NotIdentifiableError(WorkbenchInputError):
    """A causal effect that cannot be computed from the given observational data.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> from workbench.identification import identify
    >>> bow = identify(admg([("x", "y")], bidirected=[("x", "y")]), "x", "y")
    >>> bow.identifiable
    False
    >>> bow.estimand
    Traceback (most recent call last):
    ...
    workbench.identification.id_algorithm.HedgeError: P(y | do(x)) is not identifiable from observational data: ...
    """


class CheckpointError(WorkbenchError):
    """A checkpoint that is missing, corrupted or fails its hash check.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from workbench.latents.pretrained import list_pretrained
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "manifest.json").write_text("{not json")
    >>> list_pretrained(folder)
    Traceback (most recent call last):
    ...
    workbench.errors.CheckpointError: ...manifest.json is not valid JSON: ...
    """
