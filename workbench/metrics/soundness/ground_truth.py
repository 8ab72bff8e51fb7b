"""What no published benchmark can measure: the error against the exact counterfactual.

On real images the true counterfactual is unknown, hence the axioms. Our data sets draw
every image from a known SCM, so the twin world is exact: :class:`DigitsGroundTruth`
abducts a digit's noise from its factors, applies ``do(...)`` and renders the result
(a :class:`.CounterfactualGenerator` itself, and a perfect one). :func:`ground_truth_error`
scores any generator against it: the pixel L1 to the true counterfactual (0-255, as
:func:`.pixel_l1`), beside the factual image's L1 to it (the cost of changing nothing), and
each factor's error as measured by the given predictors.

Examples
--------
>>> truth = DigitsGroundTruth()
>>> images, parents = truth.sample(4, generator=0)
>>> r = ground_truth_error(truth, images, parents, {"thickness": 3.0}, truth)
>>> r.score, r.scores["factual_l1"] > 0
(0.0, True)
"""

from __future__ import annotations

from typing import Collection, Mapping

import torch

from workbench.datasets.digits import Digits
from workbench.errors import UnknownVariableError
from workbench.metrics.errors import MetricInputError
from workbench.metrics.result import MetricResult
from workbench.metrics.soundness.effectiveness import predictor_scores
from workbench.metrics.soundness.generators import (
    apply_interventions, check_images, check_interventions, check_parents, pixel_l1, run_generator,
)

__all__ = ["DigitsGroundTruth", "ground_truth_error"]


class DigitsGroundTruth:
    """Exact counterfactuals of :class:`workbench.datasets.Digits` (thickness -> intensity).

    Abduction is exact because every mechanism is invertible in its noise: the roots are
    their own noise (``U_t = thickness - 0.5``) and ``U_i = logit((i - 64) / 191) - 2 (t - 2.5)``.
    ``do(thickness)`` therefore changes the intensity too, through the unit's own ``U_i``.
    Parents: ``digit`` (class index), ``thickness``, ``slant``, ``intensity`` (grey levels).

    Examples
    --------
    >>> import torch
    >>> truth = DigitsGroundTruth()
    >>> pa = {"digit": torch.tensor([3.0]), "thickness": torch.tensor([2.5]),
    ...       "slant": torch.tensor([0.0]), "intensity": torch.tensor([159.5])}
    >>> round(float(truth.parents_after(pa, {"thickness": torch.tensor([3.0])})["intensity"][0]), 2)
    203.63
    >>> truth(None, pa, {"digit": torch.tensor([8.0])}).shape
    torch.Size([1, 1, 32, 32])
    """

    def __init__(self, dataset: Digits | None = None):
        self.dataset = dataset if dataset is not None else Digits()
        self.scm = self.dataset.scm

    def abduct(self, parents: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The exogenous noise of each unit, from its four factors."""
        missing = [v for v in self.scm.variables if v not in parents]
        if missing:
            raise UnknownVariableError(missing[0], list(parents), what="parent")
        n = len(torch.as_tensor(parents["digit"]).reshape(-1))
        pa = check_parents({v: torch.as_tensor(parents[v]).cpu() for v in self.scm.variables}, n)
        s = (pa["intensity"].double() - 64.0) / 191.0
        if bool(((s < 0) | (s > 1)).any()):
            raise MetricInputError("intensity must lie in [64, 255] grey levels, the range of the "
                                   "digits' intensity mechanism.")
        u_i = torch.logit(s) - 2.0 * (pa["thickness"].double() - 2.5)
        return {"digit": pa["digit"], "slant": pa["slant"], "thickness": pa["thickness"] - 0.5,
                "intensity": u_i.float()}

    def parents_after(self, parents, interventions) -> dict[str, torch.Tensor]:
        """The counterfactual's factors: same noise, ``do(interventions)``, mechanisms solved
        (on the device of ``parents``)."""
        device = torch.as_tensor(next(iter(parents.values()))).device
        done = {k: torch.as_tensor(v).cpu() for k, v in dict(interventions).items()}
        return {k: v.to(device) for k, v in self.scm.solve(self.abduct(parents), done).items()}

    def __call__(self, images, parents, interventions) -> torch.Tensor:
        """The exact counterfactual images (``images`` is not needed: the factors determine it;
        if given, the result is on its device)."""
        after = {k: v.cpu() for k, v in self.parents_after(parents, interventions).items()}
        out = self.scm.render(after)
        return out.to(images.device) if isinstance(images, torch.Tensor) else out

    def sample(self, n: int, generator=None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``n`` observational digits (images in [0, 1]) and their factors."""
        return self.scm.sample(n, generator=generator)


def ground_truth_error(generator, images, parents, interventions, truth,
                       predictors: Mapping | None = None, categorical: Collection[str] = ()) -> MetricResult:
    """Pixel L1 of ``generator``'s counterfactual to the exact one, and each factor's error.

    Parameters
    ----------
    truth : CounterfactualGenerator
        The exact counterfactual, e.g. :class:`DigitsGroundTruth`; its ``parents_after``
        (if it has one) gives the true counterfactual factors.
    predictors : dict, optional
        ``{parent: predictor(images, parents)}`` as in :func:`.effectiveness`: each factor's
        error on the generated counterfactual against the true factor
        (``{name}_absolute_error``, ``{name}_accuracy``); the predictor's own error on the true
        render, its floor, is in ``details["floor"]``.

    Returns
    -------
    MetricResult
        ``score``: the mean pixel L1 (0-255) to the true counterfactual; ``scores`` also holds
        ``factual_l1``, the factual image's L1 to it (leaving the image unchanged).

    Examples
    --------
    >>> import torch
    >>> truth = DigitsGroundTruth()
    >>> images, parents = truth.sample(3, generator=0)
    >>> ignore = lambda images, parents, interventions: images
    >>> r = ground_truth_error(ignore, images, parents, {"thickness": 4.0}, truth)
    >>> r.score == r.scores["factual_l1"]
    True
    """
    images = check_images(images)
    parents = check_parents(parents, len(images))
    interventions = check_interventions(interventions, parents)
    true_images = run_generator(truth, images, parents, interventions)
    generated = run_generator(generator, images, parents, interventions)
    per_image = {"pixel_l1": pixel_l1(generated, true_images),
                 "factual_l1": pixel_l1(images, true_images)}
    floor = {}
    if predictors:
        after = getattr(truth, "parents_after", apply_interventions)
        targets = check_parents(after(parents, interventions), len(images))
        per_image.update(predictor_scores(generated, targets, predictors, categorical))
        floor = {k: float(v.mean()) for k, v in
                 predictor_scores(true_images, targets, predictors, categorical).items()}
    scores = {k: float(v.mean()) for k, v in per_image.items()}
    return MetricResult("ground_truth_error", scores["pixel_l1"],
                        choices={"intervened": sorted(interventions)}, scores=scores,
                        details={"per_image": per_image, "floor": floor})
