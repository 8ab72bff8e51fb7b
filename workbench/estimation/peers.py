"""DoWhy's estimate of the same effect on the same data (a test and benchmark peer).

``dowhy_effect(data, edges, "x", "y", method)`` builds a ``dowhy.CausalModel`` from the
graph's edges (hidden variables named in ``latent`` are left out of the data), identifies
the effect and estimates it with one of DoWhy's estimators:

=============================  ====================================================
ours                           DoWhy ``method_name``
=============================  ====================================================
back-door, regression          ``backdoor.linear_regression`` (``model="additive"``)
back-door, ipw                 ``backdoor.propensity_score_weighting`` (Hajek, clip 0.05)
front-door, regression         ``frontdoor.two_stage_regression``
=============================  ====================================================

DoWhy is a test-only dependency; importing this module does not import it.
"""

from __future__ import annotations

from typing import Iterable, Mapping

__all__ = ["dowhy_effect", "DOWHY_METHODS"]

DOWHY_METHODS = {
    ("back-door", "regression"): "backdoor.linear_regression",
    ("back-door", "ipw"): "backdoor.propensity_score_weighting",
    ("front-door", "regression"): "frontdoor.two_stage_regression",
}


def dowhy_effect(data: Mapping, edges: Iterable[tuple[str, str]], treatment: str, outcome: str,
                 kind: str, method: str, *, latent: Iterable[str] = (), n_boot: int | None = None):
    """DoWhy's ATE estimate on ``data`` for the graph ``edges`` (see module doc).

    With ``n_boot``, DoWhy's own bootstrap runs ``n_boot`` resamples and the result is
    ``(value, (low, high))`` with its 95% interval; otherwise it is the value alone.

    Examples
    --------
    >>> import torch
    >>> data = {"z": torch.tensor([0., 0., 1., 1.] * 25), "x": torch.tensor([0., 1., 0., 1.] * 25)}
    >>> data["y"] = 2 * data["x"] + data["z"]                               # ATE 2
    >>> round(float(dowhy_effect(data, [("z", "x"), ("z", "y"), ("x", "y")], "x", "y",
    ...                           "backdoor", "regression")), 3)    # doctest: +SKIP
    2.0
    """
    import logging

    import networkx as nx
    import numpy
    import pandas as pd
    from dowhy import CausalModel

    logging.getLogger("dowhy").setLevel(logging.ERROR)
    latent = set(latent)
    frame = pd.DataFrame({k: v.double().cpu().numpy() for k, v in data.items() if k not in latent})
    frame[treatment] = frame[treatment].astype(bool)
    graph = nx.DiGraph(list(edges))
    model = CausalModel(data=frame, treatment=treatment, outcome=outcome, graph=graph)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    interval = {} if n_boot is None else dict(confidence_intervals="bootstrap",
                                              method_params={"num_simulations": int(n_boot)})
    estimate = model.estimate_effect(estimand, method_name=DOWHY_METHODS[(kind, method)],
                                     target_units="ate", treatment_value=True, control_value=False,
                                     **interval)
    if n_boot is None:
        return float(estimate.value)
    low, high = (float(numpy.ravel(v)[0]) for v in estimate.get_confidence_intervals(confidence_level=0.95))
    return float(estimate.value), (low, high)
