"""Disentanglement metrics, torch-native and batched, with their estimator choices visible.

(One exception to torch: DCI's fast mode grows its trees with loops compiled by numba,
:mod:`.tree_kernels`; a tree's split search walks samples one by one, which no batched
tensor operation does well. Inputs and results are tensors all the same.)

Every metric returns a :class:`MetricResult`: the score, the ``mode`` (``"exact"``:
the published algorithm; ``"fast"``: a named faster estimator, only where one exists),
every estimator choice next to the published one, and the library versions.

From a table of codes and factors (tensors of shape (n_points, n_latents) and
(n_points, n_factors)):

* :func:`mig`, :func:`sap`, :func:`dci`, :func:`modularity`, :func:`explicitness`,
  :func:`irs`, :func:`infomec`, :func:`mcc`, :func:`gaussian_total_correlation`
  (codes only), and :func:`score_codes` to run several at once.

From a data set's factor sampler and an encoder (see :mod:`.protocols`):

* :func:`beta_vae_score`, :func:`factor_vae_score`.

From a counterfactual image generator (see :mod:`.soundness`):

* :func:`composition`, :func:`reversibility`, :func:`commutativity`, :func:`effectiveness`,
  and :func:`ground_truth_error` against :class:`DigitsGroundTruth`, the exact twin.

Examples
--------
>>> from workbench import metrics
>>> codes, factors = metrics.constructed_codes("rotated", n_points=2000, seed=0)
>>> print(metrics.mig(codes, factors, bins=10).summary())
mig = 0.1... (exact; differs from published protocol in: bins=10)
"""

from workbench.metrics.beta_vae import beta_vae_score
from workbench.metrics.dci import dci, disentanglement_completeness
from workbench.metrics.errors import (ConstantFactorError, MetricInputError, SamplerError,
                                      TooFewLatentsError)
from workbench.metrics.factor_vae import factor_vae_score
from workbench.metrics.information import entropy, histogram_discretize, mutual_information
from workbench.metrics.infomec import infomec
from workbench.metrics.irs import irs
from workbench.metrics.mcc import mcc
from workbench.metrics.mig import mig
from workbench.metrics.modularity import explicitness, modularity
from workbench.metrics.protocols import FactorSampler, mean_encoder, sample_codes, sample_fixed
from workbench.metrics.result import MetricResult, library_versions
from workbench.metrics.sap import sap
from workbench.metrics.sensitivity import sensitivity, spread
from workbench.metrics import soundness
from workbench.metrics.soundness import (CounterfactualGenerator, DigitsGroundTruth, commutativity,
                                         composition, digit_morphometrics, effectiveness,
                                         ground_truth_error, reversibility)
from workbench.metrics.suite import TABLE_METRICS, score_codes
from workbench.metrics.synthetic import KINDS, SyntheticProcess, constructed_codes
from workbench.metrics.total_correlation import gaussian_total_correlation

__all__ = [
    "MetricResult", "library_versions", "mig", "sap", "dci", "disentanglement_completeness",
    "modularity", "explicitness", "irs", "infomec", "mcc", "gaussian_total_correlation",
    "beta_vae_score", "factor_vae_score", "score_codes", "TABLE_METRICS", "sensitivity", "spread",
    "FactorSampler", "sample_codes", "sample_fixed", "mean_encoder", "SyntheticProcess",
    "constructed_codes", "KINDS", "histogram_discretize", "mutual_information", "entropy",
    "MetricInputError", "ConstantFactorError", "TooFewLatentsError", "SamplerError",
    "soundness", "CounterfactualGenerator", "DigitsGroundTruth", "composition", "reversibility",
    "commutativity", "effectiveness", "ground_truth_error", "digit_morphometrics",
]
