"""Two continuous SCMs with a binary treatment and a known average effect.

``linear_backdoor_scm``: ``z -> x -> y``, ``z -> y``, with ``x ~ Bernoulli(sigmoid(0.8 z))``
and ``y = 1.5 x + 2 z + noise``: the true ATE is 1.5 and the logistic propensity model is
right. ``linear_frontdoor_scm``: a hidden ``u`` drives ``x ~ Bernoulli(sigmoid(u))`` and
``y``; ``m = 0.8 x + noise``, ``y = 1.25 m + u + noise``: the true ATE is 0.8 * 1.25 = 1.

Examples
--------
>>> s = linear_backdoor_scm()
>>> d1, d0 = s.do(x=1.0).sample(100_000, seed=1), s.do(x=0.0).sample(100_000, seed=1)
>>> round(float(d1["y"].mean() - d0["y"].mean()), 3)
1.5
>>> sorted(linear_frontdoor_scm().sample(3, seed=0))
['m', 'x', 'y']
"""

from __future__ import annotations

import pyro.distributions as dist
import torch

from workbench.scm import SCM, FunctionMechanism, LinearGaussian

__all__ = ["linear_backdoor_scm", "linear_frontdoor_scm", "TRUE_EFFECTS"]

TRUE_EFFECTS = {"linear_backdoor": 1.5, "linear_frontdoor": 1.0}


def _coin(parent: str, slope: float) -> FunctionMechanism:
    """``x = 1`` with probability ``sigmoid(slope * parent)``, from a uniform noise."""
    return FunctionMechanism([parent], lambda pa, u: (u < torch.sigmoid(slope * pa[..., 0])).to(u.dtype),
                             dist.Uniform(0.0, 1.0))


def linear_backdoor_scm() -> SCM:
    """``z -> x -> y``, ``z -> y``; binary ``x``; ATE 1.5.

    Examples
    --------
    >>> linear_backdoor_scm().variables
    ['z', 'x', 'y']
    """
    return SCM({"z": LinearGaussian(), "x": _coin("z", 0.8),
                "y": LinearGaussian({"x": 1.5, "z": 2.0})}, name="linear_backdoor")


def linear_frontdoor_scm() -> SCM:
    """``x -> m -> y`` with a hidden ``u -> x``, ``u -> y``; binary ``x``; ATE 1.

    Examples
    --------
    >>> sorted(linear_frontdoor_scm().latent)
    ['u']
    """
    return SCM({"u": LinearGaussian(), "x": _coin("u", 1.0), "m": LinearGaussian({"x": 0.8}),
                "y": LinearGaussian({"m": 1.25, "u": 1.0})}, latent=["u"], name="linear_frontdoor")
