"""The same SCM in DoWhy's ``gcm``, to check our answers (and speed) against a peer.

Only additive-noise models with Gaussian noise translate (``LinearGaussian`` and
``AdditiveNoise`` with ``Normal`` noise): each becomes a ``gcm.AdditiveNoiseModel``
whose prediction model is our own mechanism (no fitting), inside a
``gcm.InvertibleStructuralCausalModel``. DoWhy is a test dependency; it is imported
only when this is called.

Examples
--------
>>> from workbench.scm import backdoor_example
>>> peer = to_dowhy_gcm(backdoor_example())
>>> print(sorted(peer.graph.nodes))
['x', 'y', 'z']
"""

from __future__ import annotations

import numpy as np
import pyro.distributions as dist
import torch

from workbench.errors import WorkbenchInputError
from workbench.scm.mechanisms import AdditiveNoise
from workbench.scm.model import SCM

__all__ = ["to_dowhy_gcm"]


class _FixedPrediction:
    """A gcm prediction model that evaluates our mechanism's ``f`` (no fitting)."""

    def __init__(self, mech: AdditiveNoise, column_order: list[str]):
        self.mech = mech
        self.perm = [column_order.index(p) for p in mech.parents]

    def fit(self, X, Y):  # the mechanism is known: nothing to learn
        return None

    def predict(self, X: np.ndarray) -> np.ndarray:
        pa = torch.as_tensor(np.asarray(X, dtype=np.float32)[:, self.perm])
        with torch.no_grad():
            return self.mech.mean(pa).numpy().astype(np.float64).reshape(-1, 1)

    def clone(self):
        return self


def _normal_scale(v: str, mech) -> float:
    noise = mech.noise() if isinstance(mech, AdditiveNoise) else None
    if not isinstance(noise, dist.Normal) or float(noise.loc) != 0.0:
        raise WorkbenchInputError(
            f"{v!r}: only additive mechanisms with Normal(0, s) noise translate to DoWhy gcm.")
    return float(noise.scale)


def to_dowhy_gcm(scm: SCM):
    """An equivalent ``dowhy.gcm.InvertibleStructuralCausalModel`` (continuous, additive)."""
    from dowhy import gcm
    from dowhy.gcm.ml.prediction_model import PredictionModel
    from scipy import stats

    from dowhy.gcm.causal_models import PARENTS_DURING_FIT
    from dowhy.graph import get_ordered_predecessors

    Fixed = type("FixedPrediction", (_FixedPrediction, PredictionModel), {})
    peer = gcm.InvertibleStructuralCausalModel(scm.graph)
    for v in scm.variables:
        mech = scm.mechanisms[v]
        scale = _normal_scale(v, mech)
        if not mech.parents:
            loc = float(mech.mean(torch.zeros(1, 0))[0])
            peer.set_causal_mechanism(v, gcm.ScipyDistribution(stats.norm, loc=loc, scale=scale))
        else:
            order = sorted(scm.graph.predecessors(v))
            peer.set_causal_mechanism(v, gcm.AdditiveNoiseModel(
                Fixed(mech, order), gcm.ScipyDistribution(stats.norm, loc=0.0, scale=scale)))
        # nothing is fitted: record the parent order gcm would have seen during a fit
        peer.graph.nodes[v][PARENTS_DURING_FIT] = get_ordered_predecessors(peer.graph, v)
    return peer
