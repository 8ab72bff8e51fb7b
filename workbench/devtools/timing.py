"""Timing helpers shared by the benchmarks.

The machines we measure on are shared, so a benchmark repeats a call and reports the
best (or the median) wall time, together with the call's last result for agreement checks.

Examples
--------
>>> seconds, value = best_of(lambda: sum(range(1000)), repeats=3)
>>> value, seconds >= 0
(499500, True)
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

__all__ = ["timings", "best_of", "median_of", "one_thread"]

T = TypeVar("T")


def timings(fn: Callable[[], T], repeats: int) -> tuple[list[float], T]:
    """Call ``fn`` ``repeats`` times; return every wall time (s) and the last result.

    Examples
    --------
    >>> times, out = timings(lambda: sum(range(10)), repeats=3)
    >>> len(times), out
    (3, 45)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def best_of(fn: Callable[[], T], repeats: int = 3) -> tuple[float, T]:
    """The fastest of ``repeats`` calls (other processes only ever add time).

    Examples
    --------
    >>> seconds, out = best_of(lambda: "done", repeats=2)
    >>> seconds >= 0, out
    (True, 'done')
    """
    times, out = timings(fn, repeats)
    return min(times), out


def median_of(fn: Callable[[], T], repeats: int = 3) -> tuple[float, T]:
    """The median of ``repeats`` calls.

    Examples
    --------
    >>> seconds, out = median_of(lambda: 1 + 1)
    >>> seconds >= 0, out
    (True, 2)
    """
    times, out = timings(fn, repeats)
    return statistics.median(times), out


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with torch on one thread (as on Binder's one core), then restore.

    One thread also makes timings steadier on a shared machine.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with one_thread():
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
