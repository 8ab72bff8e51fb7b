"""Exercises of notebook 10 (causal representation learning); each truth is computed here.

Examples
--------
>>> from workbench.exercises import check
>>> check("10", 1, 1.0)
Not yet: the likelihood is unchanged, but the codes are not the latents: ...
>>> check("10", 3, {"theta", "phi", "shadow_position"})
Correct: only shadow_length is set; its causes keep their values and shadow_position has no arrow from it.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.exercises._answers import close, names, number
from workbench.exercises.registry import Wrong, register

__all__ = []


@register("10", 1, answers=("mcc_answer",),
          solution="mcc_answer = math.cos(math.pi / 4)   # each rotated code correlates cos 45 deg with either latent",
          blank="set mcc_answer to the MCC of the 45-degree-rotated codes, a number in [0, 1].")
def _rotation_mcc(answer):
    answer = number(answer, "mcc_answer")
    if abs(answer - 1.0) < 1e-3:
        raise Wrong("the likelihood is unchanged, but the codes are not the latents: each rotated "
                    "code is (z0 + z1) / sqrt(2) or (z1 - z0) / sqrt(2). Correlate it with z0.")
    if abs(answer - 0.5) < 1e-3:
        raise Wrong("0.5 is cos^2 45 deg, a squared correlation (an R^2 of one latent); MCC averages "
                    "absolute correlations.")
    close(answer, math.cos(math.pi / 4), 0.01, "mcc_answer",
          "for independent unit-variance z0, z1, corr((z0 + z1) / sqrt(2), z0) = 1 / sqrt(2); "
          "every matching gives the same.")
    return "every rotated code correlates 1/sqrt(2) = 0.707 with each latent, and R^2 stays 1."


@register("10", 2, answers=("rank_answer",),
          solution="rank_answer = 2   # c^2 e0 e0^T - b0 b0^T with b0 = (2, 1): two directions",
          blank="set rank_answer to the rank of Theta_k - Theta_0, a whole number.")
def _rank_of_difference(answer):
    answer = number(answer, "rank_answer")
    B0 = np.array([[2.0, 1.0], [0.0, 3.0]])
    difference = 7.0 ** 2 * np.outer([1, 0], [1, 0]) - np.outer(B0[0], B0[0])
    truth = int(np.linalg.matrix_rank(difference))
    if answer == 1:
        raise Wrong("rank one is the signature of a *source*; z0 has the parent z1, so row b0 = (2, 1) "
                    "is not a multiple of e0 and the difference has two directions.")
    if answer != truth:
        raise Wrong("write Theta_k - Theta_0 = H^T (c^2 e0 e0^T - b0 b0^T) H and count independent "
                    "directions (H is invertible here).")
    return "two: the rows e0 and b0 = (2, 1) differ in direction; project out z1's direction and it is rank one."


@register("10", 3, answers=("unchanged_answer",),
          solution='unchanged_answer = {"theta", "phi", "shadow_position"}',
          blank="set unchanged_answer to a set of factor names, e.g. {'theta'}.")
def _unchanged_by_shadow(answer):
    given = names(answer, "unchanged_answer")
    if "shadow_length" in given:
        raise Wrong("shadow_length is the intervened factor: it is set to 8, so it changes.")
    if given == {"theta", "phi"}:
        raise Wrong("look at shadow_position's parents in the graph: theta and phi only. Setting "
                    "the length leaves it alone.")
    if given != {"theta", "phi", "shadow_position"}:
        raise Wrong("use the names theta, phi, shadow_length, shadow_position; an intervention "
                    f"changes only the target and its descendants (got {sorted(given)}).")
    return ("only shadow_length is set; its causes keep their values and shadow_position has no "
            "arrow from it.")
