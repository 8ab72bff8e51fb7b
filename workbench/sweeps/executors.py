"""Where runs execute: in this process, on a Dask ``LocalCluster``, or on a cluster.

Every executor has ``map(fn, items)``, which yields ``(item, result or exception)``
as runs finish, in any order, and ``close()``. :func:`make_executor` turns a choice
into one:

* ``"serial"``: one run after the other in this process (Binder, tests, debugging);
* ``"local"``: a Dask ``LocalCluster`` of worker *processes*, one thread each, as many
  as :func:`workbench.runtime.available_cpus` (a process per run: torch's global
  random state and thread count are per process);
* ``"auto"``: ``"local"`` when more than one CPU is available, else ``"serial"``;
* ``"tcp://host:8786"`` (any scheduler address): an existing Dask cluster;
* a ``distributed.Client``, or any object with ``map`` and ``close``.

Why Dask, not Ray: measured on 2 cores with 16 tiny trainings, Dask's LocalCluster
ran them in 8.9-9.3 s (0.7 s start-up) and Ray Tune in 49 s (3.6 s start-up, about
2.7 s a trial); dask + distributed add 24 MB, ray[tune] 240 MB. The client code is the
same for a laptop and a cluster (dask-jobqueue, Kubernetes): only the address changes.

Examples
--------
>>> executor, owned = make_executor("serial")
>>> sorted(result for _, result in executor.map(lambda x: x * x, [1, 2, 3]))
[1, 4, 9]
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from workbench.runtime import available_cpus
from workbench.sweeps.errors import ExecutorError

__all__ = ["SerialExecutor", "DaskExecutor", "make_executor", "start_local_cluster", "start_method",
           "import_run_modules", "warm_worker", "WORKER_ENV", "WORKER_CONFIG"]

# What each worker process starts with: one OpenMP thread that sleeps when idle.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
# Dask settings of a LocalCluster made here (measured on 2 cores, a short VAE training):
# - Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc hand
#   freed memory back at once: torch's activations are then page-faulted in again at every
#   step, and a run in a worker took 1.5x the CPU time of the same run in a plain process.
#   Unset, the two take the same time.
# - a worker's event loop wakes every 20 ms (health tick), 100 ms (memory) and 500 ms
#   (system monitor), and the statistical profiler samples its stack every 10 ms; each
#   wake-up takes the GIL from the run. On a busy machine a run in a worker took 1.5x the
#   wall time of a plain process; with the profiler off and these at 1-5 s, the same.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                 "distributed.worker.profile.enabled": False,
                 "distributed.admin.tick.interval": "1s",
                 "distributed.worker.memory.monitor-interval": "1s",
                 "distributed.admin.system-monitor.interval": "5s"}


class SerialExecutor:
    """Run each item in this process, one after the other.

    Examples
    --------
    >>> ex = SerialExecutor()
    >>> [(item, out) for item, out in ex.map(lambda x: 2 * x, [1, 2])]
    [(1, 2), (2, 4)]
    """

    name = "serial"

    def map(self, fn: Callable, items: Iterable) -> Iterator[tuple]:
        """``(item, fn(item))`` for each item, in order; an exception is yielded in place of a result."""
        for item in items:
            try:
                yield item, fn(item)
            except Exception as exc:  # noqa: BLE001 - reported per item, the rest go on
                yield item, exc

    def close(self) -> None:
        """Nothing to release."""
        pass


class DaskExecutor:
    """Run items on Dask: a new ``LocalCluster``, a scheduler ``address``, or a ``client``.

    Parameters
    ----------
    address : str, optional
        A running scheduler, e.g. ``"tcp://10.0.0.5:8786"``; its workers need this
        package installed and the sweep folder on a file system they share. Start them
        with ``--nthreads 1`` (runs in one process take turns, see
        :mod:`workbench.sweeps.task`).
    n_workers : int, optional
        Workers of a new ``LocalCluster`` (default: the available CPUs).
    client : distributed.Client, optional
        An existing client (it is not closed by :meth:`close`).

    Examples
    --------
    >>> with DaskExecutor(n_workers=1, processes=False) as executor:   # threads, for a quick look
    ...     sorted(out for _, out in executor.map(abs, [-2, -1, 3]))
    [1, 2, 3]
    """

    name = "dask"

    def __init__(self, address: str | None = None, n_workers: int | None = None, client=None,
                 **cluster_options):
        try:
            from distributed import Client
        except ImportError as exc:
            raise ExecutorError("Dask executors need dask and distributed: "
                                "pip install -c constraints.txt dask distributed.") from exc
        self._owned = []
        if client is not None:
            self.client = client
        elif address is not None:
            try:
                self.client = Client(address, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"Cannot reach a Dask scheduler at {address!r}: {exc}. "
                                    "Check the address (tcp://host:port) and that it runs.") from exc
            self._owned.append(self.client)
        else:
            n = available_cpus() if n_workers is None else int(n_workers)
            if n < 1:
                raise ExecutorError(f"n_workers must be at least 1, got {n_workers!r}.")
            options = {"n_workers": n, "threads_per_worker": 1, "processes": True,
                       "dashboard_address": None, **cluster_options}
            if options["processes"]:                 # thread workers share this process's env
                options.setdefault("env", dict(WORKER_ENV))
            cluster = start_local_cluster(**options)
            self.client = Client(cluster)
            self._owned += [self.client, cluster]
            self.client.run(warm_worker)     # every worker at once, not in its first run
        self.name = "dask" if address is None and client is None else f"dask@{address or 'client'}"

    def map(self, fn: Callable, items: Iterable) -> Iterator[tuple]:
        """``(item, fn(item))`` as the workers finish; an exception is yielded in place of a result."""
        from distributed import as_completed

        items = list(items)
        futures = {self.client.submit(fn, item, pure=False): item for item in items}
        for future in as_completed(futures):
            item = futures.pop(future)
            try:
                yield item, future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after repeated deaths
                yield item, exc
            finally:
                future.release()

    def close(self) -> None:
        """Close the client, and the local cluster if this executor started it."""
        for thing in self._owned:
            thing.close()
        self._owned = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def start_method() -> str:
    """How a new local worker process starts: ``"fork"`` where that is safe, else ``"spawn"``.

    A spawned worker starts a fresh Python and imports torch, the workbench and
    ``torch._dynamo`` (the first optimizer imports it) itself: about 2 s of CPU, the
    whole of a ``LocalCluster``'s start-up. A forked one starts with what this process
    has imported (see :func:`start_local_cluster`). Fork is used on Linux, and only
    while this process has not initialised CUDA (a forked child cannot use it).

    Examples
    --------
    >>> start_method() in ("fork", "spawn")
    True
    """
    import multiprocessing
    import sys

    import torch

    if (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and not torch.cuda.is_initialized()):
        return "fork"
    return "spawn"


def start_local_cluster(*, method: str | None = None, **options):
    """A ``distributed.LocalCluster`` with :data:`WORKER_CONFIG` (its workers inherit it).

    Worker processes start by ``method`` (default :func:`start_method`). When they are
    forked, this process first imports what a run needs (:func:`import_run_modules`),
    so every worker starts with it already imported: about 0.3 s for two workers
    instead of 2.5 s, measured on 2 cores. Runs compute on one thread and seed
    everything themselves, so a forked worker gives the numbers a spawned one does.

    Workers of a cluster started elsewhere (an address) keep their own settings: start
    them with the same (``dask.config`` or ``DASK_*`` variables) for the same speed.

    Examples
    --------
    >>> from distributed import Client
    >>> cluster = start_local_cluster(n_workers=1, processes=False, dashboard_address=None)
    >>> with Client(cluster) as client:     # no statistical profiler on the worker
    ...     client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    {...: False}
    >>> cluster.close()
    """
    import dask
    from distributed import LocalCluster

    method = start_method() if method is None else method
    if method not in ("fork", "spawn", "forkserver"):
        raise ExecutorError(f"Unknown start method {method!r}: use 'fork', 'spawn' or 'forkserver'.")
    if method == "fork" and options.get("processes", True):
        import_run_modules()
    with dask.config.set({**WORKER_CONFIG, "distributed.worker.multiprocessing-method": method}):
        return LocalCluster(**options)


def import_run_modules() -> None:
    """Import everything a run needs (nothing happens for what is already imported).

    ``torch._dynamo`` is among them: torch imports it when the first optimizer is made
    (about a second of CPU), which a fresh worker would otherwise pay in its first run.

    Examples
    --------
    >>> import_run_modules()
    >>> import sys
    >>> {"torch._dynamo", "workbench.sweeps.task"} <= set(sys.modules)
    True
    """
    import torch._dynamo  # noqa: F401

    import workbench.datasets  # noqa: F401
    import workbench.latents  # noqa: F401
    import workbench.metrics  # noqa: F401
    import workbench.sweeps.task  # noqa: F401


def warm_worker() -> int:
    """Ready a worker: import what a run needs, and set torch's threads from its variables.

    A spawned worker imports everything here, so that its first run costs what the
    others do; a forked one has it already and only sets its thread count (it starts
    with this process's; the worker's ``OMP_NUM_THREADS=1`` says one). Returns the count.

    Examples
    --------
    >>> import torch
    >>> previous = torch.get_num_threads()
    >>> warm_worker() == torch.get_num_threads()
    True
    >>> torch.set_num_threads(previous)
    """
    from workbench.runtime import configure_threads

    import_run_modules()
    return configure_threads()


def make_executor(choice="auto") -> tuple[object, bool]:
    """``(executor, owned)`` for ``choice`` (see the module's text).

    ``owned`` says whether the executor was made here, so the caller should close it.

    Examples
    --------
    >>> executor, owned = make_executor("serial")
    >>> executor.name, owned
    ('serial', True)
    """
    if isinstance(choice, str):
        if choice == "serial" or (choice == "auto" and available_cpus() == 1):
            return SerialExecutor(), True
        if choice in ("local", "auto"):
            return DaskExecutor(), True
        if "://" in choice:
            return DaskExecutor(address=choice), True
        raise ExecutorError(f"Unknown executor {choice!r}: use 'auto', 'serial', 'local', a "
                            "scheduler address like 'tcp://host:8786', or a distributed.Client.")
    if type(choice).__name__ == "Client" and callable(getattr(choice, "submit", None)):
        return DaskExecutor(client=choice), True
    if callable(getattr(choice, "map", None)) and callable(getattr(choice, "close", None)):
        return choice, False
    raise ExecutorError(f"Cannot run a sweep on {type(choice).__name__}: give 'serial', 'local', "
                        "'auto', a scheduler address or a distributed.Client.")
