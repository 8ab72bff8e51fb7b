"""Errors specific to disentanglement metrics.

Each is a :class:`workbench.errors.WorkbenchInputError` (so also a ``ValueError``)
whose message says what was wrong and how to fix it.

Examples
--------
>>> from workbench.metrics.errors import ConstantFactorError
>>> from workbench.errors import WorkbenchInputError
>>> issubclass(ConstantFactorError, WorkbenchInputError)
True
"""

from __future__ import annotations

from workbench.errors import WorkbenchInputError

__all__ = ["MetricInputError", "ConstantFactorError", "TooFewLatentsError", "TooFewPointsError",
           "SamplerError"]


class MetricInputError(WorkbenchInputError):
    """Codes, factors or estimator settings that a metric cannot work with.

    Examples
    --------
    >>> from workbench.metrics import mig
    >>> mig([[1.0]], [[0], [1]])
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.MetricInputError: ...
    """


class ConstantFactorError(MetricInputError):
    """A ground-truth factor takes a single value, so its entropy is zero.

    Scores normalised by a factor's entropy (MIG, InfoMEC) or that classify a factor
    (DCI, SAP, BetaVAE) are undefined for it; drop the factor before scoring.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics import mig
    >>> mig(torch.randn(10, 2), torch.zeros(10, 1))
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.ConstantFactorError: ...
    """


class TooFewLatentsError(MetricInputError):
    """A metric that compares latents (a gap, a ranking) was given too few of them.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics import mig
    >>> mig(torch.randn(10, 1), torch.arange(10)[:, None] % 2)
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.TooFewLatentsError: ...
    """


class TooFewPointsError(MetricInputError):
    """Too few points for an estimator: e.g. a factor with one class among the training points.

    Examples
    --------
    >>> TooFewPointsError("one class among the training points").args[0]
    'one class among the training points'
    """


class SamplerError(MetricInputError):
    """A factor sampler or encoder that does not follow the documented interface.

    Examples
    --------
    >>> from workbench.metrics.protocols import check_sampler
    >>> check_sampler(object(), lambda x: x)
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.SamplerError: ...
    """
