"""Self-checking exercises of the curriculum.

A notebook's exercise has an empty answer slot and a check cell::

    unchanged_answer = None  # your answer
    wb.exercises.check("02", 3, unchanged_answer)

``check`` prints ``No answer yet``, ``Not yet: <hint>`` or ``Correct: ...`` and never raises
for the learner's answer, so "Run All" runs through and answers nothing.
``wb.exercises.solution("02", 3)`` prints the reference solution, which the notebook also
shows in a collapsed block. The checkers live in one module per notebook group.

Examples
--------
>>> import workbench as wb
>>> wb.exercises.check("02", 3, set())
Not yet: intervening on ['x', 'y'] also leaves z alone: give every such variable ...
>>> wb.exercises.check("02", 3, {"x", "y"})
Correct: intervening on a descendant (x or y) never changes its ancestor z.
"""

from workbench.exercises.registry import (
    EXERCISES, NOTEBOOK_MODULES, SUCCESS_PREFIX, Exercise, Verdict, Wrong, check, exercise,
    register, solution,
)

__all__ = ["check", "solution", "exercise", "register", "Exercise", "Verdict", "Wrong",
           "EXERCISES", "NOTEBOOK_MODULES", "SUCCESS_PREFIX", "all_exercises"]


def all_exercises() -> list[Exercise]:
    """Every exercise of every notebook, in notebook and number order.

    Examples
    --------
    >>> exercises = all_exercises()
    >>> len(exercises) > 10, exercises[0].notebook <= exercises[-1].notebook
    (True, True)
    """
    import importlib

    for module in sorted(set(NOTEBOOK_MODULES.values())):
        importlib.import_module(f"workbench.exercises.{module}")
    return [EXERCISES[key] for key in sorted(EXERCISES)]


def __getattr__(name: str):
    """The per-notebook checker modules (``wb.exercises.identification``) load on first use."""
    if name in set(NOTEBOOK_MODULES.values()):
        import importlib

        return importlib.import_module(f"workbench.exercises.{name}")
    raise AttributeError(f"module 'workbench.exercises' has no attribute {name!r}")
