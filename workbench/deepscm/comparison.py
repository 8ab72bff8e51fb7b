"""One digit's counterfactuals side by side: factual, each generator's, and the exact one.

What the counterfactual explorer (:mod:`workbench.widgets.counterfactual_images`) shows:
for a few digits and one ``do(...)``, every image with its scores, the pixel L1 to the
exact counterfactual (grey levels, 0-255) and the thickness and intensity our exact
morphometrics measure on it.

Examples
--------
>>> from workbench.deepscm import IntensityScaling
>>> from workbench.deepscm.evaluation import evaluation_digits
>>> images, parents = evaluation_digits(2, seed=0)
>>> out = compare_counterfactuals({"toy": IntensityScaling()}, images, parents, {"intensity": 250.0})
>>> list(out)
['factual', 'toy', 'ground truth']
>>> out["ground truth"]["truth_l1"].tolist()
[0.0, 0.0]
"""

from __future__ import annotations

from typing import Mapping

import torch

from workbench.deepscm.evaluation import as_generator
from workbench.metrics.soundness import DigitsGroundTruth, digit_morphometrics, pixel_l1
from workbench.metrics.soundness.generators import check_images, check_interventions

__all__ = ["compare_counterfactuals"]


def compare_counterfactuals(generators: Mapping, images, parents, interventions, truth=None,
                            measure=None) -> dict[str, dict[str, torch.Tensor]]:
    """``{label: {"image", "truth_l1", "thickness", "intensity"}}`` for the factual images, each
    generator's counterfactuals and the ground truth, in that order (each value ``(n, ...)``).

    Parameters
    ----------
    generators : dict
        ``{name: ImageMechanism or generator}`` (see :func:`.evaluation.as_generator`).
    images, parents : the factual digits and their four factors.
    interventions : dict
        ``do(...)`` on thickness and/or intensity (the others follow the digits' SCM).

    Examples
    --------
    >>> from workbench.deepscm import IntensityScaling
    >>> from workbench.deepscm.evaluation import evaluation_digits
    >>> images, parents = evaluation_digits(3, seed=1)
    >>> out = compare_counterfactuals({"toy": IntensityScaling()}, images, parents, {"thickness": 4.0})
    >>> bool((out["toy"]["truth_l1"] > 0).all())       # the toy ignores thickness: wrong
    True
    >>> bool((out["ground truth"]["thickness"] > out["factual"]["thickness"]).all())
    True
    """
    truth = truth or DigitsGroundTruth()
    measure = measure or digit_morphometrics(truth.dataset)
    interventions = check_interventions(interventions, parents)
    true_images = truth(images, parents, interventions)
    shown = {"factual": images}
    for name, model in generators.items():
        with torch.no_grad():
            out = as_generator(model)(images, dict(parents), interventions).detach().cpu()
        shown[str(name)] = check_images(out, f"{name}'s counterfactuals", like=torch.as_tensor(images))
    shown["ground truth"] = true_images
    return {label: {"image": x, "truth_l1": pixel_l1(x, true_images),
                    "thickness": measure["thickness"](x, parents), "intensity": measure["intensity"](x, parents)}
            for label, x in shown.items()}
