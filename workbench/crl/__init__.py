"""Causal representation learning: what interventions buy for identifiability.

* Linear causal disentanglement (Squires et al., ICML 2023): :mod:`.linear_model`
  (the model, the authors' random generator and sampling protocol) and :mod:`.linear`
  (recovering the latent DAG and the unmixing from one perfect intervention per latent).
* Interventional CRL with polynomial decoders (Ahuja et al., ICML 2023):
  :mod:`.polynomial` (the data), :mod:`.interventional` (an autoencoder identifies up
  to an affine map; one do-intervention per latent removes the mixing).
* Scores, always in pairs (:mod:`.scores`): MCC and affine R^2.
* The pendulum experiment (:mod:`.pendulum`): a CausalVAE trained with factor labels,
  its interventions checked against the SCM's exact counterfactual renders.

The VAE with a latent SCM prior (CausalVAE / DEAR style) is a latent model and lives in
:mod:`workbench.latents.causal_vae`.
"""

from workbench.crl.interventional import (PolynomialAutoencoder, fit_polynomial_autoencoder,
                                          interventional_scores, unmix_by_interventions)
from workbench.crl.linear import (LinearDisentanglement, RecoveryErrors, compare_to_truth,
                                  linear_causal_disentanglement, rank_one_score)
from workbench.crl.linear_model import (LinearLatentModel, normalize_rows, random_linear_model,
                                        sample_precision_from_data)
from workbench.crl.polynomial import InterventionalData, make_interventional_data, monomials
from workbench.crl.scores import affine_r2, identifiability_scores

__all__ = [
    "LinearLatentModel", "random_linear_model", "normalize_rows", "sample_precision_from_data",
    "LinearDisentanglement", "linear_causal_disentanglement", "rank_one_score",
    "RecoveryErrors", "compare_to_truth", "InterventionalData", "make_interventional_data",
    "monomials", "PolynomialAutoencoder", "fit_polynomial_autoencoder", "unmix_by_interventions",
    "interventional_scores", "affine_r2", "identifiability_scores",
]
