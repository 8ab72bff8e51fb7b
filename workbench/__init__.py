"""workbench: a Jupyter-native workbench for causal representation learning.

Import it as ``import workbench as wb``. The areas, in the order data flows:
``errors``, ``runtime``, ``graphs``, ``scm``, ``diagrams``, ``datasets``,
``latents``, ``metrics``, then ``plots`` and ``widgets`` on top.
"""

from workbench import errors, graphs, runtime
from workbench.runtime import device, seed_everything

__version__ = "0.1.0"
__all__ = ["errors", "graphs", "runtime", "device", "seed_everything", "__version__"]
