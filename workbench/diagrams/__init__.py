"""String-diagram surgery (Jacobs, Kissinger & Zanasi, FoSSaCS 2019), made executable.

Syntax and semantics are kept apart, one idea per module:

- :mod:`~workbench.diagrams.kernels`: semantics. Finite Markov kernels as torch tensors
  with named, typed wires; ``>>``, ``@``, copy, discard, swap, marginals, conditioning,
  disintegration; batched, on ``workbench.runtime.device()``.
- :mod:`~workbench.diagrams.syntax`: diagrams of boxes and wires, and the interpretation
  functor ``interpret(diagram, tables) -> Kernel``. Our own small syntax, not DiscoPy's
  (the module docstring says why).
- :mod:`~workbench.diagrams.causal`: the diagram of a causal DAG (a box per variable,
  copies for its children, hidden variables kept inside).
- :mod:`~workbench.diagrams.surgery`: intervention as the endofunctor ``cut``.
- :mod:`~workbench.diagrams.comb`: comb disintegration.
- :mod:`~workbench.diagrams.identify`: the sufficient conditions under which surgery is
  computable from observational data, with a typed error when they fail.
- :mod:`~workbench.diagrams.models`, :mod:`~workbench.diagrams.compare`: discrete models
  (to and from ``workbench.scm``) and one query answered by several independent routes.
- drawings (the cut wires marked) are in :mod:`workbench.plots.diagrams`.

Examples
--------
>>> import workbench.diagrams as wd
>>> m = wd.smoking_example()
>>> effect = wd.from_observational(m.graph, wd.joint_kernel(m), "smoking", outcome=["cancer"])
>>> effect.allclose(wd.interventional_kernel(m, "smoking", ["cancer"]))
True
"""

from workbench.diagrams.causal import causal_diagram, hidden_nodes, joint_of
from workbench.diagrams.comb import Comb, comb_disintegrate
from workbench.diagrams.errors import (
    DiagramError, NotStochasticError, SupportError, SurgeryConditionsError, WireMismatchError,
)
from workbench.diagrams.identify import (
    SurgeryShape, from_observational, observational_tables, surgery_conditions,
)
from workbench.diagrams.kernels import Kernel, Wire, apply_at, compose, tensor
from workbench.diagrams.structural import (
    copy, copy_all, discard, graph_of, identity, kernel, permutation, point, random_kernel, state,
    swap, uniform,
)
from workbench.diagrams.models import (
    causal_tables, diagram_of, from_scm, interventional_kernel, joint_kernel, kernel_of_table,
    random_front_door, smoking_example, table_of_kernel,
)
from workbench.diagrams.surgery import cut, cut_boxes, interventional
from workbench.diagrams.syntax import (
    Box, Diagram, Layer, box, copy_box, discard_box, do_box, interpret, map_boxes, permute_box,
    swap_box,
)

__all__ = [
    "Kernel", "Wire", "kernel", "state", "uniform", "point", "identity", "copy", "copy_all",
    "discard", "swap", "permutation", "random_kernel", "compose", "tensor", "apply_at",
    "graph_of", "Box", "Layer", "Diagram", "box", "copy_box", "discard_box", "permute_box",
    "swap_box", "do_box", "interpret", "map_boxes", "causal_diagram", "hidden_nodes",
    "joint_of", "cut", "cut_boxes", "interventional", "Comb", "comb_disintegrate",
    "SurgeryShape", "surgery_conditions", "from_observational", "observational_tables",
    "causal_tables", "diagram_of", "joint_kernel", "interventional_kernel", "kernel_of_table",
    "table_of_kernel", "from_scm", "smoking_example", "random_front_door", "DiagramError",
    "NotStochasticError", "WireMismatchError", "SupportError", "SurgeryConditionsError",
]
