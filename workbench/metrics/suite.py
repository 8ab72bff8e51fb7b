"""Score one code on many metrics at once, with one mode for all of them.

:func:`score_codes` runs the metrics that work from a table of codes and factors
(MIG, SAP, DCI, Modularity, Explicitness, IRS, InfoMEC, MCC) and returns their
:class:`~workbench.metrics.result.MetricResult` objects by name. ``mode`` is passed
to every metric that has a fast mode (DCI, InfoMEC); the others only have their exact
algorithm, which their results record, so a table never mixes modes unnoticed.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=900, seed=0, noise=0.01)
>>> results = score_codes(codes, factors, metrics=("mig", "irs", "mcc"))
>>> {name: r.score > 0.9 for name, r in results.items()}
{'mig': True, 'irs': True, 'mcc': True}
"""

from __future__ import annotations

from workbench.errors import UnknownVariableError
from workbench.metrics.dci import dci
from workbench.metrics.infomec import infomec
from workbench.metrics.irs import irs
from workbench.metrics.mcc import mcc
from workbench.metrics.mig import mig
from workbench.metrics.modularity import explicitness, modularity
from workbench.metrics.sap import sap

__all__ = ["TABLE_METRICS", "score_codes"]

TABLE_METRICS = {
    "mig": mig, "sap": sap, "dci": dci, "modularity": modularity,
    "explicitness": explicitness, "irs": irs, "infomec": infomec, "mcc": mcc,
}
_HAS_MODE = {"dci", "infomec"}


def score_codes(codes, factors, *, metrics=tuple(TABLE_METRICS), mode: str = "exact",
                options: dict | None = None) -> dict:
    """Run several metrics on the same codes and factors.

    Parameters
    ----------
    metrics : iterable of str
        Names from :data:`TABLE_METRICS`.
    mode : {"exact", "fast"}
        Passed to the metrics that have a fast mode.
    options : dict, optional
        Per-metric keyword arguments, e.g. ``{"mig": {"bins": 10}}``.

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> sorted(score_codes(codes, factors, metrics=("mig", "mcc")))
    ['mcc', 'mig']
    """
    options = options or {}
    for name in list(metrics) + list(options):
        if name not in TABLE_METRICS:
            raise UnknownVariableError(name, TABLE_METRICS, what="metric")
    results = {}
    for name in metrics:
        kwargs = dict(options.get(name, {}))
        if name in _HAS_MODE:
            kwargs.setdefault("mode", mode)
        results[name] = TABLE_METRICS[name](codes, factors, **kwargs)
    return results
