"""The results file of a sweep: JSON lines, one row per finished run, append-only.

``<root>/results.jsonl`` holds one JSON object per line. Only the process that runs
the sweep writes it (workers return rows; they never touch this file), each row in
one ``write`` of one whole line on a file opened for appending. Once ``write``
returns, the row is in the operating system's hands and survives the process being
killed (it is not ``fsync``-ed: that cost 7 ms a row here, and a row lost to a power
cut is recovered from the run's artefacts, see :mod:`.runner`). A kill can at worst
leave the last line cut short: reading skips a line that does not parse (and says so), and the next append
starts on a fresh line, so the run of that line is simply run again.

A key may appear more than once (a failed run retried later): the last row wins.

Examples
--------
>>> import tempfile
>>> store = ResultStore(tempfile.mkdtemp())
>>> store.append({"key": "a", "status": "error", "error": "boom"})
>>> store.append({"key": "a", "status": "ok"})
>>> [row["status"] for row in store.latest()], sorted(store.finished_keys())
(['ok'], ['a'])
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from workbench.sweeps.errors import ResultsFileError

__all__ = ["ResultStore", "RESULTS_FILE"]

RESULTS_FILE = "results.jsonl"


class ResultStore:
    """Rows of one sweep folder ``root``: ``results.jsonl``, ``runs/``, ``in_flight/``.

    Examples
    --------
    >>> import tempfile
    >>> store = ResultStore(tempfile.mkdtemp())
    >>> store.append({"key": "a", "status": "ok", "score.mig": 0.25})
    >>> store.rows(), store.path.name
    ([{'key': 'a', 'score.mig': 0.25, 'status': 'ok'}], 'results.jsonl')
    >>> store.append({"status": "ok"})
    Traceback (most recent call last):
    ...
    workbench.sweeps.errors.ResultsFileError: A results row needs a string 'key', got {'status': 'ok'}.
    """

    def __init__(self, root):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ResultsFileError(f"{self.root} is a file; a sweep needs a folder.")
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / RESULTS_FILE
        self._size_after_append = None    # the file's size after our last whole line

    def rows(self) -> list[dict]:
        """Every row, in the order written (lines that do not parse are skipped)."""
        if not self.path.exists():
            return []
        rows, torn = [], 0
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                torn += 1
                continue
            if isinstance(row, dict) and isinstance(row.get("key"), str):
                rows.append(row)
            else:
                torn += 1
        if torn:
            warnings.warn(f"{self.path}: skipped {torn} line(s) that are not whole rows (a "
                          "sweep killed while writing); those runs will run again.", stacklevel=2)
        return rows

    def latest(self) -> list[dict]:
        """The last row of each key, in the order keys first appeared."""
        last: dict[str, dict] = {}
        for row in self.rows():
            last.pop(row["key"], None)
            last[row["key"]] = row
        return list(last.values())

    def finished_keys(self) -> set[str]:
        """Keys whose latest row finished (``status == "ok"``)."""
        return {row["key"] for row in self.latest() if row.get("status") == "ok"}

    def append(self, row: dict) -> None:
        """Append ``row`` as one line, on a line of its own, in one ``write``."""
        if not isinstance(row.get("key"), str):
            raise ResultsFileError(f"A results row needs a string 'key', got {row!r:.200}.")
        line = json.dumps(row, sort_keys=True, allow_nan=False, default=str) + "\n"
        data = line.encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            # a file just as our last append left it ends with a newline: no need to look
            if size and size != self._size_after_append and not self._ends_with_newline():
                data = b"\n" + data                 # after a torn last line
            os.write(fd, data)
            self._size_after_append = size + len(data)
        finally:
            os.close(fd)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"
