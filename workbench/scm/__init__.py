"""Structural causal models as Pyro programs: sampling, ``do``, counterfactuals.

Quick start
-----------
>>> from workbench.scm import SCM, LinearGaussian
>>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
>>> sorted(m.do(x=1.0).sample(5, seed=0))
['x', 'y']
"""

from workbench.scm.interventions import Shift, Transform, check_interventions
from workbench.scm.mechanisms import (
    AdditiveNoise, DiscreteCPT, FunctionMechanism, LinearGaussian, Mechanism,
    NotInvertibleError, mlp,
)
from workbench.scm.model import SCM, noise_site

__all__ = [
    "SCM", "noise_site", "Mechanism", "LinearGaussian", "AdditiveNoise", "DiscreteCPT",
    "FunctionMechanism", "NotInvertibleError", "mlp", "Shift", "Transform",
    "check_interventions",
]
