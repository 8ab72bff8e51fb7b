"""Deep structural causal models of images: counterfactual image generation (notebook 11).

* The image mechanism contract (:mod:`~workbench.deepscm.mechanism`): ``abduct``,
  ``predict``, and the parents' one condition encoding.
* Anti-causal predictors of the parents (:mod:`~workbench.deepscm.predictors`), the
  published way to score effectiveness.
"""

from workbench.deepscm.mechanism import IMAGE_PARENTS, ImageMechanism, IntensityScaling, encode_parents

from workbench.deepscm.predictors import DigitPredictors, evaluate_predictors, train_predictors

__all__ = ["IMAGE_PARENTS", "ImageMechanism", "IntensityScaling", "encode_parents",
           "DigitPredictors", "evaluate_predictors", "train_predictors"]
