"""Errors of the sweeps area (all bad input is a ``ValueError`` subclass)."""

from __future__ import annotations

from workbench.errors import WorkbenchError, WorkbenchInputError

__all__ = ["SweepConfigError", "ExecutorError", "ResultsFileError"]


class SweepConfigError(WorkbenchInputError):
    """A sweep's grid, settings or executor choice cannot be run as given."""


class ExecutorError(WorkbenchInputError):
    """An executor cannot be started or reached (a bad address, a missing package)."""


class ResultsFileError(WorkbenchError):
    """A sweep's results folder is not one this package wrote."""
