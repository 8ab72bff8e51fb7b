"""Deep structural causal models of images: counterfactual image generation (notebook 11).

* The image mechanism contract (:mod:`~workbench.deepscm.mechanism`): ``abduct``,
  ``predict``, and the parents' one condition encoding.
"""

from workbench.deepscm.mechanism import IMAGE_PARENTS, ImageMechanism, IntensityScaling, encode_parents

__all__ = ["IMAGE_PARENTS", "ImageMechanism", "IntensityScaling", "encode_parents"]
