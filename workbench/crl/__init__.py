"""Causal representation learning: what interventions buy for identifiability.

* Linear causal disentanglement (Squires et al., ICML 2023): :mod:`.linear_model`
  (the model, the authors' random generator and sampling protocol) and :mod:`.linear`
  (recovering the latent DAG and the unmixing from one perfect intervention per latent).

The VAE with a latent SCM prior (CausalVAE / DEAR style) is a latent model and lives in
:mod:`workbench.latents.causal_vae`.
"""

from workbench.crl.linear import (LinearDisentanglement, RecoveryErrors, compare_to_truth,
                                  linear_causal_disentanglement, rank_one_score)
from workbench.crl.linear_model import (LinearLatentModel, normalize_rows, random_linear_model,
                                        sample_precision_from_data)

__all__ = [
    "LinearLatentModel", "random_linear_model", "normalize_rows", "sample_precision_from_data",
    "LinearDisentanglement", "linear_causal_disentanglement", "rank_one_score",
    "RecoveryErrors", "compare_to_truth",
]
