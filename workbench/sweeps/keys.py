"""The stable key that names each run of a sweep.

Each run is named by :func:`run_key`: the SHA-256 of its *canonical* JSON
(:func:`canonical_json`: sorted keys, no spaces, floats as Python writes them)
together with the workbench version. The key is the same in every process and on
every machine; Python's ``hash()`` of a string is not (it changes with
``PYTHONHASHSEED``), so it is never used.

This module imports nothing else of the sweeps area but its errors, so the grid
(:mod:`.config`), the runner and the worker-side task can all use it.

Examples
--------
>>> run = {"model": "vae", "seed": 0, "hyper": {}}
>>> run_key(run, version="1") == run_key(dict(reversed(list(run.items()))), version="1")
True
>>> run_key(run, version="1") == run_key(run, version="2")
False
"""

from __future__ import annotations

import hashlib
import json

from workbench.sweeps.errors import SweepConfigError

__all__ = ["run_key", "canonical_json"]


def canonical_json(value) -> str:
    """``value`` as JSON with sorted keys and no spaces; NaN and infinity refused.

    Examples
    --------
    >>> canonical_json({"b": [1, 2.5], "a": "x"})
    '{"a":"x","b":[1,2.5]}'
    >>> canonical_json({"lr": float("nan")})
    Traceback (most recent call last):
    ...
    workbench.sweeps.errors.SweepConfigError: A run configuration must hold only strings, finite numbers, lists and dicts: Out of range float values are not JSON compliant.
    """
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SweepConfigError(
            f"A run configuration must hold only strings, finite numbers, lists and dicts: "
            f"{exc}.") from exc


def run_key(config: dict, version: str | None = None) -> str:
    """The run's name: 16 hex digits of SHA-256 over its canonical JSON and the version.

    ``version`` defaults to ``workbench.__version__``: a new release runs again.

    Examples
    --------
    >>> run_key({"model": "vae", "seed": 0}, version="0.1")    # the same in every process
    '5e999693f6d9675b'
    >>> len(run_key({"model": "vae", "seed": 0}))
    16
    """
    if version is None:
        from workbench import __version__ as version
    text = canonical_json({"config": config, "workbench": version})
    return hashlib.sha256(text.encode()).hexdigest()[:16]
