"""Execute a notebook top to bottom in a fresh kernel, measuring time and peak memory.

Used by the test suite (every notebook must run) and by the benchmark report (each
notebook against the budgets in docs/DESIGN.md). Needs the test extra (nbclient, psutil).

The peak memory is the kernel process's resident-set high-water mark (``VmHWM`` in
``/proc/<pid>/status`` on Linux), read just before the kernel shuts down, so short
spikes are counted; elsewhere it falls back to sampling the RSS every 50 ms.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["NotebookRun", "run_notebook", "find_notebooks", "BUDGET_SECONDS", "BUDGET_MB"]

BUDGET_SECONDS = 5 * 60  # docs/DESIGN.md: each notebook in at most 5 minutes on one core
BUDGET_MB = 1024  # docs/DESIGN.md: peak memory under 1 GB per kernel


@dataclass
class NotebookRun:
    """What one execution of a notebook measured.

    Examples
    --------
    >>> NotebookRun("01.ipynb", 12.5, 380.0, True).as_dict()["peak_mb"]
    380.0
    """

    notebook: str
    wall_s: float
    peak_mb: float
    ok: bool
    error: str = ""
    output_text: str = ""  #: every printed line and plain-text result, in cell order

    def as_dict(self) -> dict:
        """The run as a plain dict (for a report row)."""
        return asdict(self)


def find_notebooks(folder: str | Path) -> list[Path]:
    """Every ``*.ipynb`` in ``folder`` (not in checkpoints), sorted by name.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()); (folder / "b.ipynb").write_text("{}"); (folder / "a.ipynb").write_text("{}")
    2
    2
    >>> [p.name for p in find_notebooks(folder)]
    ['a.ipynb', 'b.ipynb']
    """
    return sorted(p for p in Path(folder).glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _high_water_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


class _RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        import psutil

        self.process, self.interval = psutil.Process(pid), interval
        self.peak_mb, self.stopped = 0.0, threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 2**20)
            except Exception:
                return
            time.sleep(self.interval)


def run_notebook(path: str | Path, *, timeout: int = 900, one_thread: bool = True,
                 pin_one_cpu: bool = False, kernel_name: str = "python3") -> NotebookRun:
    """Execute ``path`` in a fresh kernel (cwd = its folder) and measure it.

    Parameters
    ----------
    path : path of the ``.ipynb`` file; it is not modified.
    timeout : seconds allowed for any single cell.
    one_thread : if True, BLAS/OpenMP/torch use one thread in the kernel, as on Binder.
    pin_one_cpu : if True, also pin the kernel to one CPU (for the benchmark report;
        leave it off when several notebooks run in parallel).

    Returns
    -------
    NotebookRun
        ``ok`` is False and ``error`` holds the traceback's last lines if a cell raised.

    Examples
    --------
    A kernel takes seconds to start, so the doctest skips the run itself (the suite's
    notebook tests run every notebook this way); the output shown is a real run's.

    >>> import pathlib, tempfile, nbformat
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")])
    >>> nbformat.write(nb, folder / "tiny.ipynb")
    >>> run = run_notebook(folder / "tiny.ipynb", timeout=60)  # doctest: +SKIP
    >>> run.ok, run.error, run.wall_s > 0, run.peak_mb > 0  # doctest: +SKIP
    (True, '', True, True)
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    if one_thread:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = "1"
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error, peak = "", None
    with client.setup_kernel(env=env, cwd=str(path.parent)):
        pid = client.km.provisioner.process.pid
        if pin_one_cpu and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(pid, {sorted(os.sched_getaffinity(0))[0]})
            except OSError:
                pass
        sampler = _RssSampler(pid)
        sampler.start()
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except CellExecutionError as exc:
            error = "\n".join(str(exc).strip().splitlines()[-25:])
        finally:
            peak = _high_water_mb(pid)
            sampler.stopped.set()
            sampler.join()
    wall = time.perf_counter() - start
    return NotebookRun(path.name, round(wall, 2), round(peak or sampler.peak_mb, 1),
                       ok=not error, error=error, output_text=_output_text(nb))


def _output_text(nb) -> str:
    """The text a reader sees: streams and ``text/plain`` results of every code cell."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "text/plain" in out.get("data", {}):
                parts.append(out["data"]["text/plain"])
    return "\n".join(parts)
