"""How much a score moves with one estimator choice, all else fixed.

A metric's number is a function of its estimator choices as much as of the code: MIG
with 10 bins and with 50 bins can rank two models differently. :func:`sensitivity`
reruns one metric over a list of values of one choice.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("rotated", n_points=2000, seed=0)
>>> curve = sensitivity(codes, factors, "mig", "bins", [5, 20, 80])
>>> [r.choices["bins"] for r in curve]
[5, 20, 80]
>>> spread(curve) > 0
True
"""

from __future__ import annotations

from typing import Iterable

from workbench.errors import UnknownVariableError
from workbench.metrics.result import MetricResult
from workbench.metrics.suite import TABLE_METRICS

__all__ = ["sensitivity", "spread"]


def sensitivity(codes, factors, metric: str, param: str, values: Iterable,
                **fixed) -> list[MetricResult]:
    """Results of ``metric`` for each value of the estimator choice ``param``.

    ``fixed`` holds the other choices. The parameter name is checked against the
    metric's signature, so a misspelled choice raises instead of being ignored.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> results = sensitivity(codes, factors, "mig", "bins", [10, 20])
    >>> [r.choices["bins"] for r in results]
    [10, 20]
    """
    import inspect

    if metric not in TABLE_METRICS:
        raise UnknownVariableError(metric, TABLE_METRICS, what="metric")
    fn = TABLE_METRICS[metric]
    params = [p for p in inspect.signature(fn).parameters if p not in ("codes", "factors")]
    for name in [param, *fixed]:
        if name not in params:
            raise UnknownVariableError(name, params, what=f"estimator choice of {metric}")
    return [fn(codes, factors, **{**fixed, param: value}) for value in values]


def spread(results: list[MetricResult]) -> float:
    """Largest minus smallest score in ``results``.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> spread(sensitivity(codes, factors, "mig", "bins", [10, 20])) >= 0
    True
    """
    scores = [r.score for r in results]
    return max(scores) - min(scores)
