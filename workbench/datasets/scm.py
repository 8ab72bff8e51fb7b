"""The structural causal model behind every image data set.

An :class:`ImageSCM` is a list of :class:`Assignment` objects in causal order plus a
renderer. Each variable ``V`` is computed as ``V := f(parents(V), U_V)`` from its
parents and its own exogenous noise ``U_V``; the renderer turns the values of all
variables into images. Because we own the whole model, three kinds of ground truth
are exact:

* observational samples: draw noise, solve, render;
* interventions ``do(V = v)``: draw noise, replace ``V``'s mechanism by ``v``, solve;
* counterfactuals: keep the *same* noise (abduction is trivial: we drew it), replace a
  mechanism, solve and render again.

Examples
--------
>>> import torch
>>> scm = ImageSCM([
...     Assignment("a", (), lambda p, u: u, lambda n, rng: rng.normal(size=n)),
...     Assignment("b", ("a",), lambda p, u: 2 * p["a"] + u, lambda n, rng: rng.normal(size=n),
...               equation="b := 2 a + U_b"),
... ], render=lambda values: values["b"].view(-1, 1, 1, 1))
>>> noise = scm.sample_noise(3, generator=0)
>>> world = scm.solve(noise)
>>> twin = scm.solve(noise, {"a": 1.0})
>>> bool(torch.allclose(twin["b"] - world["b"], 2 * (1.0 - world["a"])))
True
>>> scm.solve(noise, {"c": 1.0})
Traceback (most recent call last):
...
workbench.errors.UnknownVariableError: Unknown variable 'c'. Known variables: a, b.
>>> ImageSCM([Assignment("k", (), lambda p, u: u, lambda n, rng: rng.integers(0, 3, n), categories=3)],
...          render=lambda v: v["k"].view(-1, 1, 1, 1)).sample(2, 0, {"k": 7.0})
Traceback (most recent call last):
...
workbench.datasets.scm.InterventionRangeError: do(k=7) is outside what this model can draw: k takes a category, a whole number in 0..2. Pick a value there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import math

import networkx as nx
import numpy as np
import torch

from workbench.datasets._random import as_numpy_rng, check_count
from workbench.errors import (
    GraphError, NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError,
)

__all__ = ["Assignment", "ImageSCM", "InterventionRangeError"]


class InterventionRangeError(WorkbenchInputError):
    """An intervention value outside the range a variable can take (or a renderer can draw).

    Examples
    --------
    >>> from workbench.datasets import Pendulum
    >>> Pendulum(size=32).scm.sample(1, generator=0, interventions={"theta": 10.0})
    Traceback (most recent call last):
    ...
    workbench.datasets.scm.InterventionRangeError: ...
    """


@dataclass(frozen=True)
class Assignment:
    """One structural assignment ``name := fn(parents, noise)`` of an :class:`ImageSCM`.

    (The Pyro-side counterpart, one variable of a :class:`workbench.scm.SCM`, is
    :class:`workbench.scm.Mechanism`.)

    Parameters
    ----------
    name : str
        The variable.
    parents : tuple of str
        Variables ``fn`` reads (each defined earlier in the model).
    fn : callable
        ``fn(parent_values: dict[str, Tensor], noise: Tensor) -> Tensor`` of shape ``(n,)``.
    noise : callable
        ``noise(n, rng: numpy.random.Generator) -> array`` of ``n`` exogenous draws.
    equation : str
        The assignment written out, for display.
    nominal_noise : float
        The noise value used when a factor grid asks for the "typical" child (0 for
        additive noise).
    low, high : float
        The interval an intervention may set the variable to: the values the renderer
        draws faithfully (``do(scale=2)`` would be clipped by the sprite's window).
    categories : int, optional
        For a categorical variable, its number of categories: an intervention must be a
        whole number in ``0 .. categories - 1`` (``do(shape=7)`` has no shape to draw).

    Examples
    --------
    >>> a = Assignment("b", ("a",), lambda p, u: 2 * p["a"] + u, lambda n, rng: rng.normal(size=n))
    >>> a.name, a.parents
    ('b', ('a',))
    """

    name: str
    parents: tuple
    fn: Callable
    noise: Callable
    equation: str = ""
    nominal_noise: float = 0.0
    low: float = -math.inf
    high: float = math.inf
    categories: int | None = None

    def check_intervention(self, value: torch.Tensor) -> None:
        """Raise :class:`InterventionRangeError` unless every value lies in this variable's range."""
        if self.categories is not None:
            bad = value[(value != value.round()) | (value < 0) | (value > self.categories - 1)]
            allowed = f"a category, a whole number in 0..{self.categories - 1}"
        else:
            bad = value[(value < self.low) | (value > self.high)]
            allowed = f"a value in [{self.low:g}, {self.high:g}]"
        if bad.numel():
            raise InterventionRangeError(
                f"do({self.name}={float(bad[0]):g}) is outside what this model can draw: "
                f"{self.name} takes {allowed}. Pick a value there."
            )


class ImageSCM:
    """A structural causal model over image factors, with a renderer.

    Parameters
    ----------
    mechanisms : sequence of Assignment
        In causal (topological) order.
    render : callable
        ``render(values: dict[str, Tensor]) -> Tensor`` of images ``(n, C, H, W)``.

    Examples
    --------
    >>> scm = ImageSCM([Assignment("a", (), lambda p, u: u, lambda n, rng: rng.normal(size=n))],
    ...                render=lambda v: v["a"].view(-1, 1, 1, 1))
    >>> scm.variables, scm.sample(2, generator=0)[0].shape
    (('a',), torch.Size([2, 1, 1, 1]))
    """

    def __init__(self, mechanisms: Sequence[Assignment], render: Callable):
        seen: set[str] = set()
        for m in mechanisms:
            missing = [p for p in m.parents if p not in seen]
            if missing:
                raise GraphError(
                    f"Assignment {m.name!r} reads {missing} before they are defined: "
                    "list mechanisms in causal order."
                )
            seen.add(m.name)
        self.mechanisms = tuple(mechanisms)
        self._render = render

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in causal order."""
        return tuple(m.name for m in self.mechanisms)

    @property
    def graph(self) -> nx.DiGraph:
        """The causal graph, a new :class:`networkx.DiGraph` each call."""
        g = nx.DiGraph()
        g.add_nodes_from(self.variables)
        g.add_edges_from((p, m.name) for m in self.mechanisms for p in m.parents)
        return g

    def equations(self) -> str:
        """The structural assignments, one a line."""
        return "\n".join(m.equation or f"{m.name} := f({', '.join(m.parents)}, U)"
                         for m in self.mechanisms)

    def sample_noise(self, n: int, generator=None) -> dict[str, torch.Tensor]:
        """Draw ``n`` values of every exogenous noise variable."""
        n, rng = check_count(n), as_numpy_rng(generator)
        return {m.name: torch.as_tensor(np.asarray(m.noise(n, rng)), dtype=torch.float32)
                for m in self.mechanisms}

    def nominal_noise(self, n: int) -> dict[str, torch.Tensor]:
        """Every noise variable at its nominal value (used for factor-grid renders)."""
        return {m.name: torch.full((check_count(n),), float(m.nominal_noise))
                for m in self.mechanisms}

    def solve(self, noise: Mapping[str, torch.Tensor],
              interventions: Mapping[str, object] | None = None) -> dict[str, torch.Tensor]:
        """Compute every variable from ``noise``, with ``do(interventions)`` applied."""
        interventions = dict(interventions or {})
        for name in interventions:
            if name not in self.variables:
                raise UnknownVariableError(name, self.variables)
        n = len(next(iter(noise.values())))
        values: dict[str, torch.Tensor] = {}
        for m in self.mechanisms:
            if m.name in interventions:
                try:
                    v = torch.as_tensor(interventions[m.name], dtype=torch.float32)
                except (TypeError, ValueError, RuntimeError):
                    raise WorkbenchInputError(f"Intervention on {m.name!r} must be a number or a tensor of "
                                              f"numbers, got {interventions[m.name]!r}.") from None
                if v.dim() > 1 or (v.dim() == 1 and len(v) not in (1, n)):
                    raise ShapeError(
                        f"Intervention on {m.name!r} has shape {tuple(v.shape)}; give a "
                        f"scalar or a vector of length {n}."
                    )
                if not torch.isfinite(v).all():
                    raise NonFiniteValueError(f"Intervention on {m.name!r} is not finite.")
                m.check_intervention(v)
                values[m.name] = v.expand(n).clone()
            else:
                values[m.name] = m.fn({p: values[p] for p in m.parents}, noise[m.name])
        return values

    def render(self, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Images ``(n, C, H, W)`` in ``[0, 1]`` for given values of all variables."""
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise UnknownVariableError(missing[0], list(values), what="value")
        return self._render(values)

    def sample(self, n: int, generator=None, interventions=None):
        """Observational (or, with ``interventions``, interventional) images and values."""
        values = self.solve(self.sample_noise(n, generator), interventions)
        return self.render(values), values

    def counterfactual(self, noise: Mapping[str, torch.Tensor], interventions):
        """Images and values of the twin world: the same ``noise``, ``do(interventions)``."""
        values = self.solve(noise, interventions)
        return self.render(values), values
