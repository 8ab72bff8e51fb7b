"""The same SCM in DoWhy's ``gcm``, to check our answers (and speed) against a peer.

What translates, mechanism by mechanism (nothing is fitted: gcm evaluates ours):

* ``LinearGaussian`` and ``AdditiveNoise`` with ``Normal`` noise become a
  ``gcm.AdditiveNoiseModel`` whose prediction model is our own ``f``; a root becomes
  ``gcm.ScipyDistribution(stats.norm, ...)``.
* ``DiscreteCPT`` becomes a ``gcm.ClassifierFCM`` whose classification model returns
  our table's row ``P(v | parents)``; a root becomes a fixed categorical,
  ``gcm.ScipyDistribution`` of ``scipy.stats.rv_discrete`` with our probabilities.

A model with only additive mechanisms becomes a ``gcm.InvertibleStructuralCausalModel``
(gcm computes counterfactuals of observed units for it); a model with a discrete
table becomes a ``gcm.StructuralCausalModel``. gcm then samples observational and
interventional data (``gcm.interventional_samples``) from the same distributions as
ours, but it has **no counterfactuals of observed units for a discrete table**:
``gcm.counterfactual_samples(peer, ..., observed_data=...)`` raises ``ValueError``
("... can only be done with InvertibleStructuralCausalModel"), because a
``ClassifierFCM`` cannot recover its noise from its output (it has no
``estimate_noise``). Its noise is also another one than ours: a uniform number read
through the cumulative probabilities (inverse-CDF), where ours is Gumbel-max, so the
two agree on every interventional distribution yet couple worlds differently.
DoWhy is a test dependency; it is imported only when this is called.

Examples
--------
>>> from workbench.scm import asia, backdoor_example
>>> peer = to_dowhy_gcm(backdoor_example())
>>> print(sorted(peer.graph.nodes), type(peer).__name__)
['x', 'y', 'z'] InvertibleStructuralCausalModel
>>> print(type(to_dowhy_gcm(asia()).causal_mechanism("tub")).__name__)
ClassifierFCM
"""

from __future__ import annotations

import numpy as np
import pyro.distributions as dist
import torch

from workbench.errors import WorkbenchInputError
from workbench.scm.mechanisms import AdditiveNoise, DiscreteCPT
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


class _FixedProbabilities:
    """A gcm classification model whose class probabilities are our table's rows."""

    def __init__(self, mech: DiscreteCPT, column_order: list[str]):
        table = mech.table.detach().cpu().double().numpy()
        self.table = table / table.sum(-1, keepdims=True)  # rows sum to 1 in float64
        self.perm = [column_order.index(p) for p in mech.parents]

    def fit(self, X, Y):  # the table is known: nothing to learn
        return None

    def predict_probabilities(self, X: np.ndarray) -> np.ndarray:
        """``P(v | parents)`` for each row of parent values ``X`` (gcm's column order)."""
        pa = np.asarray(X).astype(np.int64).reshape(len(X), -1)[:, self.perm]
        return self.table[tuple(pa.T)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_probabilities(X).argmax(-1).reshape(-1, 1)

    @property
    def classes(self) -> list[int]:
        return list(range(self.table.shape[-1]))

    def clone(self):
        return self


def _normal_scale(v: str, mech) -> float:
    noise = mech.noise() if isinstance(mech, AdditiveNoise) else None
    if not isinstance(noise, dist.Normal) or float(noise.loc) != 0.0:
        raise WorkbenchInputError(
            f"{v!r}: only DiscreteCPT tables and additive mechanisms with Normal(0, s) noise "
            f"translate to DoWhy gcm; this one is a {type(mech).__name__}.")
    return float(noise.scale)


def _gcm_mechanism(v: str, mech, parent_order: list[str]):
    """gcm's counterpart of one of our mechanisms (see the module docstring)."""
    from dowhy import gcm
    from dowhy.gcm.ml.classification import ClassificationModel
    from dowhy.gcm.ml.prediction_model import PredictionModel
    from scipy import stats

    if isinstance(mech, DiscreteCPT):
        Fixed = type("FixedProbabilities", (_FixedProbabilities, ClassificationModel), {})
        probs = Fixed(mech, parent_order)
        if not mech.parents:  # gcm treats a distribution given no parameter as unfitted: loc=0
            categorical = stats.rv_discrete(values=(np.arange(len(probs.table)), probs.table))
            return gcm.ScipyDistribution(categorical, loc=0)
        return gcm.ClassifierFCM(probs)
    scale = _normal_scale(v, mech)
    if not mech.parents:
        loc = float(mech.mean(torch.zeros(1, 0))[0])
        return gcm.ScipyDistribution(stats.norm, loc=loc, scale=scale)
    Fixed = type("FixedPrediction", (_FixedPrediction, PredictionModel), {})
    return gcm.AdditiveNoiseModel(Fixed(mech, parent_order),
                                  gcm.ScipyDistribution(stats.norm, loc=0.0, scale=scale))


def to_dowhy_gcm(scm: SCM):
    """An equivalent gcm model: invertible for additive models, plain with discrete tables.

    Raises
    ------
    workbench.errors.WorkbenchInputError
        For a mechanism gcm has no counterpart for here (a ``FunctionMechanism``, or
        additive noise that is not ``Normal(0, s)``); the variable is named.

    Examples
    --------
    >>> from workbench.scm import backdoor_example
    >>> sorted(to_dowhy_gcm(backdoor_example()).graph.nodes)
    ['x', 'y', 'z']
    """
    from dowhy import gcm
    from dowhy.gcm.causal_models import PARENTS_DURING_FIT
    from dowhy.graph import get_ordered_predecessors

    discrete = any(isinstance(m, DiscreteCPT) for m in scm.mechanisms.values())
    peer = (gcm.StructuralCausalModel if discrete else gcm.InvertibleStructuralCausalModel)(scm.graph)
    for v in scm.variables:
        order = get_ordered_predecessors(peer.graph, v)  # the column order gcm hands a mechanism
        peer.set_causal_mechanism(v, _gcm_mechanism(v, scm.mechanisms[v], order))
        # nothing is fitted: record the parent order gcm would have seen during a fit
        peer.graph.nodes[v][PARENTS_DURING_FIT] = order
    return peer
