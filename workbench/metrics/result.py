"""The result of a metric: the score, the estimator choices behind it, and versions.

A score without its estimator choices cannot be compared with another: MIG with 20
bins is not MIG with 50 bins, and DCI from gradient-boosted trees is not DCI from a
faster importance estimator. :class:`MetricResult` therefore carries the ``mode``
(``"exact"``: the published algorithm; ``"fast"``: a named, faster estimator), every
``choices`` value, whether all of them equal the published protocol, and the versions
of the libraries that computed it.

Examples
--------
>>> r = MetricResult("mig", 0.5, mode="exact", choices={"bins": 20},
...                  published={"bins": 20})
>>> float(r), r.follows_published_protocol
(0.5, True)
>>> r.with_choices_differing()
[]
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MetricResult", "library_versions"]

_MODES = ("exact", "fast")


def library_versions() -> dict[str, str]:
    """Versions of the libraries a metric's number depends on (a new dict each call).

    Examples
    --------
    >>> sorted(library_versions())
    ['numpy', 'python', 'scikit-learn', 'scipy', 'torch', 'workbench']
    """
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> tuple:
    """Looked up once per process: reading package metadata costs ~20 ms."""
    import importlib.metadata as md
    import platform

    versions = {"python": platform.python_version()}
    for dist in ("torch", "numpy", "scipy", "scikit-learn", "workbench"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = "not installed"
    return tuple(versions.items())


@dataclass(frozen=True)
class MetricResult:
    """A metric's score together with everything needed to reproduce it.

    Attributes
    ----------
    name : str
        The metric, e.g. ``"mig"`` or ``"dci"``.
    score : float
        The headline number (for DCI: disentanglement; for InfoMEC: InfoM).
    mode : {"exact", "fast"}
        ``"exact"`` runs the published algorithm; ``"fast"`` a documented, faster
        estimator whose numbers differ from it.
    choices : dict
        Every estimator choice used (bins, sample sizes, classifier, seed...).
    published : dict
        The published protocol's value of each choice, for comparison.
    scores : dict
        All sub-scores (e.g. ``disentanglement``, ``completeness``, ``informativeness``).
    details : dict
        Intermediate quantities (mutual-information or importance matrices...).
    versions : dict
        Library versions, from :func:`library_versions`.

    Examples
    --------
    >>> from workbench.metrics import mig
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> r = mig(*constructed_codes(n_points=300, noise=0.01))
    >>> r.name, r.mode, "bins" in r.choices
    ('mig', 'exact', True)
    """

    name: str
    score: float
    mode: str = "exact"
    choices: dict[str, Any] = field(default_factory=dict)
    published: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    versions: dict[str, str] = field(default_factory=library_versions, repr=False)

    def __post_init__(self):
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}.")
        if not math.isfinite(self.score):  # a bug, not bad input: fail loudly
            raise RuntimeError(f"{self.name} produced a non-finite score {self.score!r}.")
        if not self.scores:
            object.__setattr__(self, "scores", {self.name: self.score})

    def __float__(self) -> float:
        return float(self.score)

    def with_choices_differing(self) -> list[str]:
        """Names of the choices that differ from the published protocol."""
        return [k for k, v in self.published.items() if self.choices.get(k) != v]

    @property
    def follows_published_protocol(self) -> bool:
        """True when the mode is exact and every choice equals the published one."""
        return self.mode == "exact" and not self.with_choices_differing()

    def summary(self) -> str:
        """One line: name, score, mode and any departure from the protocol.

        Examples
        --------
        >>> MetricResult("mig", 0.25, choices={"bins": 10}, published={"bins": 20}).summary()
        'mig = 0.2500 (exact; differs from published protocol in: bins=10)'
        """
        differing = self.with_choices_differing()
        note = self.mode
        if differing:
            note += "; differs from published protocol in: " + ", ".join(
                f"{k}={self.choices.get(k)!r}" for k in differing)
        return f"{self.name} = {self.score:.4f} ({note})"
