"""Interventions: what ``do`` may set a variable to, checked before Pyro sees it.

Pyro (and ChiRho's ``do``) silently ignore an intervention on a site that does not
exist, so every intervention is validated here first: the target must be a
variable of the model (else :class:`~workbench.errors.UnknownVariableError` with a
did-you-mean), the value finite, of a usable shape, and in range for a discrete
variable.

Kinds of intervention, all handed to ``chirho.interventional.handlers.do``:

* a number or tensor: a *hard* intervention ``do(x = value)``;
* :class:`Shift`: ``do(x = x + delta)``, a *shift* of the natural value;
* :class:`Transform`: ``do(x = g(x))`` for any torch callable ``g``.

A *soft* intervention that replaces the whole mechanism is
:meth:`workbench.scm.SCM.replace` (a new model, same site names).

Examples
--------
>>> import torch
>>> s = Shift(1.5)
>>> s(torch.tensor([0.0, 1.0]))
tensor([1.5000, 2.5000])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError

__all__ = ["Shift", "Transform", "check_interventions", "all_finite", "check_finite"]


@dataclass(frozen=True)
class Shift:
    """``do(x = x + delta)``: move the variable's natural value by ``delta``.

    Examples
    --------
    >>> import torch
    >>> Shift(0.5)(torch.tensor([1.0, 2.0]))
    tensor([1.5000, 2.5000])
    """

    delta: float

    def __call__(self, value: torch.Tensor) -> torch.Tensor:
        return value + self.delta


@dataclass(frozen=True)
class Transform:
    """``do(x = fn(x))``: replace the natural value by a function of it.

    Examples
    --------
    >>> import torch
    >>> Transform(torch.abs)(torch.tensor([-1.0, 2.0]))
    tensor([1., 2.])
    """

    fn: Callable[[torch.Tensor], torch.Tensor]

    def __call__(self, value: torch.Tensor) -> torch.Tensor:
        return self.fn(value)


def all_finite(t: torch.Tensor) -> bool:
    """Whether every entry of ``t`` is finite (no NaN, no infinity).

    Integers always are. For floats one sum is checked first (a NaN or infinity
    anywhere makes the sum non-finite); only when it is not finite, which a sum of
    huge finite values can also be, are the entries checked one by one.

    Examples
    --------
    >>> all_finite(torch.tensor([1.0, 3e38, 3e38])), all_finite(torch.tensor([1.0, float("nan")]))
    (True, False)
    """
    if not (t.is_floating_point() or t.is_complex()):
        return True
    return bool(torch.isfinite(t.sum())) or bool(torch.isfinite(t).all())


def check_finite(name: str, t: torch.Tensor) -> None:
    """Raise :class:`~workbench.errors.NonFiniteValueError` naming ``name`` if ``t`` has a NaN or infinity.

    Examples
    --------
    >>> check_finite("weights", torch.tensor([1.0, float("inf")]))
    Traceback (most recent call last):
    ...
    workbench.errors.NonFiniteValueError: weights contains NaN or infinite values; pass finite numbers.
    """
    if not all_finite(t):
        raise NonFiniteValueError(f"{name} contains NaN or infinite values; pass finite numbers.")


class CategoryError(WorkbenchInputError):
    """A value given for a discrete variable that is not one of its categories ``0 .. k-1``.

    Examples
    --------
    >>> from workbench.scm import asia
    >>> asia().do(smoke=2)
    Traceback (most recent call last):
    ...
    workbench.scm.interventions.CategoryError: ...
    """


def as_values(label: str, x, device=None) -> torch.Tensor:
    """``x`` (a number, a sequence or a tensor) as a numeric tensor; anything else is refused.

    Booleans become 0 and 1.

    Examples
    --------
    >>> as_values("condition(x=...)", [True, False]).tolist()
    [1, 0]
    >>> as_values("condition(x=...)", "high")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: condition(x=...) = 'high' is not a number or a tensor of numbers.
    """
    try:
        t = torch.as_tensor(x, device=device)
    except (TypeError, ValueError, RuntimeError):
        t = None
    if t is None or t.is_complex() or not (t.is_floating_point() or t.dtype in _NUMERIC_INTS):
        raise WorkbenchInputError(f"{label} = {x!r:.60} is not a number or a tensor of numbers.")
    return t.long() if t.dtype == torch.bool else t


_NUMERIC_INTS = {torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64}


def check_category(label: str, t: torch.Tensor, mechanism) -> torch.Tensor:
    """``t`` as category indices of ``mechanism`` (long); fractions and out-of-range values refused.

    ``label`` names the value in the message, e.g. ``"factual['c']"``.

    Examples
    --------
    >>> from workbench.scm.mechanisms import DiscreteCPT
    >>> coin = DiscreteCPT([], torch.tensor([0.5, 0.5]))
    >>> check_category("factual['c']", torch.tensor([0.0, 1.0]), coin)
    tensor([0, 1])
    >>> check_category("factual['c']", torch.tensor([0.7]), coin)
    Traceback (most recent call last):
    ...
    workbench.scm.interventions.CategoryError: factual['c'] = 0.7 is not a category of a variable with 2 categories; ...
    """
    k = mechanism.cardinality
    bad = (t != t.round()) if t.is_floating_point() else torch.zeros_like(t, dtype=torch.bool)
    bad = bad | (t < 0) | (t >= k)
    if bool(bad.any()):
        value = t[bad].reshape(-1)[0].item()
        raise CategoryError(
            f"{label} = {value:g} is not a category of a variable with {k} categories; give a "
            f"whole number in 0..{k - 1} (fractions are never rounded or truncated)."
        )
    return t.long()


def _check_value(name, value, mechanism, device):
    if isinstance(value, (Shift, Transform)):
        if isinstance(value, Shift):
            if not torch.isfinite(torch.tensor(float(value.delta))):
                raise NonFiniteValueError(f"Shift of {name!r} is {value.delta}; use a finite number.")
            if mechanism.cardinality is not None:
                raise WorkbenchInputError(
                    f"{name!r} is discrete; a Shift has no meaning for it. Set a category instead."
                )
        return value
    if callable(value):
        return Transform(value)
    try:
        t = torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise WorkbenchInputError(
            f"Cannot use {value!r} as a value for {name!r}: give a number, a tensor, or a Shift."
        ) from exc
    if t.dim() > 1:
        raise ShapeError(
            f"do({name}=...) got shape {tuple(t.shape)}; give a scalar or a 1-D tensor "
            "with one value per unit."
        )
    if not all_finite(t):
        raise NonFiniteValueError(f"do({name}=...) got a NaN or infinite value; use finite numbers.")
    if mechanism.cardinality is not None:
        k = mechanism.cardinality
        if t.is_floating_point() and not torch.equal(t, t.round()):
            raise CategoryError(f"{name!r} is discrete; set it to a category 0..{k - 1}.")
        if (t < 0).any() or (t >= k).any():
            raise CategoryError(
                f"{name!r} has {k} categories, so do({name}=...) needs a value in 0..{k - 1}."
            )
        return t.long()
    return t.to(torch.get_default_dtype())


def check_interventions(actions: Mapping, mechanisms: Mapping, device=None) -> dict:
    """Validate ``{variable: intervention}``; return it with values as tensors.

    Examples
    --------
    >>> from workbench.scm.mechanisms import LinearGaussian
    >>> check_interventions({"smokng": 1.0}, {"smoking": LinearGaussian()})
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown variable 'smokng'. Did you mean 'smoking'? ...
    """
    if not isinstance(actions, Mapping):
        raise WorkbenchInputError(
            f"Interventions must be a mapping {{variable: value}}, got {type(actions).__name__}."
        )
    out = {}
    for name, value in actions.items():
        if name not in mechanisms:
            raise UnknownVariableError(name, list(mechanisms))
        out[name] = _check_value(name, value, mechanisms[name], device)
    return out
