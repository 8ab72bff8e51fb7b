"""Effectiveness: does the counterfactual show the intervened value? Measured by predictors.

Monteiro et al. (ICLR 2023, ``identifiability_tests.py``, ``effectiveness_test``) and Melistas
et al. (NeurIPS 2024, ``evaluation/metrics/effectiveness.py``) train an anti-causal predictor
("pseudo-oracle") of each parent from images, generate ``do(pa*)`` counterfactuals, and score
every parent's predictor on them against the counterfactual's intended parents: the mean
absolute error for a continuous parent (in its own units), the accuracy (argmax equals the
target class) for a categorical one. Any callable is a predictor here, a trained classifier
or an exact measurement.

Examples
--------
>>> import torch
>>> brightness = lambda images, parents: 255 * images.flatten(1).amax(1)   # an exact predictor
>>> paint = lambda images, parents, do: (do["intensity"] / 255).view(-1, 1, 1, 1).expand_as(images)
>>> x, pa = torch.full((2, 1, 2, 2), 0.5), {"intensity": torch.tensor([127.5, 127.5])}
>>> effectiveness(paint, x, pa, {"intensity": 200.0}, {"intensity": brightness}).scores
{'intensity_absolute_error': 0.0}
"""

from __future__ import annotations

from typing import Callable, Collection, Mapping

import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError
from workbench.metrics.errors import MetricInputError
from workbench.metrics.result import MetricResult
from workbench.metrics.soundness.generators import (
    ParentsAfter, apply_interventions, check_images, check_interventions, check_parents,
    run_generator,
)

__all__ = ["effectiveness", "predictor_scores"]

#: ``predictor(images, parents) -> Tensor``: ``(n,)`` values, or ``(n, K)`` class scores
Predictor = Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]


def _prediction(predictor, images, parents, name, categorical):
    with torch.no_grad():
        out = torch.as_tensor(predictor(images, dict(parents)))
    n = len(images)
    if categorical and out.dim() == 2 and out.shape[0] == n:
        out = out.argmax(1)
    if out.shape != (n,):
        raise ShapeError(f"the predictor of {name!r} returned shape {tuple(out.shape)}; it must "
                         f"return ({n},) values" + (f" or ({n}, K) class scores." if categorical else "."))
    if not torch.isfinite(out.float()).all():
        raise NonFiniteValueError(f"the predictor of {name!r} returned NaN or infinite values.")
    return out.float()


def predictor_scores(images, targets: Mapping[str, torch.Tensor], predictors: Mapping[str, Predictor],
                     categorical: Collection[str] = ()) -> dict[str, torch.Tensor]:
    """Per-image error of each predictor on ``images``: ``|target - prediction|``, or for a
    categorical parent ``prediction == target`` (1.0 or 0.0); keys ``{name}_absolute_error``
    and ``{name}_accuracy``.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(2, 1, 1, 1)
    >>> predictor_scores(x, {"d": torch.tensor([0.0, 1.0])}, {"d": lambda x, p: torch.eye(2)[[0, 0]]}, ["d"])
    {'d_accuracy': tensor([1., 0.])}
    """
    if not isinstance(predictors, Mapping) or not predictors:
        raise MetricInputError("predictors must be a non-empty dict {parent: predictor(images, parents)}.")
    for name in list(predictors) + list(categorical):
        if name not in targets:
            raise UnknownVariableError(name, targets, what="parent")
    out = {}
    for name, predictor in predictors.items():
        is_categorical = name in categorical
        prediction = _prediction(predictor, images, targets, name, is_categorical).to(targets[name].device)
        if is_categorical:
            out[f"{name}_accuracy"] = (prediction.round() == targets[name].round()).float()
        else:
            out[f"{name}_absolute_error"] = (targets[name] - prediction).abs()
    return out


def effectiveness(generator, images, parents, interventions, predictors: Mapping[str, Predictor],
                  categorical: Collection[str] = (),
                  parents_after: ParentsAfter = apply_interventions) -> MetricResult:
    """Each predictor's error on ``do(interventions)`` counterfactuals against the intended parents.

    The intended parents are ``parents_after(parents, interventions)`` (default: the
    intervened values, the others factual, as Monteiro et al.; pass a mechanism-following
    one, e.g. :meth:`.DigitsGroundTruth.parents_after`, for Melistas et al.'s, whose
    targets are the SCM's counterfactual parents). A generator that ignores the intervention
    scores what the factual image scores: for a categorical parent intervened to another
    class (Melistas et al. force a change), accuracy 0.

    Parameters
    ----------
    predictors : dict
        ``{parent: predictor(images, parents) -> (n,) values or (n, K) class scores}``; the
        predictor sees the intended parents too (Melistas et al.'s thickness predictor reads
        the intensity).
    categorical : collection of str
        Parents scored by accuracy instead of absolute error.

    Returns
    -------
    MetricResult
        ``scores``: ``{name}_absolute_error`` or ``{name}_accuracy`` per predictor; ``score``:
        the first intervened parent's. ``details["factual"]``: the same scores on the factual
        images (the cost of not changing anything); ``details["per_image"]``.

    Examples
    --------
    >>> import torch
    >>> ignore = lambda images, parents, interventions: images
    >>> digit = lambda images, parents: torch.eye(10)[images.flatten(1)[:, 0].long()]
    >>> x, pa = torch.zeros(3, 1, 1, 1), {"digit": torch.zeros(3)}
    >>> r = effectiveness(ignore, x, pa, {"digit": torch.tensor([1.0, 2.0, 3.0])}, {"digit": digit}, ["digit"])
    >>> float(r), r.details["factual"]
    (0.0, {'digit_accuracy': 0.0})
    """
    images = check_images(images)
    parents = check_parents(parents, len(images))
    interventions = check_interventions(interventions, parents)
    if not interventions:
        raise MetricInputError("effectiveness needs a non-empty intervention, e.g. {'thickness': 3.0}.")
    targets = check_parents(parents_after(parents, interventions), len(images))
    counterfactuals = run_generator(generator, images, parents, interventions)
    per_image = predictor_scores(counterfactuals, targets, predictors, categorical)
    factual = predictor_scores(images, targets, predictors, categorical)
    scores = {k: float(v.mean()) for k, v in per_image.items()}
    keys = [f"{name}_accuracy" if name in categorical else f"{name}_absolute_error"
            for name in interventions]
    headline = next((k for k in keys if k in scores), next(iter(scores)))
    return MetricResult("effectiveness", scores[headline],
                        choices={"intervened": sorted(interventions), "headline": headline,
                                 "categorical": sorted(categorical)},
                        scores=scores,
                        details={"per_image": per_image, "targets": targets,
                                 "factual": {k: float(v.mean()) for k, v in factual.items()}})
