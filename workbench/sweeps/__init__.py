"""Sweeps: grids of data sets x models x hyperparameters x seeds, scored and tabled.

Disentanglement results are statements about distributions over seeds and
hyperparameters (Locatello et al. 2019 trained 12,600 models). A :class:`Sweep` names
such a grid; :func:`run_sweep` (or :meth:`Sweep.run`) trains every run through the
one training loop (:func:`workbench.latents.train`), scores it with
:mod:`workbench.metrics`, and keeps everything in one folder:

* ``results.jsonl``: one row per finished run (:mod:`.store`), keyed by a stable
  hash of the run's configuration and the package version (:func:`run_key`);
* ``runs/<key>/``: the run's weights with their SHA-256 manifest, written atomically
  (:mod:`.artefacts`).

Runs execute serially, on a Dask ``LocalCluster``, or on any Dask scheduler
(:mod:`.executors`), with the same numbers on the CPU whichever is used. A rerun skips
finished runs; a killed sweep resumes. :func:`results_table` gives a tidy pandas
table for :mod:`workbench.plots.sweeps`, and :func:`rank_correlation` compares metrics.

Examples
--------
>>> import tempfile
>>> from workbench import sweeps
>>> sweep = sweeps.Sweep(models={"vae": {}, "beta_vae": {"beta": [8]}}, seeds=[0],
...                      training={"steps": 2}, data={"n_train": 64, "n_eval": 256})
>>> report = sweep.run(tempfile.mkdtemp(), executor="serial", progress=False)
>>> table = report.table()
>>> sorted(table["setting"].unique()), sorted(table["metric"].unique())
(['beta_vae (beta=8)', 'vae'], ['mig', 'sap'])
"""

from workbench.sweeps.config import DEFAULT_DATA, DEFAULT_TRAINING, Sweep
from workbench.sweeps.keys import canonical_json, run_key
from workbench.sweeps.errors import ExecutorError, ResultsFileError, SweepConfigError
from workbench.sweeps.executors import DaskExecutor, SerialExecutor, make_executor
from workbench.sweeps.runner import SweepReport, run_sweep
from workbench.sweeps.store import ResultStore
from workbench.sweeps.table import failures, rank_correlation, results_table, wide_table
from workbench.sweeps.task import run_one

__all__ = [
    "Sweep", "run_key", "canonical_json", "DEFAULT_DATA", "DEFAULT_TRAINING", "run_sweep",
    "SweepReport", "ResultStore", "run_one", "SerialExecutor", "DaskExecutor", "make_executor",
    "results_table", "wide_table", "failures", "rank_correlation", "SweepConfigError",
    "ExecutorError", "ResultsFileError",
]
