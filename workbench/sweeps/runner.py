"""Run a sweep: skip what is finished, run the rest anywhere, record every row.

:func:`run_sweep` expands the grid, drops the runs whose key already has a finished
row in ``<root>/results.jsonl`` (a rerun or a resume), recovers the runs whose
artefacts are complete but whose row was never written (the sweep was killed in
between), and hands the rest to an executor. Each row is appended the moment its
run returns, so a kill loses at most the runs in flight; a run that raised, or whose
worker died, gets a row with ``status="error"`` and its message, and the others go
on. Running the same sweep again completes it and retries the failed runs.

Examples
--------
>>> import tempfile
>>> from workbench.sweeps import Sweep
>>> sweep = Sweep(models={"vae": {}}, seeds=[0], training={"steps": 2}, data={"n_train": 64})
>>> root = tempfile.mkdtemp()
>>> run_sweep(sweep, root, executor="serial", progress=False).ran
1
>>> run_sweep(sweep, root, executor="serial", progress=False).skipped
1
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from workbench.sweeps.keys import run_key
from workbench.sweeps.executors import make_executor
from workbench.sweeps.store import ResultStore
from workbench.sweeps.task import _row, finished_row, run_one

__all__ = ["run_sweep", "SweepReport"]


def _run_folders(root) -> set[str]:
    """Names in ``<root>/runs`` (one listing, not a look per key: a new sweep has none)."""
    try:
        return set(os.listdir(Path(root) / "runs"))
    except FileNotFoundError:
        return set()


@dataclass
class SweepReport:
    """What one call of :func:`run_sweep` did.

    Examples
    --------
    >>> print(SweepReport(Path("sweep"), total=3, ran=2, skipped=1, seconds=1.25, executor="serial"))
    3 runs: 2 ran (0 failed), 1 already done, 0 recovered; 1.2 s on serial
    >>> print(SweepReport(Path("sweep"), total=1, ran=1, failed=1, seconds=0.5, executor="serial"))
    1 run: 1 ran (1 failed), 0 already done, 0 recovered; 0.5 s on serial
    """

    root: Path
    total: int
    ran: int = 0
    skipped: int = 0
    recovered: int = 0
    failed: int = 0
    seconds: float = 0.0
    executor: str = ""

    def table(self):
        """The sweep's tidy results table (see :func:`workbench.sweeps.results_table`)."""
        from workbench.sweeps.table import results_table

        return results_table(self.root)

    def __str__(self) -> str:
        runs = "1 run" if self.total == 1 else f"{self.total} runs"
        return (f"{runs}: {self.ran} ran ({self.failed} failed), {self.skipped} "
                f"already done, {self.recovered} recovered; {self.seconds:.1f} s on {self.executor}")


def _error_row(config: dict, exc: BaseException) -> dict:
    return {**_row(config, run_key(config)), "status": "error",
            "error": f"{type(exc).__name__}: {exc}"}


def run_sweep(sweep, root, *, executor="auto", progress: bool = True, retry_failed: bool = True,
              on_row=None) -> SweepReport:
    """Run every unfinished run of ``sweep``, recording results in folder ``root``.

    Parameters
    ----------
    sweep : Sweep
    root : path
        The sweep's folder (created if missing); reuse it to resume.
    executor : str, Client or executor
        ``"auto"``, ``"serial"``, ``"local"``, a scheduler address, or a
        ``distributed.Client`` (see :func:`~workbench.sweeps.executors.make_executor`).
    progress : bool
        Show a progress bar over the runs.
    retry_failed : bool
        Run again the runs whose last row is an error (else they count as done).
    on_row : callable, optional
        ``on_row(row)`` after each row is written (e.g. live plotting).

    Examples
    --------
    >>> import tempfile
    >>> from workbench.sweeps import Sweep
    >>> sweep = Sweep(models={"vae": {}, "beta_vae": {"beta": [-1]}}, seeds=[0],
    ...               training={"steps": 2}, data={"n_train": 32, "n_eval": 64})
    >>> root = tempfile.mkdtemp()
    >>> print(run_sweep(sweep, root, executor="serial", progress=False))
    2 runs: 2 ran (1 failed), 0 already done, 0 recovered; ... s on serial
    >>> report = run_sweep(sweep, root, executor="serial", progress=False, retry_failed=False)
    >>> report.ran, report.skipped
    (0, 2)
    """
    started = time.perf_counter()
    store = ResultStore(root)
    configs = {run_key(c): c for c in sweep.runs()}     # identical configs run once
    latest = {row["key"]: row for row in store.latest()}
    done = {k for k, row in latest.items()
            if row.get("status") == "ok" or (not retry_failed and row.get("status") == "error")}
    report = SweepReport(Path(root), total=len(configs), skipped=len(done & set(configs)))
    todo, folders = [], _run_folders(root)
    for key, config in configs.items():
        if key in done:
            continue
        saved = finished_row(root, key) if key in folders else None
        if saved is not None:                  # artefacts complete, row never written
            store.append(saved)
            report.recovered += 1
        else:
            todo.append(config)
    runner, owned = make_executor(executor)
    report.executor = getattr(runner, "name", type(runner).__name__)
    bar = tqdm(total=len(todo), disable=not progress, desc="sweep", unit="run")
    try:
        run = functools.partial(run_one, root=str(root), look_for_finished=False)   # looked above
        for config, result in runner.map(run, todo):
            row = result if isinstance(result, dict) else _error_row(config, result)
            store.append(row)
            report.ran += 1
            report.failed += row.get("status") != "ok"
            bar.update(1)
            bar.set_postfix(failed=report.failed, refresh=False)
            if on_row is not None:
                on_row(row)
    finally:
        bar.close()
        if owned:
            runner.close()
    report.seconds = time.perf_counter() - started
    return report
