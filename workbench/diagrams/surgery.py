"""Intervention as string-diagram surgery.

``cut(diagram, "X")`` is the endofunctor of Jacobs, Kissinger & Zanasi (2019) that
replaces the box of ``X`` by "discard its inputs, then emit a fixed state on X": the
wires into ``X`` are cut, everything else is untouched. With the uniform state, the
interpreted diagram is a joint distribution in which ``X`` has full support and is
independent of everything upstream of it, so disintegrating it on ``X`` gives the
interventional channel ``x ↦ P(rest | do(X = x))``. With a point state ``δ_x`` it gives
``P(rest | do(X = x))`` directly.

This needs a table for *every* box, hidden ones included: it is surgery on the
generating model. :mod:`workbench.diagrams.identify` computes the same channel from
the observational joint alone when the paper's sufficient conditions hold.

Examples
--------
>>> from workbench.graphs import dag
>>> from workbench.diagrams.causal import causal_diagram
>>> from workbench.diagrams.surgery import cut, interventional
>>> g = dag([("u", "x"), ("u", "y"), ("x", "y")])
>>> sizes = {"u": 2, "x": 2, "y": 2}
>>> tables = {"u": [0.5, 0.5], "x": [[0.9, 0.1], [0.1, 0.9]],
...           "y": [[[0.9, 0.1], [0.5, 0.5]], [[0.5, 0.5], [0.1, 0.9]]]}
>>> [b.kind for b in cut(causal_diagram(g, sizes, hidden=["u"]), "x").boxes][:4]
['box', 'copy', 'discard', 'do']
>>> interventional(g, sizes, tables, "x", hidden=["u"]).table   # P(y | do(x)), rows x
tensor([[0.7000, 0.3000],
        [0.3000, 0.7000]], dtype=torch.float64)
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import networkx as nx

from workbench.diagrams.causal import causal_diagram
from workbench.diagrams.kernels import Kernel
from workbench.diagrams.syntax import Box, Diagram, do_box, interpret, map_boxes
from workbench.errors import UnknownVariableError

__all__ = ["cut", "cut_boxes", "interventional"]


def cut_boxes(diagram: Diagram) -> list[str]:
    """Names of the variables a diagram has been cut at (its ``do`` boxes).

    Examples
    --------
    >>> from workbench.diagrams.models import diagram_of, smoking_example
    >>> cut_boxes(cut(diagram_of(smoking_example()), "smoking"))
    ['smoking']
    """
    return [b.cod[0].name for b in diagram.boxes if b.kind == "do"]


def _cut_one(b: Box, value) -> Diagram:
    """Discard each input wire (a discard named ``cut(X)``, drawn as the cut), then ``do``."""
    d = Diagram.id(b.dom)
    for w in b.dom:
        cut_wire = Box(f"cut({b.name})", (w,), (), "discard").as_diagram()
        d = d >> (cut_wire @ Diagram.id(d.cod[1:]))
    return d >> do_box(b.cod[0], value)


def cut(diagram: Diagram, variable: str, value: int | None = None) -> Diagram:
    """Surgery: replace the box ``variable`` by discards of its inputs and a ``do`` state.

    Parameters
    ----------
    diagram : Diagram
    variable : str
        The name of a box with one output wire.
    value : int, optional
        ``None`` (default) puts the uniform state on the wire, so the result can be
        disintegrated on ``variable``; an integer puts the point mass ``δ_value``.

    Raises
    ------
    UnknownVariableError
        If no box is called ``variable`` (a misspelled intervention must not be a no-op).

    Examples
    --------
    >>> from workbench.diagrams.models import diagram_of, smoking_example
    >>> d = cut(diagram_of(smoking_example()), "smoking", value=1)
    >>> [b.name for b in d.boxes if b.kind == "do"]
    ['do(smoking)']
    """
    names = [b.name for b in diagram.boxes if b.kind == "box"]
    if variable not in names:
        raise UnknownVariableError(variable, names, what="box to cut")
    target = next(b for b in diagram.boxes if b.kind == "box" and b.name == variable)
    if value is not None:
        from workbench.diagrams.structural import point
        point(target.cod[0], value)  # validates the value with a typed error
    return map_boxes(diagram, lambda b: _cut_one(b, value) if b == target else None)


def interventional(graph: nx.DiGraph, sizes: Mapping[str, int], tables: Mapping[str, object],
                   treatment: str, *, hidden: Iterable[str] | None = None,
                   outcome: Sequence[str] | None = None) -> Kernel:
    """``P(outcome | do(treatment))`` by surgery on the generating model, as a kernel.

    The result has input wire ``treatment`` and outputs ``outcome`` (default: every other
    observed variable, in topological order). Every table, hidden ones included, is needed.

    Examples
    --------
    >>> from workbench.graphs import dag
    >>> k = interventional(dag([("x", "y")]), {"x": 2, "y": 2},
    ...                    {"x": [0.5, 0.5], "y": [[0.9, 0.1], [0.2, 0.8]]}, "x")
    >>> k.table
    tensor([[0.9000, 0.1000],
            [0.2000, 0.8000]], dtype=torch.float64)
    """
    diagram = cut(causal_diagram(graph, sizes, hidden=hidden), treatment)
    observed = [w.name for w in diagram.cod]
    kept = {name: t for name, t in tables.items() if name != treatment}  # its box is gone
    channel = interpret(diagram, kept).disintegrate([treatment])
    if outcome is None:
        return channel
    for name in outcome:
        if name not in observed or name == treatment:
            raise UnknownVariableError(name, [o for o in observed if o != treatment], what="outcome")
    return channel.marginal(list(outcome))
