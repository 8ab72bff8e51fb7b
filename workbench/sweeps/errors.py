"""Errors of the sweeps area (all bad input is a ``ValueError`` subclass)."""

from __future__ import annotations

from workbench.errors import WorkbenchError, WorkbenchInputError

__all__ = ["SweepConfigError", "ExecutorError", "ResultsFileError"]


class SweepConfigError(WorkbenchInputError):
    """A sweep's grid, settings or executor choice cannot be run as given.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.sweeps.table import rank_correlation
    >>> rank_correlation(pd.DataFrame({"key": ["a"]}))
    Traceback (most recent call last):
    ...
    workbench.sweeps.errors.SweepConfigError: rank_correlation needs a tidy table (results_table); missing columns ['metric', 'score'].
    """


class ExecutorError(WorkbenchInputError):
    """An executor cannot be started or reached (a bad address, a missing package).

    Examples
    --------
    >>> issubclass(ExecutorError, ValueError)
    True
    """


class ResultsFileError(WorkbenchError):
    """A sweep's results folder is not one this package wrote.

    Examples
    --------
    >>> ResultsFileError("not a results folder").args[0]
    'not a results folder'
    """
