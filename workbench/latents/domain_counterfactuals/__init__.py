"""Domain counterfactuals in invertible latent causal models (Zhou et al., ICLR 2024).

"What would this observation from domain d have looked like in domain d'?" In an
invertible latent domain (ILD) model, ``x = g(f_d(e))``, the answer is exact: abduct
``e = f_d^-1(g^-1(x))``, then push it through the other domain, ``x' = g(f_d'(e))``.

* :mod:`~.generator`: the authors' simulated data (a latent linear SCM whose last
  mechanisms change by domain, seen through LeakyReLU and a |det| = 1 linear map),
  with true counterfactuals in closed form.
* :mod:`~.models`: :class:`DomainModel`, the sparse canonical model (only the last k
  mechanisms vary) and the dense baseline.
* :mod:`~.training`: :func:`fit_domain_model` (restarts, annealing, selection on
  validation) through the workbench's one training loop.
* :mod:`~.rounds`: :class:`FitRound`, the fit's schedule (rounds of training, each on
  the best starts of the round before) and the benchmark's.
* :mod:`~.latent_fit`: :func:`fit_latent_scm`, the latent SCM in closed form given ``g``
  (the best signs and last ``k`` latents, exactly).
* :mod:`~.evaluation`: :func:`domain_counterfactual_error`, the authors' metric.
* :mod:`~.data`: :func:`simulate`, the train / validation / test draws of many seeds.
* :mod:`~.demo`: :func:`load_demo`, the shipped 2-domain sparse and dense fits with
  their generator and test set.
"""

from workbench.latents.domain_counterfactuals.data import DomainData, simulate
from workbench.latents.domain_counterfactuals.demo import DomainDemo, load_demo
from workbench.latents.domain_counterfactuals.evaluation import (
    all_counterfactuals, compare_counterfactuals, domain_counterfactual_error, identity_counterfactuals,
    true_counterfactuals,
)
from workbench.latents.domain_counterfactuals.generator import LatentDomainSCM
from workbench.latents.domain_counterfactuals.latent_fit import fit_latent_scm
from workbench.latents.domain_counterfactuals.models import KINDS, DomainModel
from workbench.latents.domain_counterfactuals.rounds import BENCHMARK_ROUNDS, FitRound, two_rounds
from workbench.latents.domain_counterfactuals.training import DomainFit, fit_domain_model

__all__ = [
    "LatentDomainSCM", "DomainModel", "KINDS", "DomainFit", "fit_domain_model", "simulate",
    "DomainData", "domain_counterfactual_error", "all_counterfactuals", "true_counterfactuals",
    "identity_counterfactuals", "compare_counterfactuals", "load_demo", "DomainDemo",
    "FitRound", "BENCHMARK_ROUNDS", "two_rounds", "fit_latent_scm",
]
