"""Run a counterfactual generator batch by batch, in this process or in worker processes.

The soundness table (:mod:`workbench.deepscm.evaluation`) spends its time in the generator:
26 passes of a DDIM mechanism over its digits. A :class:`BatchRunner` cuts the digits into
batches of ``batch_size`` and sends them to ``workers`` processes (one torch thread each,
started with ``spawn``, so no OpenMP state is forked), then puts the counterfactuals back in
order. The batches are the same with one worker or many, and each process computes a batch
exactly as the serial loop does, so the table is the same, number for number (a test pins
it); only the seconds change. With workers, the model must be picklable (an
:class:`~workbench.deepscm.mechanism.ImageMechanism`, wrapped in its deep SCM inside each
worker, or a module-level function; not a lambda).

A call with ``remember=True`` keeps its batches and their counterfactuals; a later batch
whose images, parents and interventions are *exactly* equal to a kept one (``torch.equal``,
same dtypes) gets the kept counterfactuals instead of a new run. That is the same answer only
for a deterministic generator, so use it only for one (the table does it for mechanisms that
say ``deterministic = True``): two of the table's 24 axiom passes repeat its effectiveness
pass (the first step of reversibility and of one order of commutativity).

Examples
--------
>>> import torch
>>> with BatchRunner(unchanged_image, batch_size=2) as run:
...     run(torch.zeros(5, 1, 2, 2), {"digit": torch.arange(5.0)}, {"digit": 3.0}, remember=True).shape
...     _ = run(torch.zeros(4, 1, 2, 2), {"digit": torch.arange(4.0)}, {"digit": 3.0})
...     run.remembered_batches, run.batches_from_memory
torch.Size([5, 1, 2, 2])
(3, 2)
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import torch

from workbench.deepscm.mechanism import ImageMechanism
from workbench.deepscm.program import DigitsDeepSCM
from workbench.metrics.errors import MetricInputError

__all__ = ["BatchRunner", "as_generator", "unchanged_image"]

_WORKER_GENERATOR = None


def as_generator(model):
    """A soundness generator ``counterfactual(images, parents, interventions)`` for ``model``.

    An :class:`ImageMechanism` is wrapped in :class:`workbench.deepscm.DigitsDeepSCM` with the
    exact digits' parent SCM, so the table measures the image mechanism alone; any other
    callable is returned as it is.

    Examples
    --------
    >>> from workbench.deepscm import IntensityScaling
    >>> callable(as_generator(IntensityScaling()))
    True
    >>> as_generator("vae")
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.MetricInputError: a generator must be an ImageMechanism or a callable counterfactual(images, parents, interventions), got str.
    """
    if isinstance(model, ImageMechanism):
        return DigitsDeepSCM(model)
    if not callable(model):
        raise MetricInputError("a generator must be an ImageMechanism or a callable counterfactual(images, "
                               f"parents, interventions), got {type(model).__name__}.")
    return model


def unchanged_image(images, parents, interventions):
    """The generator that changes nothing (sound by every axiom, and no counterfactual at all).

    Examples
    --------
    >>> import torch
    >>> bool(torch.equal(unchanged_image(torch.ones(1, 1, 2, 2), {}, {}), torch.ones(1, 1, 2, 2)))
    True
    """
    return images


def _start_worker(generator_bytes: bytes) -> None:
    global _WORKER_GENERATOR
    torch.set_num_threads(1)
    _WORKER_GENERATOR = as_generator(pickle.loads(generator_bytes))


def _run_batch(images, parents, interventions):
    with torch.no_grad():
        return _WORKER_GENERATOR(images, parents, interventions).detach().cpu()


def _same(a, b) -> bool:
    """Exactly equal tensors, or dicts of them with the same keys (dtypes and shapes too)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a.dtype == b.dtype and a.shape == b.shape and bool(torch.equal(a, b))


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MetricInputError(f"{what} must be a whole number >= 1, got {value!r}.")
    return value


class BatchRunner:
    """``model`` applied ``batch_size`` images at a time (the results on the CPU), by ``workers`` processes.

    Use it as a context manager (or call :meth:`close`) so the worker processes end.

    Parameters
    ----------
    model : ImageMechanism or callable ``counterfactual(images, parents, interventions)``
        Made a generator by :func:`as_generator` (in each worker: the mechanism travels, not
        the deep SCM around it).
    batch_size : int
    workers : int
        1: in this process. More: that many processes, one torch thread each.

    Examples
    --------
    >>> BatchRunner(unchanged_image, batch_size=0)
    Traceback (most recent call last):
    ...
    workbench.metrics.errors.MetricInputError: batch_size must be a whole number >= 1, got 0.
    """

    def __init__(self, model, batch_size: int = 250, workers: int = 1):
        self.generator = as_generator(model)
        self.batch_size = _check_count(batch_size, "batch_size")
        self.workers = _check_count(workers, "workers")
        self._pool, self._memory = None, {}
        self.remembered_batches = self.batches_from_memory = 0
        if self.workers > 1:
            try:
                payload = pickle.dumps(model)
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise MetricInputError(f"workers={workers} needs a picklable generator (a mechanism or a "
                                       f"module-level function, not a lambda): {exc}. Use workers=1.") from exc
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(payload,))

    def __call__(self, images, parents, interventions, remember: bool = False) -> torch.Tensor:
        """The counterfactuals of ``images``; ``remember``: keep these batches for exact repeats."""
        n = len(images)
        do = {k: torch.as_tensor(v, dtype=torch.float32).expand(n) for k, v in interventions.items()}
        cut = lambda v, i: v[i:i + self.batch_size].clone()        # noqa: E731  (a copy pickles alone)
        batches = [(cut(images, i), {k: cut(v, i) for k, v in parents.items()}, {k: cut(v, i) for k, v in do.items()})
                   for i in range(0, n, self.batch_size)]
        parts = [self._recall(batch) for batch in batches]
        todo = [batch for batch, part in zip(batches, parts) if part is None]
        self.batches_from_memory += len(batches) - len(todo)
        if self._pool is None:
            with torch.no_grad():
                done = [self.generator(*batch).detach().cpu() for batch in todo]
        else:
            done = list(self._pool.map(_run_batch, *zip(*todo))) if todo else []
        done = iter(done)
        parts = [next(done) if part is None else part for part in parts]
        if remember:
            for batch, part in zip(batches, parts):
                self._keep(batch, part)
        return torch.cat(parts)

    @staticmethod
    def _fingerprint(batch) -> tuple:
        images = batch[0]
        return tuple(images.shape), images.dtype, float(images.double().sum())

    def _keep(self, batch, counterfactuals) -> None:
        kept = self._memory.setdefault(self._fingerprint(batch), [])
        if self._find(kept, batch) is None:
            kept.append((batch, counterfactuals))
            self.remembered_batches += 1

    def _recall(self, batch):
        return self._find(self._memory.get(self._fingerprint(batch), []), batch)

    @staticmethod
    def _find(kept, batch):
        for remembered, counterfactuals in kept:
            if all(_same(a, b) for a, b in zip(remembered, batch)):
                return counterfactuals.clone()
        return None

    def close(self) -> None:
        """End the worker processes (nothing to do with one worker)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
