"""workbench: a Jupyter-native workbench for causal representation learning.

Import it as ``import workbench as wb``. The areas, in the order data flows:
``errors``, ``runtime``, ``graphs``, ``scm``, ``identification``, ``estimation``,
``diagrams``, ``datasets``, ``latents``, ``metrics``, ``crl``, ``deepscm``, ``sweeps``, then ``plots`` and
``widgets`` on top, and ``exercises`` (the curriculum's checkers).
Areas are imported on first use, so ``import workbench`` stays quick.

Examples
--------
>>> import workbench as wb
>>> wb.graphs.dag([("x", "y")]).number_of_edges()
1
"""

from __future__ import annotations

import importlib

from workbench import errors, runtime
from workbench.runtime import device, seed_everything

__version__ = "0.1.0"

AREAS = ("graphs", "scm", "identification", "estimation", "diagrams", "datasets", "latents",
         "metrics", "crl", "deepscm", "sweeps", "plots", "widgets", "devtools", "exercises")

__all__ = ["errors", "runtime", "device", "seed_everything", "__version__", *AREAS]


def __getattr__(name: str):
    if name in AREAS:
        module = importlib.import_module(f"workbench.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(AREAS))
