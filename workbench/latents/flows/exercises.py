"""Checkers for the exercises of notebook 07 (normalizing flows).

Each checker returns a :class:`Feedback`: ``correct`` is true only for the right
answer; a blank (``None``) or wrong answer gets a hint instead. Checkers never raise on
a wrong answer, so a notebook with blank answers still runs top to bottom.

Examples
--------
>>> check_log_density(None).correct
False
>>> check_log_density(-1.8523)
Correct: log p(2) = log N(log 2; 0, 1) - log 2 = -1.852.
>>> check_counterfactual(2.5).correct, check_unchanged(["x1"]).correct
(False, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Feedback", "check_log_density", "check_counterfactual", "check_unchanged"]


@dataclass(frozen=True)
class Feedback:
    """A checker's verdict and its message (shown as the message in a notebook)."""

    correct: bool
    message: str

    def __repr__(self) -> str:
        return self.message


def _number(answer):
    if answer is None:
        return None
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


def check_log_density(answer) -> Feedback:
    """Exercise 1: ``x = exp(z)``, ``z ~ N(0, 1)``; what is ``log p_X(2)``?"""
    truth = -0.5 * math.log(2 * math.pi) - 0.5 * math.log(2.0) ** 2 - math.log(2.0)
    value = _number(answer)
    if value is None:
        return Feedback(False, "Not answered yet: set answer1 to a number. Hint: z = log x, and "
                               "log p_X(x) = log p_Z(z) + log |dz/dx|.")
    if abs(value - truth) > 1e-3:
        hint = (" You have log p_Z(log 2) alone: add log |dz/dx| = -log 2."
                if abs(value - (truth + math.log(2.0))) < 1e-3 else
                " Check the sign of the log-det: dz/dx = 1/x.")
        return Feedback(False, f"Not quite ({value:.4f}).{hint}")
    return Feedback(True, f"Correct: log p(2) = log N(log 2; 0, 1) - log 2 = {truth:.3f}.")


def check_counterfactual(answer) -> Feedback:
    """Exercise 2: ``y := 3 x + 2 u``; the unit ``x = 1, y = 4``; ``y`` had ``x`` been 0?"""
    value = _number(answer)
    if value is None:
        return Feedback(False, "Not answered yet: set answer2 to a number. Hint: abduct u = (y - 3x) / 2 first.")
    if abs(value - 1.0) > 1e-6:
        hint = (" That is E[y | do(x = 0)] for a new unit; keep this unit's noise u = 0.5."
                if abs(value) < 1e-6 else " Abduct u from (x, y) = (1, 4), then recompute y at x = 0.")
        return Feedback(False, f"Not quite ({value:g}).{hint}")
    return Feedback(True, "Correct: u = (4 - 3) / 2 = 0.5, so y' = 3 * 0 + 2 * 0.5 = 1.")


def check_unchanged(answer) -> Feedback:
    """Exercise 3: on the triangle ``x1 -> x2 -> x3, x1 -> x3``, which variables keep their
    factual values in the counterfactual world of ``do(x2 = 1)``? (The intervened one counts
    as changed.)"""
    if answer is None:
        return Feedback(False, "Not answered yet: set answer3 to a list of names, e.g. ['x3']. "
                               "Hint: only descendants of x2 are recomputed.")
    try:
        names = sorted({str(a) for a in ([answer] if isinstance(answer, str) else answer)})
    except TypeError:
        return Feedback(False, "Give a list of variable names, e.g. ['x3'].")
    if names != ["x1"]:
        hint = (" x3 is a child of x2: it is recomputed with its own noise." if "x3" in names else
                " x1 is upstream of x2: nothing downstream can change it.")
        return Feedback(False, f"Not quite ({names}).{hint}")
    return Feedback(True, "Correct: only x1, the non-descendant; x2 is set and x3 is recomputed.")
