"""Discrete causal models in the diagrams area: converters, all in one place.

The area works on the one discrete causal network of the workbench,
:class:`~workbench.identification.DiscreteCPTModel` (a DAG with hidden variables
marked, one conditional probability table per variable). Here it meets the diagrams'
semantics: :func:`diagram_of` builds its string diagram (the order of the boxes is the
tables' layout :attr:`~workbench.identification.DiscreteCPTModel.tables`, parents sorted
by name), :func:`joint_kernel` and :func:`interventional_kernel` give its laws as
:class:`~workbench.diagrams.kernels.Kernel` states, and :func:`kernel_of_table` /
:func:`table_of_kernel` pass one joint between identification's
:class:`~workbench.identification.DiscreteTable` and a kernel. :func:`from_scm` and
``model.to_scm()`` go to and from a Pyro SCM.

Examples
--------
>>> m = smoking_example()
>>> m.hidden, m.observed
(['genotype'], ('smoking', 'tar', 'cancer'))
>>> truth = interventional_kernel(m, "smoking", ["cancer"])    # surgery on the generating model
>>> [round(v, 4) for v in truth.table[:, 1].tolist()]           # P(cancer=1 | do(smoking=s))
[0.143, 0.278]
>>> table_of_kernel(joint_kernel(m)).max_abs_diff(m.observational()) < 1e-12   # 03 <-> 04
True
"""

from __future__ import annotations

from typing import Mapping, Sequence

import networkx as nx
import torch

from workbench.diagrams.causal import causal_diagram, joint_of
from workbench.diagrams.errors import DiagramError
from workbench.diagrams.kernels import Kernel, Wire
from workbench.diagrams.surgery import interventional
from workbench.diagrams.syntax import Diagram
from workbench.graphs import dag, topological_order
from workbench.identification.tables import DiscreteTable
from workbench.identification.truth import DiscreteCPTModel

__all__ = ["causal_tables", "diagram_of", "joint_kernel", "interventional_kernel", "kernel_of_table",
           "table_of_kernel", "from_scm", "smoking_example", "random_front_door"]


def causal_tables(graph: nx.DiGraph, sizes: Mapping[str, int], tables: Mapping) -> DiscreteCPTModel:
    """A discrete causal model from a DAG, the sizes and one table per variable (parents sorted).

    Examples
    --------
    >>> m = causal_tables(dag([("x", "y")]), {"x": 2, "y": 2}, {"x": [0.5, 0.5], "y": [[1.0, 0.0], [0.0, 1.0]]})
    >>> joint_kernel(m).table
    tensor([[0.5000, 0.0000],
            [0.0000, 0.5000]], dtype=torch.float64)
    """
    return DiscreteCPTModel.from_tables(graph, sizes, tables)


def diagram_of(model: DiscreteCPTModel) -> Diagram:
    """The string diagram of the model (hidden variables inside, not output).

    Examples
    --------
    >>> diagram_of(smoking_example()).cod
    (smoking:2, tar:2, cancer:2)
    """
    return causal_diagram(model.graph, model.sizes)


def joint_kernel(model: DiscreteCPTModel) -> Kernel:
    """The observational distribution of the observed variables, as a state.

    Examples
    --------
    >>> joint_kernel(smoking_example()).output_names
    ['smoking', 'tar', 'cancer']
    """
    return joint_of(model.graph, model.sizes, model.tables)


def interventional_kernel(model: DiscreteCPTModel, treatment: str, outcome: Sequence[str] | None = None) -> Kernel:
    """``P(outcome | do(treatment))`` by surgery on the generating model.

    Examples
    --------
    >>> interventional_kernel(smoking_example(), "smoking", ["cancer"]).input_names
    ['smoking']
    """
    return interventional(model.graph, model.sizes, model.tables, treatment, outcome=outcome)


def kernel_of_table(table: DiscreteTable) -> Kernel:
    """An identification table (a joint over its variables) as a diagrams state.

    Examples
    --------
    >>> t = DiscreteTable(("x",), torch.tensor([0.25, 0.75]))
    >>> kernel_of_table(t).output_names
    ['x']
    """
    wires = [Wire(str(v), int(k)) for v, k in zip(table.variables, table.values.shape)]
    return Kernel(table.values, [], wires)


def table_of_kernel(state: Kernel) -> DiscreteTable:
    """A diagrams state (a kernel with no inputs) as an identification table.

    Examples
    --------
    >>> table_of_kernel(kernel_of_table(DiscreteTable(("x",), torch.tensor([0.25, 0.75])))).values
    tensor([0.2500, 0.7500], dtype=torch.float64)
    """
    if state.inputs:
        raise DiagramError(f"Only a state (no input wires) is a joint table; {state} has inputs "
                           f"{state.input_names}. Fix them first (e.g. with .condition).")
    return DiscreteTable(tuple(state.output_names), state.table.detach().cpu())


def from_scm(scm) -> DiscreteCPTModel:
    """Read a discrete :class:`workbench.scm.SCM` (all ``DiscreteCPT`` mechanisms).

    Examples
    --------
    >>> from workbench.scm import asia
    >>> from_scm(asia()).sizes["smoke"]
    2
    """
    from workbench.scm import DiscreteCPT

    bad = [v for v, m in scm.mechanisms.items() if not isinstance(m, DiscreteCPT)]
    if bad:
        raise DiagramError(f"Variable {bad[0]!r} has a {type(scm.mechanisms[bad[0]]).__name__} mechanism; "
                           "string diagrams here need discrete tables (DiscreteCPT) for every variable.")
    return DiscreteCPTModel.from_scm(scm)


def smoking_example() -> DiscreteCPTModel:
    """Smoking -> tar -> cancer with a hidden genotype (``workbench.scm.smoking_front_door``).

    Examples
    --------
    >>> smoking_example().latents
    ('genotype',)
    """
    from workbench.scm import smoking_front_door

    return from_scm(smoking_front_door())


def _random_table(shape, g: torch.Generator) -> torch.Tensor:
    e = -torch.log1p(-torch.rand(shape, generator=g, dtype=torch.float64))
    return e / e.sum(-1, keepdim=True)


def random_front_door(seed: int = 0, *, sizes: Mapping[str, int] | None = None,
                      extra: bool = False) -> DiscreteCPTModel:
    """A random model with the front-door shape: ``h -> x, h -> y, x -> z -> y``.

    With ``extra=True`` a second mediator ``z2`` (``x -> z2``, ``z -> z2``, ``z2 -> y``)
    and a further outcome ``w`` (``y -> w``, ``h -> w``) are added; the paper's
    sufficient condition still holds. Tables are uniform on the simplex (full support).

    Examples
    --------
    >>> random_front_door(0).hidden
    ['h']
    """
    edges = [("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")]
    if extra:
        edges += [("x", "z2"), ("z", "z2"), ("z2", "y"), ("y", "w"), ("h", "w")]
    g = dag(edges)
    g.nodes["h"]["latent"] = True
    sizes = dict(sizes or {})
    for v in g.nodes:
        sizes.setdefault(v, 2)
    gen = torch.Generator().manual_seed(int(seed))
    tables = {v: _random_table([sizes[p] for p in sorted(g.predecessors(v))] + [sizes[v]], gen)
              for v in topological_order(g)}
    return causal_tables(g, sizes, tables)
