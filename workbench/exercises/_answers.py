"""Small helpers every checker uses to read an answer and to ask multiple-choice questions.

Examples
--------
>>> number(0.5, "the slope")
0.5
>>> number("half", "the slope")
Traceback (most recent call last):
...
workbench.exercises.registry.Wrong: the slope should be a number, not str 'half'.
>>> choose("b", {"a": "no", "b": "yes"}, right="b")
'(b) yes'
"""

from __future__ import annotations

import math
import numbers

import torch

from workbench.exercises.registry import Wrong

__all__ = ["number", "close", "choose", "names"]


def number(value, what: str) -> float:
    """``value`` as a finite float, or ``Wrong`` saying what was expected.

    Examples
    --------
    >>> import torch
    >>> number(torch.tensor(2.5), "the effect")
    2.5
    >>> number(float("nan"), "the effect")
    Traceback (most recent call last):
    ...
    workbench.exercises.registry.Wrong: the effect should be a finite number, not nan.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise Wrong(f"{what} should be a number, not {type(value).__name__} {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise Wrong(f"{what} should be a finite number, not {value}.")
    return value


def close(value, target: float, tol: float, what: str, hint: str) -> float:
    """Check ``|value - target| <= tol``; the hint is shown otherwise.

    Examples
    --------
    >>> close(0.51, 0.5, 0.02, "the slope", "Regress y on x.")
    0.51
    >>> close(0.9, 0.5, 0.02, "the slope", "Regress y on x.")
    Traceback (most recent call last):
    ...
    workbench.exercises.registry.Wrong: Regress y on x.
    """
    value = number(value, what)
    if abs(value - target) > tol:
        raise Wrong(hint)
    return value


def choose(answer, options: dict[str, str], *, right: str,
           hints: dict[str, str] | None = None) -> str:
    """A multiple-choice question: ``answer`` is one of the option letters.

    Examples
    --------
    >>> options = {"a": "confounding", "b": "selection"}
    >>> choose("(A)", options, right="a")
    '(a) confounding'
    >>> choose("b", options, right="a", hints={"b": "Nobody was filtered out."})
    Traceback (most recent call last):
    ...
    workbench.exercises.registry.Wrong: Nobody was filtered out.
    """
    key = str(answer).strip().strip("()").lower()
    if key not in options:
        raise Wrong(f"answer with one of the letters {', '.join(sorted(options))} "
                    f"(got {answer!r}).")
    if key != right:
        raise Wrong((hints or {}).get(key, f"({key}) is not the reason; read the options again."))
    return f"({key}) {options[key]}"


def names(answer, what: str) -> set[str]:
    """A set of variable names from a set, list or tuple of strings.

    Examples
    --------
    >>> sorted(names(["z", "w"], "the adjustment set"))
    ['w', 'z']
    >>> names("z", "the adjustment set")
    Traceback (most recent call last):
    ...
    workbench.exercises.registry.Wrong: the adjustment set should be a set or list of names such as {'x', 'y'} or ['x'], not str 'z'.
    """
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        raise Wrong(f"{what} should be a set or list of names such as {{'x', 'y'}} or ['x'], "
                    f"not {type(answer).__name__} {answer!r}.")
    if not all(isinstance(a, str) for a in answer):
        raise Wrong(f"{what} should hold variable names as strings, got {sorted(map(repr, answer))}.")
    return set(answer)
