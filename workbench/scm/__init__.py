"""Structural causal models as Pyro programs: sampling, ``do``, counterfactuals.

Quick start
-----------
>>> import torch
>>> from workbench.scm import SCM, LinearGaussian, Shift
>>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
>>> sorted(m.do(x=1.0).sample(5, seed=0))                 # hard intervention, new model
['x', 'y']
>>> shifted = m.do(x=Shift(0.5))                           # shift intervention
>>> r = m.counterfactual({"x": torch.tensor([1.0]), "y": torch.tensor([2.5])}, {"x": 0.0})
>>> r.counterfactual["y"]                                  # u_y = 0.5 kept: 2*0 + 0.5
tensor([0.5000])

Using an SCM from other areas
-----------------------------
* ``m.model(n)`` is a plain Pyro program (sites ``U_v`` for noise, ``v`` for values,
  inside ``pyro.plate("units", n)``): wrap it in any Pyro / ChiRho handler.
* ``m.sample(n, include_latent=False)`` returns ``{variable: tensor (n,)}``; discrete
  variables are ``int64`` category indices, latent variables are left out.
* ``discrete_scm({v: (parents, table)}, latent=[...])`` and
  ``random_discrete_scm(n, n_latent=1, seed=0)`` build discrete models with hidden
  confounders; ``m.mechanisms[v].table`` is the probability table of ``v``,
  ``m.observed_graph()`` the ADMG over the observed variables.
"""

from workbench.scm.budget import MemoryBudgetError
from workbench.scm.interventions import CategoryError, Shift, Transform, check_interventions
from workbench.scm.mechanisms import (
    AdditiveNoise, DiscreteCPT, LinearGaussian, Mechanism, NotInvertibleError, mlp,
)
from workbench.scm.function import FunctionMechanism
from workbench.scm.model import SCM, ParentTableError
from workbench.scm.sites import noise_site
from workbench.scm.counterfactual import (
    CounterfactualResult, abduct, complete_units, counterfactual, counterfactual_by_hand,
)
from workbench.scm.spec import NotSerialisableError, SpecError, scm_from_spec, scm_to_spec
from workbench.scm.files import load_scm, save_scm
from workbench.scm.zoo import (
    asia, backdoor_example, discrete_scm, random_discrete_scm, random_linear_scm,
    random_nonlinear_scm, smoking_front_door,
)

__all__ = [
    "SCM", "noise_site", "Mechanism", "LinearGaussian", "AdditiveNoise", "DiscreteCPT",
    "FunctionMechanism", "NotInvertibleError", "mlp", "Shift", "Transform",
    "check_interventions", "CategoryError", "MemoryBudgetError", "ParentTableError", "CounterfactualResult", "abduct", "complete_units",
    "counterfactual", "counterfactual_by_hand", "asia", "backdoor_example", "discrete_scm",
    "random_discrete_scm", "random_linear_scm", "random_nonlinear_scm", "smoking_front_door",
    "scm_to_spec", "scm_from_spec", "save_scm", "load_scm", "SpecError", "NotSerialisableError",
]
