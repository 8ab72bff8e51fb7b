"""Deep structural causal models of images: counterfactual image generation (notebook 11).

* The image mechanism contract (:mod:`~workbench.deepscm.mechanism`): ``abduct``,
  ``predict``, and the parents' one condition encoding.
* Anti-causal predictors of the parents (:mod:`~workbench.deepscm.predictors`), the
  published way to score effectiveness.
* The parents' mechanisms (:mod:`~workbench.deepscm.parents`): thickness -> intensity,
  exact or as flows (pretrained ``deepscm_parents_digits``).
* The deep SCM (:mod:`~workbench.deepscm.program`): :class:`DigitsDeepSCM`, a Pyro program,
  counterfactuals by hand and through ChiRho.
* An exactly invertible mechanism (:mod:`~workbench.deepscm.flow`): a conditional
  multi-scale normalizing flow on the image, abduction by inversion.
* Image mechanisms: a conditional VAE (:mod:`~workbench.deepscm.vae`, pretrained ``cvae_digits``).
* A conditional diffusion mechanism (:mod:`~workbench.deepscm.diffusion`, pretrained
  ``ddim_digits``): abduction by deterministic DDIM inversion, prediction by DDIM decoding.
* The pendulum (:mod:`~workbench.deepscm.pendulum`): :class:`PendulumDeepSCM`, theta, phi ->
  shadow -> image, learned shadow flows (pretrained ``deepscm_parents_pendulum``) and a
  conditional VAE image (``cvae_pendulum``), scored against the exact counterfactual renders
  (:mod:`~workbench.deepscm.pendulum_evaluation`).
"""

from workbench.deepscm.mechanism import IMAGE_PARENTS, ImageMechanism, IntensityScaling, encode_parents
from workbench.deepscm.parents import DigitParentFlows, exact_digit_parents, parent_scm
from workbench.deepscm.program import DigitsDeepSCM, ImageCounterfactual
from workbench.deepscm.vae import ConditionalVAE

from workbench.deepscm.predictors import DigitPredictors, evaluate_predictors, train_predictors
from workbench.deepscm.flow import FlowImageMechanism, build_flow_mechanism
from workbench.deepscm.diffusion import DiffusionMechanism, SemanticNoise, build_diffusion_mechanism

from workbench.deepscm.pendulum_parents import PendulumParentFlows, exact_pendulum_parents
from workbench.deepscm.pendulum_image import PendulumCVAE
from workbench.deepscm.pendulum import PendulumDeepSCM

__all__ = ["IMAGE_PARENTS", "ImageMechanism", "IntensityScaling", "encode_parents",
           "DigitPredictors", "evaluate_predictors", "train_predictors",
           "DigitParentFlows", "exact_digit_parents", "parent_scm", "DigitsDeepSCM", "ImageCounterfactual",
           "FlowImageMechanism", "build_flow_mechanism", "ConditionalVAE",
           "DiffusionMechanism", "SemanticNoise", "build_diffusion_mechanism",
           "PendulumParentFlows", "exact_pendulum_parents", "PendulumCVAE", "PendulumDeepSCM"]
