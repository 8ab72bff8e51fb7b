"""Soundness of counterfactual image generators, as library functions, for any generator.

A generator is a callable ``counterfactual(images, parents, interventions) -> images``
(:class:`CounterfactualGenerator`; images in ``[0, 1]``, distances in grey levels 0-255).
The axioms' tests follow the published code (Monteiro et al., ICLR 2023,
``biomedia-mira/counterfactual_axiomatic_soundness``; Melistas et al., NeurIPS 2024,
``gulnazaki/counterfactual-benchmark``):

* :func:`composition`: the null intervention applied 1 and 10 times, L1 to the input;
* :func:`reversibility`: ``do(pa*)`` then back, cycles of 2, 5 repeats;
* :func:`effectiveness`: anti-causal predictors' error on the counterfactual;
* :func:`commutativity`: two interventions in either order;

and, because our data sets know the true counterfactual, :func:`ground_truth_error` against
:class:`DigitsGroundTruth`, the exact twin of a :class:`workbench.datasets.Digits` digit;
:func:`digit_morphometrics` measures a digit's thickness and intensity from its image, exact
predictors for :func:`effectiveness`.

Examples
--------
>>> from workbench.metrics import soundness
>>> truth = soundness.DigitsGroundTruth()
>>> images, parents = truth.sample(8, generator=0)
>>> float(soundness.composition(truth, images, parents))       # the exact generator: no drift
0.0
"""

from workbench.metrics.soundness.axioms import commutativity, composition, reversibility
from workbench.metrics.soundness.effectiveness import effectiveness, predictor_scores
from workbench.metrics.soundness.generators import (
    CounterfactualGenerator, PixelRangeError, apply_interventions, pixel_l1,
)
from workbench.metrics.soundness.ground_truth import DigitsGroundTruth, ground_truth_error
from workbench.metrics.soundness.morphometrics import digit_morphometrics, measure_intensity

__all__ = ["CounterfactualGenerator", "PixelRangeError", "apply_interventions", "pixel_l1",
           "composition", "reversibility", "commutativity", "effectiveness", "predictor_scores",
           "DigitsGroundTruth", "ground_truth_error", "digit_morphometrics", "measure_intensity"]
