"""Exercises of notebook 05 (counterfactuals); the truth is computed from the stated models.

Examples
--------
>>> from workbench.exercises import check
>>> check("05", 2, 0.2)
Not yet: 0.2 is P(y = 1 | do(x = 0)) for the whole population; ...
"""

from __future__ import annotations

import torch

from workbench.exercises._answers import choose, close, number
from workbench.exercises.registry import Wrong, register

__all__ = []


@register("05", 1, answers=("y_cf_answer",),
          solution="u_m, u_y = 0.4 - 0.5 * 2, 0.1 - (3 * 0.4 - 2)   # abduction\n"
                   "y_cf_answer = 3 * (0.5 * 0 + u_m) - 0 + u_y       # action and prediction",
          blank="set y_cf_answer to the unit's y under do(x = 0), a number.")
def _chain_counterfactual(answer):
    from workbench.scm import SCM, LinearGaussian

    chain = SCM({"x": LinearGaussian(), "m": LinearGaussian({"x": 0.5}),
                 "y": LinearGaussian({"m": 3.0, "x": -1.0})})
    unit = {"x": torch.tensor([2.0]), "m": torch.tensor([0.4]), "y": torch.tensor([0.1])}
    truth = float(chain.counterfactual(unit, {"x": 0.0}).counterfactual["y"])
    answer = number(answer, "y_cf_answer")
    if abs(answer) < 1e-6:
        raise Wrong("0 is the population's mean under do(x = 0); this unit keeps its own noises "
                    "u_m and u_y. Abduct them from x = 2, m = 0.4, y = 0.1 first.")
    close(answer, truth, 1e-5, "y_cf_answer",
          "abduct u_m = m - 0.5 x and u_y = y - (3 m - x); then set x = 0, recompute m with "
          "the same u_m, and y with the same u_y.")
    return f"y would have been {truth:.3f}."


@register("05", 2, answers=("p_answer",), solution="p_answer = 0.2 / 0.6   # p0 / p1",
          blank="set p_answer to a probability.")
def _still_one(answer):
    p0, p1 = 0.2, 0.6
    answer = number(answer, "p_answer")
    if abs(answer - p0) < 1e-6:
        raise Wrong("0.2 is P(y = 1 | do(x = 0)) for the whole population; this unit is known "
                    "to have y = 1 under x = 1. Condition on that.")
    close(answer, p0 / p1, 0.005, "p_answer",
          "the Gumbel noise that gives y = 1 at x = 0 is a subset of the noise giving y = 1 at "
          "x = 1: divide P(y_0 = 1) by P(y_1 = 1).")
    return f"P(y_(x=0) = 1 | x = 1, y = 1) = p0 / p1 = {p0 / p1:.3f}."


_WHY = {
    "a": "units with x > 1 respond more strongly to a change of x",
    "b": "setting x to 0 changes each unit's y by -1.5 x (the mechanism is linear), and x is "
         "symmetric around 0, so the two groups' mean x are equal and opposite",
    "c": "z confounds x and y, which biases the effect among the treated",
}


@register("05", 3, answers=("ratio_answer", "why_3"),
          solution='ratio_answer = -1.0\nwhy_3 = "b"',
          blank="set ratio_answer to a number and why_3 to a letter a-c.")
def _ett_ratio(ratio, why):
    ratio = number(ratio, "ratio_answer")
    if abs(ratio - 1.0) < 0.05:
        raise Wrong("the sizes are equal, but look at the signs: for units with x > 1 setting x "
                    "to 0 lowers y, for x < -1 it raises y.")
    close(ratio, -1.0, 0.05, "ratio_answer",
          "each unit's effect of setting x to 0 is -1.5 x; compare E[x | x > 1] with E[x | x < -1] "
          "for a Gaussian x centred at 0.")
    return "equal in size and opposite in sign, and " + choose(why, _WHY, right="b", hints={
        "a": "every unit has the same slope 1.5: the mechanism is linear.",
        "c": "a counterfactual keeps each unit's own z, so confounding does not bias it.",
    }) + "."
