"""Comb disintegration: a joint distribution as a comb with a hole.

A *2-comb* ``A -> [hole: A -> B] -> C`` is a pair of pieces: a first tooth, the state
``first`` on ``A``, and a second tooth, the channel ``second : A ⊗ B -> C``. Plugging
a channel ``f : A -> B`` into the hole gives the joint ``a, b, c ↦ first(a) f(b|a)
second(c|a,b)``. Jacobs, Kissinger & Zanasi (2019) show that a joint ``ω`` on
``A ⊗ B ⊗ C`` with full support determines both the comb and what fills its hole:
``first = ω_A``, ``second = ω_{C|A,B}`` and ``f = ω_{B|A}`` (*comb disintegration*).

The causal use: if the causal structure says the joint really *is* such a comb with
the channel ``A -> B`` in the hole, then cutting the wire from the comb's first tooth
into the hole and feeding the hole an outside value ``a`` instead gives
``P(B, C | do(A = a)) = f(b|a) Σ_{a'} first(a') second(c|a', b)``: the front-door formula.

Examples
--------
>>> from workbench.diagrams.kernels import Wire
>>> from workbench.diagrams.structural import random_kernel
>>> import torch
>>> a, b, c = Wire("a", 2), Wire("b", 3), Wire("c", 2)
>>> omega = random_kernel([], [a, b, c], generator=torch.Generator().manual_seed(1))
>>> comb, f = comb_disintegrate(omega, ["a"], ["b"], ["c"])
>>> comb.plug(f).allclose(omega)        # the comb with its own channel gives back ω
True
>>> comb.plug_cut(f)
Kernel((a:2) -> (b:3, c:2))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from workbench.diagrams.errors import SupportError, WireMismatchError
from workbench.diagrams.kernels import Kernel
from workbench.diagrams.structural import graph_of, identity

__all__ = ["Comb", "comb_disintegrate"]


@dataclass(frozen=True)
class Comb:
    """A 2-comb: ``first : () -> A`` and ``second : A ⊗ B -> C``, with a hole ``A -> B``.

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> from workbench.diagrams.structural import random_kernel
    >>> x, z, y = Wire("x", 2), Wire("z", 2), Wire("y", 2)
    >>> comb, hole = comb_disintegrate(random_kernel([], [x, z, y]), ["x"], ["z"], ["y"])
    >>> comb.plug(hole).output_names
    ['x', 'z', 'y']
    """

    first: Kernel
    second: Kernel

    @property
    def hole(self) -> tuple:
        """The wires ``(A, B)`` a channel in the hole must go between."""
        a = self.first.outputs
        return a, self.second.inputs[len(a):]

    def _check(self, f: Kernel) -> None:
        a, b = self.hole
        if f.inputs != a or f.outputs != b:
            raise WireMismatchError(
                f"The hole of this comb takes a channel {a} -> {b}; got {f}."
            )

    def plug(self, f: Kernel) -> Kernel:
        """Fill the hole with ``f``: the joint state on ``A ⊗ B ⊗ C``."""
        self._check(f)
        return self.first >> graph_of(f) >> graph_of(self.second)

    def plug_cut(self, f: Kernel) -> Kernel:
        """Cut the wire from the first tooth into the hole; feed the hole from outside.

        Returns the channel ``A -> B ⊗ C``:
        ``a ↦ f(b|a) Σ_{a'} first(a') second(c|a', b)``.
        """
        self._check(f)
        _, b = self.hole
        # the first tooth's own state now feeds only the second tooth: a channel B -> C
        second_tooth = (self.first @ identity(b, device=f.table.device)) >> self.second
        return f >> graph_of(second_tooth)


def comb_disintegrate(joint: Kernel, first: Sequence[str], middle: Sequence[str],
                      last: Sequence[str]) -> tuple[Comb, Kernel]:
    """Split a joint state into a comb and the channel in its hole.

    Parameters
    ----------
    joint : Kernel
        A state (no inputs) whose outputs are exactly ``first + middle + last``.
    first, middle, last : sequence of str
        The wires ``A`` (out of the first tooth), ``B`` (out of the hole), ``C``.

    Returns
    -------
    (Comb, Kernel)
        The comb ``(ω_A, ω_{C|A,B})`` and the channel ``ω_{B|A}``.

    Raises
    ------
    SupportError
        If some value of ``A ⊗ B`` has probability zero (the comb is then not determined).

    Examples
    --------
    >>> from workbench.diagrams.kernels import Wire
    >>> import torch
    >>> from workbench.diagrams.kernels import Wire
    >>> from workbench.diagrams.structural import random_kernel
    >>> x, z, y = Wire("x", 2), Wire("z", 2), Wire("y", 2)
    >>> joint = random_kernel([], [x, z, y], generator=torch.Generator().manual_seed(0))
    >>> comb, hole = comb_disintegrate(joint, ["x"], ["z"], ["y"])
    >>> comb.plug(hole).allclose(joint)
    True
    """
    names = list(first) + list(middle) + list(last)
    if joint.inputs:
        raise WireMismatchError(f"comb_disintegrate needs a state (no inputs), got {joint}.")
    if sorted(names) != sorted(joint.output_names) or len(set(names)) != len(names):
        raise WireMismatchError(
            f"first + middle + last must list each output of the joint once: "
            f"{joint.output_names}, got {names}."
        )
    omega = joint.reorder(names)
    try:
        second = omega.disintegrate(list(first) + list(middle))
    except SupportError as exc:
        raise SupportError(
            f"Comb disintegration needs full support on {list(first) + list(middle)}: "
            "some of their joint values never occur in the data, so the comb is not "
            "determined there."
        ) from exc
    ab = omega.marginal(list(first) + list(middle))
    return Comb(ab.marginal(list(first)), second), ab.disintegrate(list(first))
