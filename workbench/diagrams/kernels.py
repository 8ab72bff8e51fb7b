"""Finite Markov kernels: the semantics of string diagrams.

A *wire* is a name and a finite number of values (its cardinality). A *kernel*
``f : A1 ⊗ ... ⊗ An -> B1 ⊗ ... ⊗ Bm`` is a stochastic tensor: a torch tensor of
shape ``(*batch, |A1|, ..., |An|, |B1|, ..., |Bm|)`` with non-negative entries that
sum to one over the output axes, for every batch index and every input value. A
kernel with no inputs is a probability distribution (a *state*); leading batch axes
hold many kernels of the same type at once and broadcast like NumPy.

Kernels form a Markov category (Cho & Jacobs; Fritz): ``f >> g`` composes in
sequence (sum over the middle wires), ``f @ g`` in parallel (independent product),
and :func:`~workbench.diagrams.structural.copy`, ``discard``, ``swap`` and ``identity``
(in :mod:`~workbench.diagrams.structural`, with the constructors) are the structural
kernels. Marginalising is composing with :func:`discard`; conditioning
and disintegration divide by a marginal and so need positive probability.

Wires must match exactly (same name, same number of values, same order) to be
composed: a mismatch raises :class:`~workbench.diagrams.errors.WireMismatchError`,
a table that is not stochastic raises
:class:`~workbench.diagrams.errors.NotStochasticError`.

Examples
--------
>>> from workbench.diagrams.kernels import Wire
>>> from workbench.diagrams.structural import state, kernel, copy, identity
>>> rain = Wire("rain", 2); wet = Wire("wet", 2)
>>> p_rain = state([rain], [0.8, 0.2])
>>> p_wet = kernel([rain], [wet], [[0.9, 0.1], [0.2, 0.8]])
>>> (p_rain >> p_wet).table
tensor([0.7600, 0.2400], dtype=torch.float64)
>>> joint = p_rain >> copy(rain) >> (identity([rain]) @ p_wet)
>>> joint.disintegrate(["wet"]).table[..., 1, :]   # P(rain | wet = 1): Bayes' rule
tensor([0.3333, 0.6667], dtype=torch.float64)
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Iterable, Mapping, Sequence

import torch

from workbench.diagrams.errors import (
    DiagramError, NotStochasticError, SupportError, WireMismatchError,
)
from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError
from workbench.runtime import device as default_device

__all__ = ["Wire", "Kernel", "compose", "tensor", "apply_at"]


@dataclass(frozen=True)
class Wire:
    """A typed wire: a variable ``name`` taking ``size`` values ``0 .. size-1``.

    Examples
    --------
    >>> Wire("rain", 2)
    rain:2
    """

    name: str
    size: int

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise DiagramError(f"A wire name must be a non-empty string, got {self.name!r}.")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise DiagramError(
                f"Wire {self.name!r} must take a positive whole number of values, got {self.size!r}."
            )

    def __repr__(self) -> str:
        return f"{self.name}:{self.size}"


def _type_text(wires: Sequence[Wire]) -> str:
    return "(" + ", ".join(repr(w) for w in wires) + ")"


def _as_wires(wires: Iterable[Wire], what: str) -> tuple[Wire, ...]:
    wires = tuple(wires)
    for w in wires:
        if not isinstance(w, Wire):
            raise DiagramError(f"{what} must be Wire objects, got {w!r}; build one as Wire('x', 2).")
    return wires


def _tolerance(dtype: torch.dtype) -> float:
    return 1e-9 if dtype == torch.float64 else 1e-4


class Kernel:
    """A stochastic tensor with typed input and output wires.

    Parameters
    ----------
    table : tensor-like
        Shape ``(*batch, *input sizes, *output sizes)``. Lists and integer tensors become
        float64 (lists on the runtime device); a floating tensor keeps its dtype and device.
    inputs, outputs : sequence of Wire
    check : bool
        Validate shape, finiteness and stochasticity (default). Library code that
        builds kernels from kernels passes ``False``; the laws tests check it stays true.

    Examples
    --------
    >>> k = Kernel([[0.9, 0.1], [0.2, 0.8]], [Wire("rain", 2)], [Wire("wet", 2)])
    >>> k, k.input_names, k.output_names
    (Kernel((rain:2) -> (wet:2)), ['rain'], ['wet'])
    """

    def __init__(self, table, inputs: Sequence[Wire] = (), outputs: Sequence[Wire] = (),
                 *, check: bool = True):
        self.inputs = _as_wires(inputs, "inputs")
        self.outputs = _as_wires(outputs, "outputs")
        if isinstance(table, torch.Tensor):
            t = table if torch.is_floating_point(table) else table.to(torch.float64)
        else:
            t = torch.as_tensor(table, dtype=torch.float64, device=default_device())
        self.table = t
        if check:
            self._check()

    # -- validation -------------------------------------------------------------
    def _check(self) -> None:
        wires = self.inputs + self.outputs
        sizes = tuple(w.size for w in wires)
        if self.table.ndim < len(wires) or tuple(self.table.shape[self.table.ndim - len(wires):]) != sizes:
            raise ShapeError(
                f"A kernel {_type_text(self.inputs)} -> {_type_text(self.outputs)} needs a table "
                f"whose last axes have sizes {sizes}, got shape {tuple(self.table.shape)}."
            )
        if not torch.isfinite(self.table).all():
            raise NonFiniteValueError("The kernel's table holds NaN or infinite entries.")
        if (self.table < 0).any():
            raise NotStochasticError(
                f"The table of {self} has negative entries (smallest {self.table.min().item():.3g}); "
                "probabilities must be >= 0."
            )
        dims = tuple(range(self.table.ndim - len(self.outputs), self.table.ndim))
        sums = self.table.sum(dim=dims) if dims else self.table
        worst = (sums - 1).abs().max().item() if sums.numel() else 0.0
        if worst > _tolerance(self.table.dtype) * max(1, prod(w.size for w in self.outputs)):
            raise NotStochasticError(
                f"The table of {self} does not sum to 1 over its outputs "
                f"{[w.name for w in self.outputs]} (off by up to {worst:.3g}); "
                "normalise each row, e.g. table / table.sum(-1, keepdim=True)."
            )

    def is_stochastic(self, atol: float | None = None) -> bool:
        """True when every entry is >= 0 and every row sums to 1 (within ``atol``)."""
        atol = _tolerance(self.table.dtype) * 100 if atol is None else atol
        dims = tuple(range(self.table.ndim - len(self.outputs), self.table.ndim))
        sums = self.table.sum(dim=dims) if dims else self.table
        return bool((self.table >= -atol).all() and ((sums - 1).abs() <= atol).all())

    # -- description ------------------------------------------------------------
    @property
    def batch_shape(self) -> torch.Size:
        """The leading batch axes (``()`` for a single kernel)."""
        return self.table.shape[: self.table.ndim - len(self.inputs) - len(self.outputs)]

    @property
    def input_names(self) -> list[str]:
        """The names of the input wires, in order."""
        return [w.name for w in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """The names of the output wires, in order."""
        return [w.name for w in self.outputs]

    def __repr__(self) -> str:
        batch = f", batch={tuple(self.batch_shape)}" if len(self.batch_shape) else ""
        return f"Kernel({_type_text(self.inputs)} -> {_type_text(self.outputs)}{batch})"

    def allclose(self, other: "Kernel", atol: float = 1e-8) -> bool:
        """Same wires and the same numbers (broadcasting batch axes), within ``atol``."""
        if self.inputs != other.inputs or self.outputs != other.outputs:
            return False
        a, b = torch.broadcast_tensors(self.table, other.table.to(self.table))
        return bool(torch.allclose(a, b, atol=atol, rtol=0))

    def to(self, device) -> "Kernel":
        """The same kernel with its table on ``device``."""
        return Kernel(self.table.to(device), self.inputs, self.outputs, check=False)

    # -- operators ----------------------------------------------------------------
    def __rshift__(self, other: "Kernel") -> "Kernel":
        return compose(self, other)

    def __matmul__(self, other: "Kernel") -> "Kernel":
        return tensor(self, other)

    # -- marginals and conditionals ---------------------------------------------------
    def _output_axes(self, names: Iterable[str]) -> list[int]:
        names = list(names)
        outs = self.output_names
        axes = []
        for name in names:
            if name not in outs:
                raise UnknownVariableError(name, outs, what="output wire")
            if outs.count(name) > 1:
                raise DiagramError(f"Output name {name!r} appears twice in {self}; rename one copy.")
            axes.append(outs.index(name))
        if len(set(names)) != len(names):
            raise DiagramError(f"Names {names} repeat a wire; name each wire once.")
        return axes

    def reorder(self, names: Sequence[str]) -> "Kernel":
        """The same kernel with its outputs permuted into the order ``names``."""
        axes = self._output_axes(names)
        if len(axes) != len(self.outputs):
            raise DiagramError(f"reorder needs all outputs {self.output_names}, got {list(names)}.")
        return self.marginal(names)

    def marginal(self, keep: Sequence[str]) -> "Kernel":
        """Discard every output not in ``keep``; the outputs come in the order of ``keep``."""
        axes = self._output_axes(keep)
        base = self.table.ndim - len(self.outputs)
        drop = [base + i for i in range(len(self.outputs)) if i not in axes]
        t = self.table.sum(dim=drop) if drop else self.table
        kept_sorted = sorted(axes)
        # after summing, kept outputs sit in increasing original order; permute to `keep` order
        lead = list(range(base))
        perm = lead + [base + kept_sorted.index(a) for a in axes]
        return Kernel(t.permute(perm), self.inputs, [self.outputs[a] for a in axes], check=False)

    def disintegrate(self, given: Sequence[str], *, on_zero: str = "raise") -> "Kernel":
        """The conditional kernel ``inputs ⊗ given -> other outputs``.

        ``self == (self.marginal(given) with inputs copied) >> result`` wherever the
        marginal of ``given`` is positive. Where it is zero the conditional is not
        determined: ``on_zero="raise"`` raises :class:`SupportError`,
        ``on_zero="uniform"`` fills in the uniform distribution.
        """
        if on_zero not in {"raise", "uniform"}:
            raise DiagramError(f"on_zero must be 'raise' or 'uniform', got {on_zero!r}.")
        gaxes = self._output_axes(given)
        rest = [i for i in range(len(self.outputs)) if i not in gaxes]
        order = [self.outputs[i].name for i in gaxes + rest]
        joint = self.reorder(order).table
        rdims = tuple(range(joint.ndim - len(rest), joint.ndim))
        marg = joint.sum(dim=rdims, keepdim=True) if rest else joint
        zero = marg <= 0
        if zero.any():
            if on_zero == "raise":
                raise SupportError(
                    f"Cannot condition {self} on {list(given)}: some of their values have "
                    "probability zero, so the conditional is not determined there. Use data "
                    "with full support, or pass on_zero='uniform'."
                )
            fill = 1.0 / prod(self.outputs[i].size for i in rest) if rest else 1.0
            table = torch.where(zero, torch.full_like(joint, fill), joint / marg.clamp_min(1e-300))
        else:
            table = joint / marg
        return Kernel(table, self.inputs + tuple(self.outputs[i] for i in gaxes),
                      [self.outputs[i] for i in rest], check=False)

    def condition(self, values: Mapping[str, int]) -> "Kernel":
        """Bayesian update: observe ``values`` of some outputs; the rest, renormalised.

        Raises :class:`SupportError` if the observation has probability zero.
        """
        names = list(values)
        cond = self.disintegrate(names)
        idx = []
        for n in names:
            w = next(w for w in self.outputs if w.name == n)
            v = values[n]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < w.size:
                raise DiagramError(f"Value {v!r} of {n!r} must be an integer in 0..{w.size - 1}.")
            idx.append(v)
        n_out = len(cond.outputs)
        t = cond.table[(Ellipsis,) + tuple(idx) + (slice(None),) * n_out]
        return Kernel(t, self.inputs, cond.outputs, check=False)

    def prob(self, values: Mapping[str, int]) -> torch.Tensor:
        """The probability table entry for the given input and output values."""
        idx = []
        for w in self.inputs + self.outputs:
            if w.name not in values:
                raise DiagramError(f"prob needs a value for every wire; missing {w.name!r}.")
            idx.append(int(values[w.name]))
        return self.table[(Ellipsis,) + tuple(idx)]


# -- composition ------------------------------------------------------------------------
def _tables(f: Kernel, g: Kernel) -> tuple[torch.Tensor, torch.Tensor]:
    """Both tables on ``f``'s device with a common floating dtype."""
    dtype = torch.promote_types(f.table.dtype, g.table.dtype)
    return f.table.to(dtype), g.table.to(device=f.table.device, dtype=dtype)


def compose(f: Kernel, g: Kernel) -> Kernel:
    """Sequential composition ``f >> g``: first ``f``, then ``g`` on its outputs.

    Examples
    --------
    >>> rain, wet = Wire("rain", 2), Wire("wet", 2)
    >>> p = Kernel([0.8, 0.2], [], [rain]); f = Kernel([[0.9, 0.1], [0.2, 0.8]], [rain], [wet])
    >>> compose(p, f).table
    tensor([0.7600, 0.2400], dtype=torch.float64)
    """
    if f.outputs != g.inputs:
        raise WireMismatchError(
            f"Cannot compose {f} >> {g}: the outputs {_type_text(f.outputs)} of the first must "
            f"equal the inputs {_type_text(g.inputs)} of the second (names, sizes and order)."
        )
    return apply_at(f, 0, g) if f.outputs or g.inputs else tensor(f, g)


def tensor(f: Kernel, g: Kernel) -> Kernel:
    """Parallel composition ``f @ g``: ``f`` and ``g`` side by side, independently.

    Examples
    --------
    >>> a, b = Wire("a", 2), Wire("b", 2)
    >>> tensor(Kernel([0.5, 0.5], [], [a]), Kernel([1.0, 0.0], [], [b])).table
    tensor([[0.5000, 0.0000],
            [0.5000, 0.0000]], dtype=torch.float64)
    """
    a, b = len(f.inputs), len(f.outputs)
    c, d = len(g.inputs), len(g.outputs)
    fi, fo = list(range(a)), list(range(a, a + b))
    gi, go = list(range(a + b, a + b + c)), list(range(a + b + c, a + b + c + d))
    ft, gt = _tables(f, g)
    t = torch.einsum(ft, [Ellipsis] + fi + fo, gt, [Ellipsis] + gi + go,
                     [Ellipsis] + fi + gi + fo + go)
    return Kernel(t, f.inputs + g.inputs, f.outputs + g.outputs, check=False)


def apply_at(f: Kernel, offset: int, g: Kernel) -> Kernel:
    """``f >> (identity(left) @ g @ identity(right))`` without building the identities.

    ``g``'s inputs must be the outputs of ``f`` at positions ``offset, offset+1, ...``.
    This is how a diagram is evaluated layer by layer.

    Examples
    --------
    >>> a, b = Wire("a", 2), Wire("b", 2)
    >>> joint = Kernel([[0.25, 0.25], [0.25, 0.25]], [], [a, b])
    >>> apply_at(joint, 1, Kernel([[0.0, 1.0], [1.0, 0.0]], [b], [b])).output_names       # flip b
    ['a', 'b']
    """
    k = len(g.inputs)
    if offset < 0 or offset + k > len(f.outputs) or f.outputs[offset:offset + k] != g.inputs:
        raise WireMismatchError(
            f"Cannot apply {g} at position {offset} of the outputs {_type_text(f.outputs)}: "
            "the wires there must equal its inputs."
        )
    n_in, n_out = len(f.inputs), len(f.outputs)
    ins = list(range(n_in))
    outs = list(range(n_in, n_in + n_out))
    new = list(range(n_in + n_out, n_in + n_out + len(g.outputs)))
    left, mid, right = outs[:offset], outs[offset:offset + k], outs[offset + k:]
    ft, gt = _tables(f, g)
    t = torch.einsum(ft, [Ellipsis] + ins + outs, gt, [Ellipsis] + mid + new,
                     [Ellipsis] + ins + left + new + right)
    wires = f.outputs[:offset] + g.outputs + f.outputs[offset + k:]
    return Kernel(t, f.inputs, wires, check=False)
