"""The string diagram of a causal graph: one box per variable, copies for its children.

Following Jacobs, Kissinger & Zanasi (2019), a causal graph becomes a diagram built in
topological order. Each variable ``V`` is a box ``V : parents(V) -> V`` (parents in the
order :func:`workbench.graphs.parents` gives, i.e. sorted by name). Its output wire is
copied once for each child and once for the diagram's output; a *hidden* variable has
no output copy, and a hidden variable with no children is discarded. The tables that
interpret the boxes are conditional probability tables of shape
``(*parent sizes, size of V)``.

Hidden variables are nodes with the attribute ``latent=True`` (the convention of
:meth:`workbench.graphs.ADMG.to_canonical_dag`) or those named in ``hidden``.

Examples
--------
>>> from workbench.graphs import dag
>>> from workbench.diagrams.causal import causal_diagram
>>> g = dag([("u", "x"), ("u", "y"), ("x", "y")])
>>> d = causal_diagram(g, {"u": 2, "x": 2, "y": 3}, hidden=["u"])
>>> d.cod
(x:2, y:3)
>>> [b.name for b in d.boxes if b.kind == "box"]
['u', 'x', 'y']
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import networkx as nx

from workbench.diagrams.errors import DiagramError
from workbench.diagrams.kernels import Kernel, Wire
from workbench.diagrams.syntax import (
    Diagram, box, copy_box, discard_box, interpret, permute_box,
)
from workbench.errors import UnknownVariableError
from workbench.graphs import check_nodes, parents, topological_order, validate

__all__ = ["hidden_nodes", "causal_diagram", "joint_of", "wire_of"]


def hidden_nodes(graph: nx.DiGraph, hidden: Iterable[str] | None = None) -> list[str]:
    """Nodes marked ``latent=True`` plus those named in ``hidden`` (checked to exist).

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> g = dag([("u", "x"), ("u", "y")]); g.nodes["u"]["latent"] = True
    >>> hidden_nodes(g), hidden_nodes(g, ["x"])
    (['u'], ['u', 'x'])
    """
    validate(graph)
    if not isinstance(graph, nx.DiGraph):
        raise DiagramError("Causal diagrams are built from a DAG (networkx.DiGraph); for an "
                           "ADMG use graph.to_canonical_dag() to make its confounders explicit.")
    named = list(hidden or [])
    check_nodes(graph, named)
    marked = [n for n, d in graph.nodes(data=True) if d.get("latent")]
    return sorted(set(named) | set(marked), key=str)


def wire_of(name: str, sizes: Mapping[str, int]) -> Wire:
    """The wire of variable ``name`` with its number of values from ``sizes``.

    Examples
    --------
    >>> wire_of("x", {"x": 3})
    x:3
    """
    if name not in sizes:
        raise UnknownVariableError(name, list(sizes), what="variable in sizes")
    return Wire(str(name), sizes[name])


def _move_to_end(wires: list[Wire], positions: Sequence[int]) -> Diagram:
    rest = [i for i in range(len(wires)) if i not in positions]
    return permute_box(wires, rest + list(positions))


def causal_diagram(graph: nx.DiGraph, sizes: Mapping[str, int], *,
                   hidden: Iterable[str] | None = None,
                   outputs: Sequence[str] | None = None) -> Diagram:
    """The diagram ``() -> observed variables`` of a causal DAG.

    Parameters
    ----------
    graph : networkx.DiGraph
    sizes : dict
        Number of values of every variable, hidden ones included.
    hidden : iterable of str, optional
        Variables that are not outputs of the diagram (besides ``latent=True`` nodes).
    outputs : sequence of str, optional
        Order of the output wires; default: the observed variables in topological order.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> causal_diagram(dag([("x", "y")]), {"x": 2, "y": 2}).cod
    (x:2, y:2)
    """
    hid = set(hidden_nodes(graph, hidden))
    order = topological_order(graph)
    for n in order:
        wire_of(n, sizes)
    children_left = {n: len(list(graph.successors(n))) for n in order}
    d = Diagram.id(())
    wires: list[Wire] = []          # the wires currently open, left to right
    for v in order:
        pas = parents(graph, v)
        take = []                   # positions of the wires fed into v's box
        for p in pas:
            i = next(i for i, w in enumerate(wires) if w.name == p and i not in take)
            children_left[p] -= 1
            if p in hid and children_left[p] == 0:
                take.append(i)      # last use of a hidden wire: consume it, no copy
                continue
            d = d >> (Diagram.id(wires[:i]) @ copy_box(wires[i]) @ Diagram.id(wires[i + 1:]))
            take = [t + 1 if t > i else t for t in take]
            wires.insert(i + 1, wires[i])
            take.append(i + 1)
        if take and take != list(range(len(wires) - len(take), len(wires))):
            d = d >> _move_to_end(wires, take)
            moved = [wires[t] for t in take]
            wires = [w for j, w in enumerate(wires) if j not in take] + moved
        n_in = len(take)
        d = d >> (Diagram.id(wires[:len(wires) - n_in]) @ box(v, wires[len(wires) - n_in:], [wire_of(v, sizes)]))
        wires = wires[:len(wires) - n_in] + [wire_of(v, sizes)]
        if v in hid and children_left[v] == 0:
            d = d >> (Diagram.id(wires[:-1]) @ discard_box(wires[-1]))
            wires = wires[:-1]
    observed = [w.name for w in wires]
    if outputs is not None:
        outputs = list(outputs)
        for name in outputs:
            if name not in observed:
                raise UnknownVariableError(name, observed, what="observed variable")
        if sorted(outputs) != sorted(observed):
            raise DiagramError(f"outputs must list every observed variable once: {observed}.")
        perm = [observed.index(n) for n in outputs]
        if perm != list(range(len(perm))):
            d = d >> permute_box(wires, perm)
    return d


def joint_of(graph: nx.DiGraph, sizes: Mapping[str, int], tables: Mapping[str, object], *,
             hidden: Iterable[str] | None = None, outputs: Sequence[str] | None = None) -> Kernel:
    """The observational distribution of the observed variables (a state).

    ``tables[v]`` is ``P(v | parents(v))`` with shape ``(*parent sizes, sizes[v])``
    (parents sorted by name), possibly with leading batch axes.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> joint_of(dag([("x", "y")]), {"x": 2, "y": 2}, {"x": [0.5, 0.5], "y": [[1.0, 0.0], [0.0, 1.0]]}).table
    tensor([[0.5000, 0.0000],
            [0.0000, 0.5000]], dtype=torch.float64)
    """
    return interpret(causal_diagram(graph, sizes, hidden=hidden, outputs=outputs), tables)
