"""Exercise 4 of notebook 11: the pendulum's counterfactual shadow under do(light), by hand.

Registered with notebook 11's exercises (:mod:`workbench.exercises.counterfactual_images`
imports this module); the truth is computed here from the pendulum's own equations.

Examples
--------
>>> from workbench.exercises import check
>>> check("11", 4, 11.1)
Not yet: 11.1 is the factual position: ...
"""

from __future__ import annotations

import math

from workbench.exercises._answers import close, number
from workbench.exercises.registry import Wrong, register

__all__ = []

#: the unit of the exercise: a pendulum at theta = -0.3 under a light at phi = 1.9
UNIT = {"theta": -0.3, "phi": 1.9, "shadow_length": 6.1, "shadow_position": 11.1}
TARGET_PHI = 1.2


def _position(theta: float, phi: float, u_p: float = 0.0) -> float:
    cot = math.cos(phi) / math.sin(phi)
    return 10.0 - 11.0 * cot + 9.5 * (math.sin(theta) + math.cos(theta) * cot) / 2 + u_p


@register("11", 4, answers=("position_answer",),
          solution="import math\n"
                   "def shadow_centre(theta, phi):   # 10 - 11 cot(phi) + s / 2, s = 9.5 (sin theta + cos theta cot phi)\n"
                   "    cot = 1 / math.tan(phi)\n"
                   "    return 10 - 11 * cot + 9.5 * (math.sin(theta) + math.cos(theta) * cot) / 2\n"
                   "u_p = 11.1 - shadow_centre(-0.3, 1.9)                       # abduction\n"
                   "position_answer = shadow_centre(-0.3, 1.2) + u_p            # action, prediction",
          blank="set position_answer to the shadow's position under do(phi = 1.2), in world units.")
def _shadow_follows_the_light(answer):
    u_p = UNIT["shadow_position"] - _position(UNIT["theta"], UNIT["phi"])
    truth = _position(UNIT["theta"], TARGET_PHI, u_p)
    answer = number(answer, "position_answer")
    if abs(answer - UNIT["shadow_position"]) < 0.01:
        raise Wrong("11.1 is the factual position: phi causes the shadow, so do(phi) moves it, through "
                    "this pendulum's own noise U_p (the pendulum itself stays where it is).")
    if abs(answer - _position(UNIT["theta"], TARGET_PHI)) < 0.01:
        raise Wrong("that is the shadow of an average unit (U_p = 0); abduct this pendulum's "
                    "U_p = 11.1 - (10 - 11 cot 1.9 + s/2) first.")
    if abs(answer - _position(TARGET_PHI, UNIT["phi"], u_p)) < 0.01:
        raise Wrong("that moves the pendulum to theta = 1.2; the intervention sets the light, phi = 1.2, "
                    "and theta keeps its factual -0.3.")
    close(answer, truth, 0.01, "position_answer",
          "abduct U_p = 11.1 - (10 - 11 cot(1.9) + s/2) with s = 9.5 (sin(-0.3) + cos(-0.3) cot(1.9)); then "
          "recompute the centre with phi = 1.2 and add the same U_p.")
    return (f"the shadow moves to {truth:.2f} (from 11.1) with the same U_p = {u_p:+.2f}; theta, the "
            "pendulum, is not downstream of the light and keeps -0.3.")
