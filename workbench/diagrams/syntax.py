"""String diagrams as data: boxes on wires, layer by layer, and their interpretation.

A :class:`Diagram` has a domain (a tuple of :class:`~workbench.diagrams.kernels.Wire`)
and a list of layers; each :class:`Layer` applies one generator to consecutive wires
and leaves the wires to its left and right alone (the "premonoidal" normal form that
DiscoPy also uses). Generators are :class:`Box` objects of five kinds:

``"box"``        a mechanism with a name; its table is supplied at interpretation time
``"copy"``       one wire into two equal wires
``"discard"``    forget a wire
``"permute"``    reorder wires (a composite of swaps)
``"do"``         the state an intervention puts on a cut wire (uniform, or a point mass)

``d1 >> d2`` and ``d1 @ d2`` build diagrams; :func:`interpret` is the functor that
sends a diagram plus one table per named box to its :class:`Kernel`. It is a functor
of Markov categories: ``interpret(d1 >> d2) == interpret(d1) >> interpret(d2)`` and the
same for ``@``, with copy, discard and permutations sent to their kernels.

Why a syntax of our own rather than DiscoPy's ``markov.Diagram`` (which gives the same
numbers): ``benchmarks/REPORT.md``, "Design notes".

Examples
--------
>>> from workbench.diagrams.kernels import Wire
>>> from workbench.diagrams.syntax import Diagram, box, copy_box, interpret
>>> s, c = Wire("smoking", 2), Wire("cancer", 2)
>>> model = box("smoking", [], [s]) >> copy_box(s) >> (Diagram.id([s]) @ box("cancer", [s], [c]))
>>> model.cod
(smoking:2, cancer:2)
>>> k = interpret(model, {"smoking": [0.7, 0.3], "cancer": [[0.9, 0.1], [0.6, 0.4]]})
>>> k.marginal(["cancer"]).table
tensor([0.8100, 0.1900], dtype=torch.float64)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch

from workbench.diagrams import kernels as K
from workbench.diagrams import structural as S
from workbench.diagrams.errors import DiagramError, WireMismatchError
from workbench.diagrams.kernels import Kernel, Wire
from workbench.errors import UnknownVariableError

__all__ = [
    "Box", "Layer", "Diagram", "box", "copy_box", "discard_box", "permute_box", "swap_box",
    "do_box", "interpret", "map_boxes", "KINDS",
]

KINDS = ("box", "copy", "discard", "permute", "do")


@dataclass(frozen=True)
class Box:
    """A generator: ``name : dom -> cod`` of a given ``kind`` (see the module docstring).

    ``data`` holds the permutation for ``"permute"`` and the value (or ``None`` for
    uniform) for ``"do"``.

    Examples
    --------
    >>> s = Wire("s", 2)
    >>> b = Box("smoking", (), (s,), "box")
    >>> b.as_diagram().cod
    (s:2,)
    """

    name: str
    dom: tuple[Wire, ...]
    cod: tuple[Wire, ...]
    kind: str = "box"
    data: tuple | int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise DiagramError(f"Unknown box kind {self.kind!r}; use one of {KINDS}.")
        object.__setattr__(self, "dom", K._as_wires(self.dom, "dom"))
        object.__setattr__(self, "cod", K._as_wires(self.cod, "cod"))

    def as_diagram(self) -> "Diagram":
        """This generator as a one-layer diagram."""
        return Diagram(self.dom, (Layer((), self, ()),))


def box(name: str, dom: Sequence[Wire], cod: Sequence[Wire]) -> "Diagram":
    """A named mechanism box, as a one-layer diagram.

    Examples
    --------
    >>> box("f", [Wire("a", 2)], [Wire("b", 2)]).dom
    (a:2,)
    """
    if not isinstance(name, str) or not name:
        raise DiagramError(f"A box needs a non-empty string name, got {name!r}.")
    return Box(name, tuple(dom), tuple(cod)).as_diagram()


def copy_box(wire: Wire) -> "Diagram":
    """The copy generator ``wire -> wire ⊗ wire``.

    Examples
    --------
    >>> copy_box(Wire("a", 2)).cod
    (a:2, a:2)
    """
    return Box("copy", (wire,), (wire, wire), "copy").as_diagram()


def discard_box(wire: Wire) -> "Diagram":
    """The discard generator ``wire -> ()`` (drawn as a ground symbol).

    Examples
    --------
    >>> discard_box(Wire("a", 2)).cod
    ()
    """
    return Box("discard", (wire,), (), "discard").as_diagram()


def permute_box(wires: Sequence[Wire], perm: Sequence[int]) -> "Diagram":
    """Reorder ``wires``: output ``j`` is input ``perm[j]``.

    Examples
    --------
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> permute_box([a, b], [1, 0]).cod
    (b:3, a:2)
    """
    wires, perm = tuple(wires), tuple(int(p) for p in perm)
    if sorted(perm) != list(range(len(wires))):
        raise DiagramError(f"{list(perm)} is not a permutation of 0..{len(wires) - 1}.")
    return Box("permute", wires, tuple(wires[p] for p in perm), "permute", perm).as_diagram()


def swap_box(a: Wire, b: Wire) -> "Diagram":
    """The symmetry ``a ⊗ b -> b ⊗ a``.

    Examples
    --------
    >>> swap_box(Wire("a", 2), Wire("b", 3)).cod
    (b:3, a:2)
    """
    return permute_box([a, b], [1, 0])


def do_box(wire: Wire, value: int | None = None) -> "Diagram":
    """The state an intervention puts on ``wire``: uniform (``None``) or ``δ_value``.

    Examples
    --------
    >>> interpret(do_box(Wire("a", 2), 1), {}).table
    tensor([0., 1.], dtype=torch.float64)
    """
    return Box(f"do({wire.name})", (), (wire,), "do", value).as_diagram()


@dataclass(frozen=True)
class Layer:
    """One generator with the untouched wires to its left and right.

    Examples
    --------
    >>> a, b = Wire("a", 2), Wire("b", 2)
    >>> layer = (Diagram.id([a]) @ copy_box(b)).layers[0]
    >>> layer.left, layer.dom, layer.cod
    ((a:2,), (a:2, b:2), (a:2, b:2, b:2))
    """

    left: tuple[Wire, ...]
    box: Box
    right: tuple[Wire, ...] = field(default=())

    @property
    def dom(self) -> tuple[Wire, ...]:
        """The wires into this layer: left, the generator's inputs, right."""
        return self.left + self.box.dom + self.right

    @property
    def cod(self) -> tuple[Wire, ...]:
        """The wires out of this layer: left, the generator's outputs, right."""
        return self.left + self.box.cod + self.right


@dataclass(frozen=True)
class Diagram:
    """A string diagram: a domain and a sequence of layers (read bottom to top).

    Examples
    --------
    >>> a = Wire("a", 2)
    >>> d = box("p", [], [a]) >> copy_box(a)
    >>> d.dom, d.cod, len(d.layers)
    ((), (a:2, a:2), 2)
    """

    dom: tuple[Wire, ...]
    layers: tuple[Layer, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "dom", K._as_wires(self.dom, "dom"))
        wires = self.dom
        for i, layer in enumerate(self.layers):
            if layer.dom != wires:
                raise WireMismatchError(
                    f"Layer {i} ({layer.box.name}) expects wires {K._type_text(layer.dom)} "
                    f"but receives {K._type_text(wires)}."
                )
            wires = layer.cod

    @staticmethod
    def id(wires: Sequence[Wire] = ()) -> "Diagram":
        """The identity diagram: bare wires."""
        return Diagram(tuple(wires), ())

    @property
    def cod(self) -> tuple[Wire, ...]:
        """The output wires of the diagram."""
        return self.layers[-1].cod if self.layers else self.dom

    @property
    def boxes(self) -> list[Box]:
        """The generators of every layer, bottom to top."""
        return [layer.box for layer in self.layers]

    def __rshift__(self, other: "Diagram") -> "Diagram":
        if self.cod != other.dom:
            raise WireMismatchError(
                f"Cannot compose diagrams: the first ends in {K._type_text(self.cod)} "
                f"but the second starts from {K._type_text(other.dom)}."
            )
        return Diagram(self.dom, self.layers + other.layers)

    def __matmul__(self, other: "Diagram") -> "Diagram":
        first = tuple(Layer(l.left, l.box, l.right + other.dom) for l in self.layers)
        second = tuple(Layer(self.cod + l.left, l.box, l.right) for l in other.layers)
        return Diagram(self.dom + other.dom, first + second)

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        names = ", ".join(b.name for b in self.boxes)
        return f"Diagram({K._type_text(self.dom)} -> {K._type_text(self.cod)}; [{names}])"


def map_boxes(diagram: Diagram, f: Callable[[Box], Diagram | None]) -> Diagram:
    """The endofunctor that sends each generator ``b`` to the diagram ``f(b)``.

    ``f`` returns ``None`` to keep a generator unchanged; a replacement must have the
    same domain and codomain. Because it acts layer by layer, the result preserves
    ``>>`` and ``@``: this is how surgery is defined.

    Examples
    --------
    >>> a = Wire("a", 2)
    >>> d = box("p", [], [a]) >> copy_box(a)
    >>> renamed = map_boxes(d, lambda b: box("q", b.dom, b.cod) if b.kind == "box" else None)
    >>> [b.name for b in renamed.boxes]
    ['q', 'copy']
    """
    out = Diagram.id(diagram.dom)
    for layer in diagram.layers:
        new = f(layer.box)
        if new is None:
            new = layer.box.as_diagram()
        elif new.dom != layer.box.dom or new.cod != layer.box.cod:
            raise WireMismatchError(
                f"The replacement of box {layer.box.name!r} has type {K._type_text(new.dom)} -> "
                f"{K._type_text(new.cod)}; it must keep {K._type_text(layer.box.dom)} -> "
                f"{K._type_text(layer.box.cod)}."
            )
        out = out >> (Diagram.id(layer.left) @ new @ Diagram.id(layer.right))
    return out


def _box_kernel(b: Box, tables: Mapping[str, object], device) -> Kernel:
    if b.kind == "copy":
        return S.copy(b.dom[0], device=device)
    if b.kind == "discard":
        return S.discard(b.dom, device=device)
    if b.kind == "permute":
        return S.permutation(b.dom, b.data, device=device)
    if b.kind == "do":
        return S.uniform(b.cod, device=device) if b.data is None else S.point(b.cod[0], b.data, device=device)
    table = tables[b.name]
    if isinstance(table, Kernel):
        if table.inputs != b.dom or table.outputs != b.cod:
            raise WireMismatchError(
                f"The kernel given for box {b.name!r} is {table}; the box needs "
                f"{K._type_text(b.dom)} -> {K._type_text(b.cod)}."
            )
        return table
    if not isinstance(table, torch.Tensor):
        table = torch.as_tensor(table, dtype=torch.float64, device=device)
    return Kernel(table, b.dom, b.cod)


def interpret(diagram: Diagram, tables: Mapping[str, object], *, device=None) -> Kernel:
    """The kernel a diagram denotes, given a table (or :class:`Kernel`) per named box.

    Tables may carry leading batch axes; the result then has them too.

    Raises
    ------
    UnknownVariableError
        If a named box has no table, or a table names no box (a typo).
    NotStochasticError, WireMismatchError
        If a table is not a kernel of its box's type.

    Examples
    --------
    >>> a = Wire("a", 2)
    >>> interpret(box("p", [], [a]) >> copy_box(a), {"p": [0.25, 0.75]}).table
    tensor([[0.2500, 0.0000],
            [0.0000, 0.7500]], dtype=torch.float64)
    """
    device = K.default_device() if device is None else device
    names = {b.name for b in diagram.boxes if b.kind == "box"}
    for name in tables:
        if name not in names:
            raise UnknownVariableError(name, names, what="box name")
    for b in diagram.boxes:
        if b.kind == "box" and b.name not in tables:
            sizes = tuple(w.size for w in b.dom + b.cod)
            raise DiagramError(f"Box {b.name!r} has no table: pass tables[{b.name!r}], a "
                               f"stochastic table of shape {sizes}.")
    result = S.identity(diagram.dom, device=device)
    for layer in diagram.layers:
        result = _apply_layer(result, len(layer.left), layer.box, tables, device)
    return result


def _apply_layer(result: Kernel, offset: int, b: Box, tables, device) -> Kernel:
    """``result >> (id @ [[b]] @ id)``; structural boxes act on axes without dense tables."""
    if b.kind == "permute":
        return S.permute_at(result, offset, b.dom, b.data)
    if b.kind == "discard":
        return S.discard_at(result, offset, b.dom[0])
    if b.kind == "copy":
        return S.copy_at(result, offset, b.dom[0])
    return K.apply_at(result, offset, _box_kernel(b, tables, device))
