"""Exercises of notebook 11 (counterfactual image generation); each truth is computed here.

Examples
--------
>>> from workbench.exercises import check
>>> check("11", 1, 200.0)
Not yet: 200 is the factual intensity: ...
>>> check("11", 2, "b")
Correct: the unchanged image obeys every axiom ...
"""

from __future__ import annotations

import torch

from workbench.exercises._answers import choose, close, number
from workbench.exercises.registry import Wrong, register

__all__ = []

UNIT = {"digit": 3.0, "thickness": 2.0, "slant": 0.0, "intensity": 200.0}


@register("11", 1, answers=("intensity_answer",),
          solution="import math\n"
                   "u_i = math.log((200 - 64) / (255 - 200)) - 2 * (2.0 - 2.5)   # abduction\n"
                   "intensity_answer = 64 + 191 / (1 + math.exp(-(2 * (3.0 - 2.5) + u_i)))   # action, prediction",
          blank="set intensity_answer to the digit's intensity under do(thickness = 3.0), in grey levels.")
def _intensity_follows(answer):
    from workbench.metrics.soundness import DigitsGroundTruth

    unit = {k: torch.tensor([v]) for k, v in UNIT.items()}
    truth = float(DigitsGroundTruth().parents_after(unit, {"thickness": torch.tensor([3.0])})["intensity"][0])
    answer = number(answer, "intensity_answer")
    if abs(answer - UNIT["intensity"]) < 0.05:
        raise Wrong("200 is the factual intensity: thickness causes intensity, so do(thickness) moves it "
                    "too, through this digit's own noise U_i.")
    if abs(answer - (64 + 191 / (1 + torch.exp(torch.tensor(-1.0)).item()))) < 0.05:
        raise Wrong("that is the intensity of a digit with U_i = 0 (an average unit); abduct this digit's "
                    "U_i = logit((200 - 64) / 191) - 2 (2.0 - 2.5) first.")
    close(answer, truth, 0.05, "intensity_answer",
          "abduct U_i = logit((i - 64) / 191) - 2 (t - 2.5) from t = 2.0, i = 200; then "
          "i' = 64 + 191 sigmoid(2 (3.0 - 2.5) + U_i).")
    return f"the thicker digit is brighter too: {truth:.2f} grey levels (same U_i, new thickness)."


_CLAIMS = {
    "a": "the unchanged image is a sound counterfactual generator",
    "b": "the axioms cannot see a generator that ignores the intervention; effectiveness and the "
         "ground truth can",
    "c": "composition needs more than 10 cycles to reveal the error",
    "d": "the exact mechanism and the unchanged image are equally good",
}


@register("11", 2, answers=("claim_answer",), solution='claim_answer = "b"',
          blank="set claim_answer to a letter a-d.")
def _what_axioms_miss(answer):
    return ("the unchanged image obeys every axiom (composition, reversibility and commutativity all 0) "
            "and is no counterfactual at all: " + choose(answer, _CLAIMS, right="b", hints={
                "a": "it scores 0 drift, but after do(thickness = t*) its thickness is still the factual one.",
                "c": "its drift is exactly 0 after any number of cycles: returning the input never drifts.",
                "d": "compare their pixel L1 to the exact counterfactual in the table.",
            }) + ".")


@register("11", 3, answers=("within_answer",),
          solution="from workbench.deepscm.evaluation import draw_targets, evaluation_digits\n"
                   "images, parents = evaluation_digits(1000, seed=2026)\n"
                   "targets = draw_targets(parents, seed=2026)\n"
                   "t, t_star = parents[\"thickness\"], targets[\"thickness\"]\n"
                   "within_answer = float(((t - t_star).abs() <= 0.1 * t_star).float().mean())",
          blank="set within_answer to a fraction in [0, 1].")
def _unchanged_effectiveness(answer):
    from workbench.deepscm.evaluation import draw_targets, evaluation_digits

    _, parents = evaluation_digits(1000, seed=2026)
    t, t_star = parents["thickness"], draw_targets(parents, seed=2026)["thickness"]
    truth = float(((t - t_star).abs() <= 0.1 * t_star).float().mean())
    answer = number(answer, "within_answer")
    if not 0.0 <= answer <= 1.0:
        raise Wrong(f"within_answer is a fraction of the digits, so it lies in [0, 1]; got {answer:g}. "
                    "A percentage? Divide by 100.")
    if answer < 1e-6:
        raise Wrong("not zero: where the factual thickness already lies within 10% of t*, doing "
                    "nothing counts as effective.")
    if abs(answer - 1.0) < 1e-6:
        raise Wrong("that would make doing nothing perfectly effective; compare each digit's own "
                    "thickness with its t*.")
    close(answer, truth, 0.002, "within_answer",
          "the unchanged image keeps each digit's thickness: count |t - t*| <= 0.1 t* over the 1,000 "
          "test digits of evaluation_digits(1000, seed=2026) and draw_targets(parents, seed=2026).")
    return f"{truth:.3f}: the floor any mechanism must beat on effectiveness (the goal is 0.9)."

from workbench.exercises import pendulum_counterfactuals  # noqa: E402,F401  (exercise 4: the pendulum)
