"""Kernels from tables, and the structural kernels of a Markov category.

Constructors (:func:`kernel`, :func:`state`, :func:`uniform`, :func:`point`,
:func:`random_kernel`), the structural kernels (:func:`identity`, :func:`copy`,
:func:`discard`, :func:`swap`, :func:`permutation`, :func:`graph_of`), and the same
structural kernels applied at a position of another kernel's outputs without building
their dense tables (:func:`permute_at`, :func:`discard_at`, :func:`copy_at`), which is how
a diagram is evaluated quickly. The kernel type itself is :mod:`workbench.diagrams.kernels`.

Examples
--------
>>> from workbench.diagrams.kernels import Wire
>>> a = Wire("a", 2)
>>> (state([a], [0.25, 0.75]) >> copy(a)).table
tensor([[0.2500, 0.0000],
        [0.0000, 0.7500]], dtype=torch.float64)
"""

from __future__ import annotations

from math import prod
from typing import Sequence

import torch

from workbench.diagrams.errors import DiagramError, WireMismatchError
from workbench.diagrams.kernels import Kernel, Wire, _as_wires, _type_text
from workbench.runtime import device as default_device

__all__ = ["kernel", "state", "uniform", "point", "identity", "copy", "copy_all", "graph_of",
           "discard", "swap", "permutation", "random_kernel", "permute_at", "discard_at", "copy_at"]


# -- constructors ---------------------------------------------------------------------
def kernel(inputs: Sequence[Wire], outputs: Sequence[Wire], table) -> Kernel:
    """A validated kernel from a table (shorthand for :class:`Kernel`).

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> kernel([a], [Wire("c", 2)], [[1.0, 0.0], [0.5, 0.5]])
    Kernel((a:2) -> (c:2))
    """
    return Kernel(table, inputs, outputs)


def state(outputs: Sequence[Wire], probs) -> Kernel:
    """A distribution (a kernel with no inputs).

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> state([a], [0.3, 0.7]).table
    tensor([0.3000, 0.7000], dtype=torch.float64)
    """
    return Kernel(probs, (), outputs)


def _dev(dtype=torch.float64, device=None):
    return {"dtype": dtype, "device": default_device() if device is None else device}


def uniform(outputs: Sequence[Wire], *, device=None) -> Kernel:
    """The uniform distribution on ``outputs``.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> uniform([b]).table
    tensor([0.3333, 0.3333, 0.3333], dtype=torch.float64)
    """
    outputs = _as_wires(outputs, "outputs")
    n = prod(w.size for w in outputs)
    return Kernel(torch.full([w.size for w in outputs], 1.0 / n, **_dev(device=device)), (), outputs,
                  check=False)


def point(wire: Wire, value: int, *, device=None) -> Kernel:
    """The point mass ``δ_value`` on one wire.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> point(b, 2).table
    tensor([0., 0., 1.], dtype=torch.float64)
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < wire.size:
        raise DiagramError(f"Value {value!r} of {wire.name!r} must be an integer in 0..{wire.size - 1}.")
    t = torch.zeros(wire.size, **_dev(device=device))
    t[value] = 1.0
    return Kernel(t, (), (wire,), check=False)


def identity(wires: Sequence[Wire], *, device=None) -> Kernel:
    """The identity kernel on ``wires`` (each value goes to itself).

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> identity([a]).table
    tensor([[1., 0.],
            [0., 1.]], dtype=torch.float64)
    """
    wires = _as_wires(wires, "wires")
    sizes = [w.size for w in wires]
    n = prod(sizes)
    return Kernel(torch.eye(n, **_dev(device=device)).reshape(sizes + sizes), wires, wires, check=False)


def copy(wire: Wire, n: int = 2, *, device=None) -> Kernel:
    """Copy one wire into ``n`` identical wires (``n = 0`` discards it).

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> copy(a)
    Kernel((a:2) -> (a:2, a:2))
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DiagramError(f"copy needs a number of copies n >= 0, got {n!r}.")
    t = torch.zeros([wire.size] * (n + 1), **_dev(device=device))
    idx = torch.arange(wire.size, device=t.device)
    t[(idx,) * (n + 1)] = 1.0
    return Kernel(t, (wire,), (wire,) * n, check=False)


def copy_all(wires: Sequence[Wire], *, device=None) -> Kernel:
    """Copy several wires at once: ``ws -> ws ⊗ ws``.

    Equal to ``copy(w1) @ copy(w2) @ ...`` followed by the permutation that untangles
    the copies (the laws tests check this), built directly.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> copy_all([a, b]).output_names
    ['a', 'b', 'a', 'b']
    """
    return graph_of(identity(wires, device=device))


def graph_of(k: Kernel) -> Kernel:
    """``k`` with its inputs copied to the front of its outputs: ``a ↦ δ_a ⊗ k(a)``.

    Equal to ``copy_all(k.inputs) >> (identity(k.inputs) @ k)``; built directly by
    writing ``k``'s rows on the diagonal, so no large identity is materialised.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> graph_of(kernel([a], [b], [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])).output_names
    ['a', 'b']
    """
    batch = tuple(k.batch_shape)
    n = prod(w.size for w in k.inputs)
    m = prod(w.size for w in k.outputs)
    rows = k.table.reshape(batch + (n, m))
    out = rows.new_zeros(batch + (n, n, m))
    idx = torch.arange(n, device=rows.device)
    out[..., idx, idx, :] = rows
    sizes = [w.size for w in k.inputs]
    out = out.reshape(batch + tuple(sizes + sizes + [w.size for w in k.outputs]))
    return Kernel(out, k.inputs, k.inputs + k.outputs, check=False)


def discard(wires: Sequence[Wire], *, device=None) -> Kernel:
    """Forget ``wires``: the unique kernel ``wires -> ()``.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> (state([a], [0.3, 0.7]) >> discard([a])).table
    tensor(1., dtype=torch.float64)
    """
    wires = _as_wires(wires, "wires")
    return Kernel(torch.ones([w.size for w in wires], **_dev(device=device)), wires, (), check=False)


def permutation(wires: Sequence[Wire], perm: Sequence[int], *, device=None) -> Kernel:
    """Reorder wires: output ``j`` is input ``perm[j]``.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> permutation([a, b], [1, 0]).output_names
    ['b', 'a']
    """
    wires = _as_wires(wires, "wires")
    perm = list(perm)
    if sorted(perm) != list(range(len(wires))):
        raise DiagramError(f"{perm} is not a permutation of 0..{len(wires) - 1}.")
    ident = identity(wires, device=device).table
    k = len(wires)
    t = ident.permute(list(range(k)) + [k + p for p in perm])
    return Kernel(t, wires, [wires[p] for p in perm], check=False)


def swap(a: Wire, b: Wire, *, device=None) -> Kernel:
    """The symmetry ``a ⊗ b -> b ⊗ a``.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> swap(a, b)
    Kernel((a:2, b:3) -> (b:3, a:2))
    """
    return permutation([a, b], [1, 0], device=device)


def random_kernel(inputs: Sequence[Wire], outputs: Sequence[Wire], *, batch_shape=(),
                  generator: torch.Generator | None = None, device=None) -> Kernel:
    """A random kernel: each row uniform on the probability simplex (Dirichlet(1, ..., 1)).

    Rows are normalised exponential draws, so every entry is positive (full support).

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> k = random_kernel([Wire("a", 2)], [Wire("b", 3)], batch_shape=(4,), generator=g)
    >>> k.batch_shape, k.is_stochastic()
    (torch.Size([4]), True)
    """
    inputs, outputs = _as_wires(inputs, "inputs"), _as_wires(outputs, "outputs")
    rows = list(batch_shape) + [w.size for w in inputs]
    u = torch.rand(rows + [prod(w.size for w in outputs)], generator=generator, dtype=torch.float64)
    e = -torch.log1p(-u)  # exponential draws, > 0 almost surely
    t = (e / e.sum(-1, keepdim=True)).reshape(rows + [w.size for w in outputs])
    return Kernel(t.to(default_device() if device is None else device), inputs, outputs, check=False)



# -- structural layers without dense tables (used to evaluate diagrams quickly) ---------
def _check_at(f: Kernel, offset: int, wires: Sequence[Wire], what: str) -> int:
    k = len(wires)
    if offset < 0 or offset + k > len(f.outputs) or f.outputs[offset:offset + k] != tuple(wires):
        raise WireMismatchError(f"Cannot apply {what} to {_type_text(wires)} at position {offset} "
                                f"of the outputs {_type_text(f.outputs)}.")
    return f.table.ndim - len(f.outputs) + offset  # the axis of the first wire


def permute_at(f: Kernel, offset: int, wires: Sequence[Wire], perm: Sequence[int]) -> Kernel:
    """``apply_at(f, offset, permutation(wires, perm))`` by permuting axes (no dense table).

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> j = state([a, b], torch.full((2, 3), 1 / 6, dtype=torch.float64))
    >>> permute_at(j, 0, [a, b], [1, 0]).output_names
    ['b', 'a']
    """
    axis = _check_at(f, offset, wires, "a permutation")
    order = list(range(f.table.ndim))
    order[axis:axis + len(perm)] = [axis + p for p in perm]
    outs = f.outputs[:offset] + tuple(wires[p] for p in perm) + f.outputs[offset + len(perm):]
    return Kernel(f.table.permute(order), f.inputs, outs, check=False)


def discard_at(f: Kernel, offset: int, wire: Wire) -> Kernel:
    """``apply_at(f, offset, discard([wire]))``: sum the wire's axis out.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> discard_at(state([a, b], torch.full((2, 3), 1 / 6, dtype=torch.float64)), 1, b).table
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """
    axis = _check_at(f, offset, [wire], "a discard")
    return Kernel(f.table.sum(axis), f.inputs, f.outputs[:offset] + f.outputs[offset + 1:], check=False)


def copy_at(f: Kernel, offset: int, wire: Wire) -> Kernel:
    """``apply_at(f, offset, copy(wire))``: put the wire's axis on a diagonal of two axes.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> a, b = Wire("a", 2), Wire("b", 3)
    >>> copy_at(state([a], [0.3, 0.7]), 0, a).table
    tensor([[0.3000, 0.0000],
            [0.0000, 0.7000]], dtype=torch.float64)
    """
    axis = _check_at(f, offset, [wire], "a copy")
    shape = [1] * (f.table.ndim + 1)
    shape[axis] = shape[axis + 1] = wire.size
    eye = torch.eye(wire.size, dtype=f.table.dtype, device=f.table.device).reshape(shape)
    t = f.table.unsqueeze(axis + 1) * eye
    return Kernel(t, f.inputs, f.outputs[:offset + 1] + (wire,) + f.outputs[offset + 1:], check=False)
