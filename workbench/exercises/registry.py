"""The exercise registry: one entry per exercise, a checker that never raises on a blank.

An exercise is registered with the notebook it belongs to (``"03"``), its number, the
names of its answer variables, the notebook variables its checker needs, and the
reference solution as the code a learner would write. ``check`` turns a checker's
outcome into a :class:`Verdict`, which prints as one line: ``No answer yet: ...`` for a
blank, ``Not yet: ...`` with a hint for a wrong answer, ``Correct: ...`` for a right one.
It never raises for a learner's answer, so a notebook still runs top to bottom.

Examples
--------
>>> @register("99", 1, answers=("x",), solution="x = 42", blank="Put a number in x.")
... def _answer_is_42(x):
...     if x != 42:
...         raise Wrong("count again.")
...     return "42 it is."
>>> check("99", 1, None)
No answer yet: Put a number in x.
>>> check("99", 1, 41)
Not yet: count again.
>>> verdict = check("99", 1, 42)
>>> verdict, bool(verdict)
(Correct: 42 it is., True)
>>> solution("99", 1)
x = 42
>>> del EXERCISES[("99", 1)]
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from workbench.errors import WorkbenchInputError

__all__ = ["Exercise", "Verdict", "Wrong", "register", "check", "solution", "exercise",
           "EXERCISES", "SUCCESS_PREFIX", "NOTEBOOK_MODULES"]

SUCCESS_PREFIX = "Correct"

#: which module of this package registers the exercises of each notebook
NOTEBOOK_MODULES = {"00": "foundations", "01": "foundations", "02": "foundations",
                    "03": "identification", "04": "diagrams", "05": "counterfactuals",
                    "06": "latents", "07": "flows", "09": "metrics", "10": "crl",
                    "11": "counterfactual_images", "12": "sweeps"}

EXERCISES: dict[tuple[str, int], "Exercise"] = {}


class Wrong(Exception):
    """Raised by a checker for a wrong answer; its message is the hint.

    Examples
    --------
    >>> str(Wrong("check the sign"))
    'check the sign'
    """


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, what it needs, how to check it, a reference solution.

    Examples
    --------
    >>> ex = exercise("03", 1)
    >>> ex.notebook, ex.check_call().startswith("wb.exercises.check(")
    ('03', True)
    """

    notebook: str
    number: int
    checker: Callable[..., str]
    answers: tuple[str, ...]
    context: tuple[str, ...]
    solution: str
    blank: str

    def check_call(self) -> str:
        """The line a notebook's check cell holds."""
        args = [f'"{self.notebook}"', str(self.number), *self.answers,
                *(f"{name}={name}" for name in self.context)]
        return f"wb.exercises.check({', '.join(args)})"


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``correct`` and a one-line ``message``; prints as the message.

    Examples
    --------
    >>> v = Verdict(False, "No answer yet: set answer_1.")
    >>> bool(v), v
    (False, No answer yet: set answer_1.)
    """

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.message


def register(notebook: str, number: int, *, answers: tuple[str, ...], solution: str,
             blank: str, context: tuple[str, ...] = ()):
    """Decorator: register ``checker(*answers, **context) -> success text`` (raises Wrong).

    Examples
    --------
    >>> @register("99", 1, answers=("answer",), solution="answer = 42", blank="set answer.")
    ... def _check(answer):
    ...     if answer != 42:
    ...         raise Wrong("not 42")
    ...     return "42 it is"
    >>> check("99", 1, 41), check("99", 1, 42)
    (Not yet: not 42, Correct: 42 it is)
    >>> del EXERCISES[("99", 1)]
    """
    def wrap(checker):
        EXERCISES[(notebook, number)] = Exercise(notebook, number, checker, tuple(answers),
                                                 tuple(context), solution.strip(), blank)
        return checker
    return wrap


def exercise(notebook: str, number: int) -> Exercise:
    """The registered exercise ``number`` of ``notebook`` (e.g. ``"03"``, 2).

    Examples
    --------
    >>> exercise("03", 1).answers
    ('answer1',)
    """
    notebook = str(notebook).zfill(2)
    if notebook in NOTEBOOK_MODULES:
        importlib.import_module(f"workbench.exercises.{NOTEBOOK_MODULES[notebook]}")
    key = (notebook, int(number))
    if key not in EXERCISES:
        known = sorted(n for nb, n in EXERCISES if nb == notebook)
        raise WorkbenchInputError(
            f"Notebook {notebook} has no exercise {number}"
            + (f"; its exercises are {known}." if known else
               f"; notebooks with exercises: {sorted(NOTEBOOK_MODULES)}."))
    return EXERCISES[key]


def check(notebook: str, number: int, *answers, **context) -> Verdict:
    """Check a learner's answer(s) to an exercise; never raises for a blank or wrong answer.

    Examples
    --------
    >>> check("03", 1, None)
    No answer yet: ...
    """
    ex = exercise(notebook, number)
    if len(answers) != len(ex.answers):
        raise WorkbenchInputError(
            f"Exercise {ex.notebook}.{ex.number} takes {len(ex.answers)} answer(s) "
            f"({', '.join(ex.answers)}); got {len(answers)}. Use {ex.check_call()}.")
    if any(a is None for a in answers):
        return Verdict(False, f"No answer yet: {ex.blank}")
    try:
        return Verdict(True, f"{SUCCESS_PREFIX}: {ex.checker(*answers, **context)}")
    except Wrong as hint:
        return Verdict(False, f"Not yet: {hint}")
    except (TypeError, ValueError, AttributeError, IndexError, KeyError, RuntimeError) as err:
        return Verdict(False, f"Not yet: checking your answer raised {type(err).__name__}: {err}")


def solution(notebook: str, number: int) -> None:
    """Print the reference solution of an exercise (try your own first).

    Examples
    --------
    >>> solution("03", 1)               # doctest: +ELLIPSIS
    answer1 = ...
    """
    print(exercise(notebook, number).solution)
