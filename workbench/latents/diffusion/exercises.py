"""Checkers for the exercises of notebook 08 (diffusion latents).

Each checker returns a :class:`Verdict` whose text says "Correct", or "Not yet" with a
hint: a blank answer (``None``) or a wrong one is rejected without raising, so the
notebook still runs top to bottom; ``verdict.correct`` is the boolean.

Examples
--------
>>> check_crossover_step(None).correct
False
>>> check_crossover_step(123)
Not yet: at t = 123 the signal coefficient sqrt(alpha_bar_t) = 0.921 still exceeds the noise coefficient 0.389. Hint: find the first t with alpha_bar_t < 0.5.
>>> check_counterfactual_roles({"invert": "abduction", "change z_sem": "action", "decode": "prediction"}).correct
True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.latents.diffusion.autoencoder import inversion_mse
from workbench.latents.diffusion.schedule import NoiseSchedule

__all__ = ["Verdict", "check_crossover_step", "check_counterfactual_roles", "check_inversion_mse"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of a checker: ``correct`` and a message (shown as the repr).

    Examples
    --------
    >>> verdict = Verdict(False, "Not yet: try again.")
    >>> verdict.correct, str(verdict)
    (False, 'Not yet: try again.')
    """

    correct: bool
    message: str

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__


def _blank(hint: str) -> Verdict:
    return Verdict(False, f"Not answered yet: replace None with your answer. Hint: {hint}")


def check_crossover_step(answer) -> Verdict:
    """Exercise 1: the first ``t`` (0-based) at which noise outweighs signal, linear schedule, T = 1000.

    Examples
    --------
    >>> check_crossover_step(None).correct
    False
    >>> check_crossover_step(900)
    Not yet: at t = 900 the signal coefficient sqrt(alpha_bar_t) = 0.016 is already below the noise coefficient 1.000. Hint: find the first t with alpha_bar_t < 0.5.
    >>> check_crossover_step("soon").correct
    False
    """
    hint = "find the first t with alpha_bar_t < 0.5."
    if answer is None:
        return _blank(hint)
    a = NoiseSchedule.linear(1000).alpha_bar
    truth = int((a < 0.5).nonzero()[0])
    try:
        t = int(answer)
    except (TypeError, ValueError):
        return Verdict(False, f"Not yet: give an integer timestep, got {answer!r}. Hint: {hint}")
    if t == truth:
        return Verdict(True, f"Correct: from t = {t} on, sqrt(1 - alpha_bar_t) > sqrt(alpha_bar_t).")
    if not 0 <= t < 1000:
        return Verdict(False, f"Not yet: timesteps run from 0 to 999, got {t}. Hint: {hint}")
    s, n = float(a[t].sqrt()), float((1 - a[t]).sqrt())
    side = "still exceeds" if s > n else "is already below"
    return Verdict(False, f"Not yet: at t = {t} the signal coefficient sqrt(alpha_bar_t) = {s:.3f} {side} "
                          f"the noise coefficient {n:.3f}. Hint: {hint}")


ROLES = {"invert": "abduction", "change z_sem": "action", "decode": "prediction"}


def check_counterfactual_roles(answer) -> Verdict:
    """Exercise 2: map the three operations of a diffusion edit onto abduction / action / prediction.

    Examples
    --------
    >>> check_counterfactual_roles({"invert": "action", "change z_sem": "abduction",
    ...                             "decode": "prediction"}).correct
    False
    >>> check_counterfactual_roles(["abduction", "action", "prediction"]).message[:46]
    "Not yet: give a dict with the keys ['change z_"
    """
    hint = "which step recovers the exogenous noise of an observation, which changes a cause, which computes the effect?"
    if answer is None:
        return _blank(hint)
    if not isinstance(answer, dict) or set(answer) != set(ROLES):
        return Verdict(False, f"Not yet: give a dict with the keys {sorted(ROLES)}. Hint: {hint}")
    wrong = [k for k, v in ROLES.items() if str(answer[k]).strip().lower() != v]
    if wrong:
        return Verdict(False, f"Not yet: {', '.join(repr(k) for k in wrong)} "
                              f"{'is' if len(wrong) == 1 else 'are'} not right. Hint: {hint}")
    return Verdict(True, "Correct: inversion is abduction (x_T is the noise that reproduces x_0), editing "
                         "z_sem is the action, decoding with the same x_T is the prediction.")


def check_inversion_mse(answer, model, images: torch.Tensor, steps: int) -> Verdict:
    """Exercise 3: the per-pixel MSE of invert-then-decode at ``steps`` steps (within 2%).

    Examples
    --------
    With the exact Gaussian toy model as the "trained" model:

    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(image_shape=(1, 4, 4), num_steps=100)
    >>> images = 0.4 + 0.2 * torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    >>> truth = inversion_mse(toy, images, steps=5)
    >>> check_inversion_mse(truth, toy, images, steps=5).correct
    True
    >>> check_inversion_mse(2 * truth, toy, images, steps=5).correct
    False
    >>> check_inversion_mse(None, toy, images, steps=5).correct
    False
    """
    hint = f"wd.autoencoder.inversion_mse(model, images, steps={steps}), or invert and decode by hand."
    if answer is None:
        return _blank(hint)
    truth = inversion_mse(model, images, steps=steps)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return Verdict(False, f"Not yet: give a number, got {answer!r}. Hint: {hint}")
    if abs(value - truth) <= 0.02 * truth + 1e-9:
        return Verdict(True, f"Correct: {truth:.2e} at S = {steps}; compare the DDIM paper's CIFAR-10 numbers.")
    return Verdict(False, f"Not yet: {value:.3g} is not the MSE at S = {steps}. Did you compare images in "
                          f"[0, 1], with z_sem as the condition both ways? Hint: {hint}")
