"""From estimand to estimate: effects from finite data, with bootstrap intervals.

After identification (``workbench.identification``) says *which* formula gives
``P(y | do(x))``, this area evaluates it on samples: the back-door and front-door
formulas by plug-in, regression adjustment and inverse probability weighting, each with
a percentile bootstrap interval (``estimate_effect``). ``examples`` holds continuous SCMs
whose true effect is known; ``peers.dowhy_effect`` runs DoWhy's estimator on the same
data (a test and benchmark peer).
"""

from workbench.estimation._data import PositivityError, resample_weights
from workbench.estimation.backdoor import ipw_backdoor, plug_in_backdoor, regression_backdoor
from workbench.estimation.effect import ESTIMATORS, EffectEstimate, estimate_effect
from workbench.estimation.examples import TRUE_EFFECTS, linear_backdoor_scm, linear_frontdoor_scm
from workbench.estimation.frontdoor import ipw_frontdoor, plug_in_frontdoor, regression_frontdoor

__all__ = ["estimate_effect", "EffectEstimate", "ESTIMATORS", "PositivityError", "resample_weights",
           "plug_in_backdoor", "regression_backdoor", "ipw_backdoor",
           "plug_in_frontdoor", "regression_frontdoor", "ipw_frontdoor",
           "linear_backdoor_scm", "linear_frontdoor_scm", "TRUE_EFFECTS"]
