"""Exercises of notebook 07 (normalizing flows); the truth is computed from the stated models.

Examples
--------
>>> from workbench.exercises import check
>>> check("07", 2, 0.0)
Not yet: 0 is E[y | do(x = 0)] for a new unit; this unit keeps its own noise. ...
>>> check("07", 3, ["x1"])
Correct: only x1, upstream of x2, keeps its value; x2 is set and x3 is recomputed.
"""

from __future__ import annotations

import math

from workbench.exercises._answers import close, names, number
from workbench.exercises.registry import Wrong, register

__all__ = []


@register("07", 1, answers=("log_p_answer",),
          solution="z = math.log(2.0)                                 # z = g^-1(x) = log x\n"
                   "log_p_answer = -0.5 * math.log(2 * math.pi) - 0.5 * z ** 2 - math.log(2.0)",
          blank="set log_p_answer to log p_X(2), a number.")
def _change_of_variables(answer):
    z = math.log(2.0)
    truth = -0.5 * math.log(2 * math.pi) - 0.5 * z ** 2 - math.log(2.0)
    answer = number(answer, "log_p_answer")
    if abs(answer - (truth + math.log(2.0))) < 1e-3:
        raise Wrong("that is log p_Z(log 2) alone: add the log-derivative log |dz/dx| = log(1/2).")
    if abs(answer - (truth + 2 * math.log(2.0))) < 1e-3:
        raise Wrong("check the sign of the log-derivative: z = log x, so dz/dx = 1/x and "
                    "log |dz/dx| = -log 2.")
    close(answer, truth, 1e-3, "log_p_answer",
          "z = log x; log p_X(x) = log N(z; 0, 1) + log |dz/dx|, at x = 2.")
    return f"log p_X(2) = log N(log 2; 0, 1) - log 2 = {truth:.3f}."


@register("07", 2, answers=("y_cf_answer",),
          solution="u = (4.0 - 3 * 1.0) / 2        # abduction: invert y = 3x + 2u\n"
                   "y_cf_answer = 3 * 0.0 + 2 * u  # action x = 0, prediction with the same u",
          blank="set y_cf_answer to the unit's y had x been 0, a number.")
def _flow_counterfactual(answer):
    answer = number(answer, "y_cf_answer")
    if abs(answer) < 1e-6:
        raise Wrong("0 is E[y | do(x = 0)] for a new unit; this unit keeps its own noise. "
                    "Abduct u from x = 1, y = 4 first.")
    if abs(answer - 4.0) < 1e-6:
        raise Wrong("that is the factual y; under do(x = 0) the term 3x changes.")
    close(answer, 1.0, 1e-6, "y_cf_answer",
          "abduct u = (y - 3x) / 2 at (x, y) = (1, 4), then recompute y = 3x + 2u at x = 0.")
    return "u = (4 - 3) / 2 = 0.5, so y would have been 3 * 0 + 2 * 0.5 = 1."


@register("07", 3, answers=("unchanged_answer",),
          solution='unchanged_answer = ["x1"]   # compare: [v for v in cnf.variables\n'
                   '                            #  if v != "x2" and v not in cnf.descendants("x2")]',
          blank="set unchanged_answer to a list of variable names, e.g. ['x3'].")
def _unchanged_by_do(answer):
    given = names(answer, "unchanged_answer")
    if "x3" in given:
        raise Wrong("x3 is a child of x2: a do on x2 recomputes it from its own abducted noise.")
    if "x2" in given:
        raise Wrong("x2 is the intervened variable: its value is set to 1, so it counts as changed.")
    if given != {"x1"}:
        raise Wrong("x1 is upstream of x2: nothing downstream of it can change its value. "
                    f"Use the names x1, x2, x3 (got {sorted(given)}).")
    return "only x1, upstream of x2, keeps its value; x2 is set and x3 is recomputed."
from workbench.exercises import domain_counterfactuals as _domain_counterfactuals  # noqa: E402,F401  (07.4)
