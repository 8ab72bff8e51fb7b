"""Mechanisms: how one variable is computed from its parents and its own noise.

A structural causal model assigns every variable ``v`` a *mechanism*
``v := f(parents(v), u_v)`` and an *exogenous noise* distribution for ``u_v``.
Each class here is one kind of mechanism (a mechanism from any callable,
:class:`~workbench.scm.function.FunctionMechanism`, is in its own module). They all
answer four questions:

``noise()``
    The distribution of ``u_v`` for one unit (a Pyro distribution).
``__call__(pa, u)``
    The value of ``v`` given its parents' values ``pa`` (a tensor of shape
    ``(..., n_parents)``) and its noise ``u``.
``distribution(pa)``
    The conditional distribution ``P(v | pa)``; for additive noise it is a
    ``TransformedDistribution`` of the noise, which lets ChiRho abduct the noise.
``abduct(value, pa)``
    The noise that reproduces ``value`` (the *abduction* step of a
    counterfactual): exact when the mechanism is invertible in its noise, a
    posterior sample (``DiscreteCPT``, Gumbel-max) otherwise.

Two attributes say what a mechanism allows: ``invertible`` (abduction is exact) and
``has_density`` (``distribution`` exists, so the variable can be conditioned on).
The Pyro program (:mod:`workbench.scm.model`) and the by-hand counterfactual call
exactly these methods. The same values computed faster, for calls no Pyro handler
watches, live beside them in :mod:`workbench.scm.fast`, pinned to them by tests.

Examples
--------
>>> import torch
>>> from workbench.scm.mechanisms import LinearGaussian
>>> m = LinearGaussian({"x": 2.0}, bias=1.0, noise_scale=0.5)
>>> m.parents
('x',)
>>> pa = torch.tensor([[3.0]])
>>> m(pa, torch.tensor([0.1]))
tensor([7.1000])
>>> m.abduct(torch.tensor([7.1]), pa)
tensor([0.1000])
"""

from __future__ import annotations

import copy
from typing import Callable, Mapping, Sequence

import pyro.distributions as dist
import torch

from workbench.errors import ShapeError, WorkbenchInputError
from workbench.scm.interventions import CategoryError, check_finite
from workbench.scm.mlp import MLP, mlp

__all__ = [
    "Mechanism", "NotInvertibleError", "AdditiveNoise", "LinearGaussian", "DiscreteCPT", "MLP", "mlp",
]


class NotInvertibleError(WorkbenchInputError):
    """A mechanism whose noise cannot be recovered from its output (no abduction).

    Examples
    --------
    >>> import torch
    >>> from workbench.scm.function import FunctionMechanism
    >>> import pyro.distributions as dist
    >>> FunctionMechanism([], lambda pa, u: u, dist.Normal(0.0, 1.0)).distribution(torch.zeros(1, 0))
    Traceback (most recent call last):
    ...
    workbench.scm.mechanisms.NotInvertibleError: FunctionMechanism has no density P(v | parents); it cannot be conditioned on.
    """


class Mechanism:
    """Base class. Subclasses set ``parents`` and implement the methods below.

    Attributes
    ----------
    parents : tuple of str
        The parents, in the order of the last axis of ``pa``.
    cardinality : int or None
        Number of categories for a discrete variable, ``None`` if continuous.
    invertible : bool
        Whether :meth:`abduct` recovers the noise exactly.
    has_density : bool
        Whether :meth:`distribution` gives ``P(v | pa)``; a model can be conditioned on
        a variable only if it has one.

    Examples
    --------
    >>> import torch, pyro.distributions as dist
    >>> class Doubling(Mechanism):                       # v := 2 * parent + u
    ...     parents, invertible = ("x",), True
    ...     def noise(self): return dist.Normal(0.0, 1.0)
    ...     def __call__(self, pa, u): return 2 * pa[..., 0] + u
    ...     def abduct(self, value, pa): return value - 2 * pa[..., 0]
    >>> Doubling()(torch.tensor([[1.0]]), torch.tensor([0.5]))
    tensor([2.5000])
    >>> Doubling().has_density
    False
    """

    parents: tuple = ()
    cardinality: int | None = None
    invertible: bool = False

    @property
    def has_density(self) -> bool:
        """Whether the class defines :meth:`distribution` (a class may also set it outright)."""
        return type(self).distribution is not Mechanism.distribution

    def noise(self) -> dist.Distribution:
        """The distribution of one unit's noise ``u_v``."""
        raise NotImplementedError

    def __call__(self, pa: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """The value of ``v`` from its parents ``pa`` ``(..., n_parents)`` and its noise ``u``."""
        raise NotImplementedError

    def distribution(self, pa: torch.Tensor) -> dist.Distribution:
        """``P(v | pa)``, for mechanisms with ``has_density``; others raise :class:`NotInvertibleError`."""
        raise NotInvertibleError(
            f"{type(self).__name__} has no density P(v | parents); it cannot be conditioned on."
        )

    def abduct(self, value: torch.Tensor, pa: torch.Tensor) -> torch.Tensor:
        """The noise that reproduces ``value`` given ``pa`` (exact when ``invertible``)."""
        raise NotInvertibleError(
            f"{type(self).__name__} is not invertible in its noise; give it an `inverse`."
        )

    def to(self, device) -> "Mechanism":
        """A copy whose tensors live on ``device`` (mechanisms are never mutated)."""
        return copy.copy(self)


class AdditiveNoise(Mechanism):
    """``v := f(pa) + u`` with ``u`` drawn from ``noise`` (default ``Normal(0, noise_scale)``).

    ``f`` is any torch callable from a ``(..., n_parents)`` tensor to ``(...)``,
    e.g. a small MLP (see :func:`mlp`). Invertible: ``u = v - f(pa)``.

    Examples
    --------
    >>> import torch
    >>> m = AdditiveNoise(["x"], lambda pa: torch.tanh(pa[..., 0]), noise_scale=0.1)
    >>> float(m(torch.tensor([[0.0]]), torch.tensor([0.3])))
    0.3
    """

    invertible = True

    def __init__(self, parents: Sequence[str], f: Callable[[torch.Tensor], torch.Tensor],
                 noise_scale: float = 1.0, noise: dist.Distribution | None = None):
        self.parents = tuple(parents)
        if len(set(self.parents)) != len(self.parents):
            raise WorkbenchInputError(f"Parents {self.parents} repeat a name; list each once.")
        if noise is None:
            try:  # checked in the dtype it is stored in: 1e-56 is 0 in float32
                scale = torch.tensor(float(noise_scale))
            except (TypeError, ValueError):
                scale = torch.tensor(float("nan"))
            if not (bool(scale > 0) and bool(torch.isfinite(scale))):
                raise WorkbenchInputError(
                    f"noise_scale must be a positive finite number (in {scale.dtype}), got {noise_scale!r}.")
            noise = dist.Normal(0.0, scale)
        if noise.batch_shape != torch.Size() or noise.event_shape != torch.Size():
            raise ShapeError("An additive noise distribution must be scalar (batch and event shape ()).")
        self.f, self._noise = f, noise

    def noise(self) -> dist.Distribution:
        """The noise distribution ``u ~ noise`` (scalar)."""
        return self._noise

    def to(self, device):
        """A copy with a normal noise's parameters on ``device``."""
        new = copy.copy(self)
        if isinstance(self._noise, dist.Normal):  # other noise families stay where they were made
            new._noise = dist.Normal(self._noise.loc.to(device), self._noise.scale.to(device))
        return new

    def mean(self, pa: torch.Tensor) -> torch.Tensor:
        """``f(pa)``, the part of ``v`` explained by its parents."""
        out = self.f(pa.to(torch.get_default_dtype()))
        return out.expand(pa.shape[:-1]) if out.dim() == 0 else out

    def __call__(self, pa, u):
        return self.mean(pa) + u

    def distribution(self, pa):
        """``P(v | pa)``: the noise shifted by ``f(pa)`` (a ``TransformedDistribution``)."""
        shift = dist.transforms.AffineTransform(self.mean(pa), 1.0)
        base = self._noise.expand(pa.shape[:-1])
        return dist.TransformedDistribution(base, [shift])

    def abduct(self, value, pa):
        """Exact abduction: ``u = v - f(pa)``."""
        return value.to(torch.get_default_dtype()) - self.mean(pa)


class LinearGaussian(AdditiveNoise):
    """``v := bias + sum_p weights[p] * p + u``, ``u ~ Normal(0, noise_scale)``.

    Parameters
    ----------
    weights : mapping of parent name to float
        One coefficient per parent (the order of the mapping is the parent order).
    bias : float
    noise_scale : float
        Standard deviation of the noise; must be positive.

    Examples
    --------
    >>> import torch
    >>> m = LinearGaussian({"x": 2.0, "z": -1.0}, bias=0.5)
    >>> m(torch.tensor([[1.0, 3.0]]), torch.tensor([0.25]))       # 0.5 + 2*1 - 3 + 0.25
    tensor([-0.2500])
    >>> m
    LinearGaussian(2*x + -1*z + 0.5, noise_scale=1)
    """

    def __init__(self, weights: Mapping[str, float] | None = None, bias: float = 0.0,
                 noise_scale: float = 1.0):
        weights = dict(weights or {})
        check_finite("LinearGaussian weights", torch.tensor([float(x) for x in weights.values()]))
        check_finite("LinearGaussian bias", torch.tensor(float(bias)))
        self.weights, self.bias = weights, float(bias)
        super().__init__(list(weights), self._linear, noise_scale=noise_scale)
        self.noise_scale = float(noise_scale)

    def _linear(self, pa: torch.Tensor) -> torch.Tensor:
        out = torch.full(pa.shape[:-1], self.bias, dtype=pa.dtype, device=pa.device)
        for i, w in enumerate(self.weights.values()):  # bias + sum_p w_p * p
            out = out + w * pa[..., i]
        return out

    def __repr__(self):
        terms = " + ".join(f"{w:g}*{p}" for p, w in self.weights.items())
        return f"LinearGaussian({terms or '0'} + {self.bias:g}, noise_scale={self.noise_scale:g})"


class DiscreteCPT(Mechanism):
    """A discrete variable given by a conditional probability table, as Gumbel-max.

    ``v := argmax_k (log table[pa][k] + u_k)`` with ``u_k ~ Gumbel(0, 1)`` i.i.d.
    This draws ``v`` from ``table[pa]`` and, because the noise is explicit, makes
    categorical counterfactuals well defined (Oberst & Sontag, 2019). Abduction
    samples the noise from its posterior given the observed category
    (top-down truncated Gumbels), so counterfactuals are Monte Carlo estimates.

    Parameters
    ----------
    parents : sequence of str
        Discrete parents, in the order of the table's leading axes.
    table : tensor of shape ``(*parent_cardinalities, K)``
        Probabilities; the last axis sums to one.

    Examples
    --------
    >>> import torch
    >>> coin = DiscreteCPT([], torch.tensor([0.3, 0.7]))
    >>> coin.cardinality
    2
    >>> coin(torch.zeros(1, 0, dtype=torch.long), torch.tensor([[5.0, 0.0]]))
    tensor([0])
    """

    def __init__(self, parents: Sequence[str], table):
        self.parents = tuple(parents)
        table = torch.as_tensor(table, dtype=torch.get_default_dtype())
        if table.dim() != len(self.parents) + 1:
            raise ShapeError(
                f"A table for {len(self.parents)} parent(s) needs {len(self.parents) + 1} axes "
                f"(one per parent, then the categories); got shape {tuple(table.shape)}."
            )
        check_finite("The probability table", table)
        if (table < 0).any() or not torch.allclose(table.sum(-1), torch.ones(()), atol=1e-5):
            raise WorkbenchInputError(
                "Every row of a probability table must be non-negative and sum to 1 over the "
                "last axis; normalise it with table / table.sum(-1, keepdim=True)."
            )
        self.table = table
        self.cardinality = int(table.shape[-1])
        self.parent_cardinalities = tuple(int(s) for s in table.shape[:-1])

    def to(self, device):
        """A copy with the table on ``device``."""
        new = copy.copy(self)
        new.table = self.table.to(device)
        return new

    def noise(self):
        """``K`` independent ``Gumbel(0, 1)`` draws (one event of size ``K``)."""
        zero = torch.zeros(self.cardinality, device=self.table.device)
        return dist.Gumbel(zero, 1.0).to_event(1)

    def logits(self, pa: torch.Tensor) -> torch.Tensor:
        """``log table[pa]``, shape ``(..., K)``; ``pa`` holds one category per parent.

        Examples
        --------
        >>> import torch
        >>> cpt = DiscreteCPT(["a"], torch.tensor([[0.9, 0.1], [0.2, 0.8]]))
        >>> cpt.logits(torch.tensor([[1]])).exp()
        tensor([[0.2000, 0.8000]])
        >>> cpt.logits(torch.tensor([[-1]]))
        Traceback (most recent call last):
        ...
        workbench.scm.interventions.CategoryError: Parent 'a' of a table must be one of its categories 0..1; got -1.
        """
        self._check_parent_categories(pa)
        pa = pa.long()
        index = tuple(pa[..., i] for i in range(pa.shape[-1]))
        return self.table.log()[index] if index else self.table.log().expand(*pa.shape[:-1], -1)

    def _check_parent_categories(self, pa: torch.Tensor) -> None:
        """Refuse parent values that would read the wrong row: a missing or extra column,
        a fraction (truncated by ``.long()``), a negative category (Python's index -1 is
        the last row) or one past the table."""
        if pa.dim() == 0 or pa.shape[-1] != len(self.parents):
            raise ShapeError(
                f"A table with parents {list(self.parents)} needs parent values of shape "
                f"(..., {len(self.parents)}); got shape {tuple(pa.shape)}."
            )
        for i, (name, size) in enumerate(zip(self.parents, self.parent_cardinalities)):
            column = pa[..., i]
            wrong = (column < 0) | (column > size - 1)
            if column.is_floating_point():
                wrong = wrong | (column != column.round())
            if wrong.any():
                bad = column[wrong][0].item()
                raise CategoryError(
                    f"Parent {name!r} of a table must be one of its categories 0..{size - 1}; "
                    f"got {bad:g}."
                )

    def __call__(self, pa, u):
        return torch.argmax(self.logits(pa) + u, dim=-1)

    def distribution(self, pa):
        """``Categorical(table[pa])``."""
        return dist.Categorical(logits=self.logits(pa))

    def abduct(self, value, pa):
        """One posterior sample of the Gumbel noise given ``value`` and ``pa``."""
        logits = self.logits(pa)
        value = value.long()
        logits, value = torch.broadcast_tensors(logits, value.unsqueeze(-1))
        value = value[..., 0]
        observed = logits.gather(-1, value.unsqueeze(-1))
        if torch.isinf(observed).any():
            raise WorkbenchInputError(
                "An observed category has probability 0 under its parents' values, so no "
                "noise can explain it; check the factual data against the tables."
            )
        gumbel = dist.Gumbel(torch.zeros_like(logits), 1.0).sample()
        # the max of l + u is Gumbel(logsumexp l), independent of which category won
        top = torch.logsumexp(logits, -1, keepdim=True) + dist.Gumbel(torch.zeros_like(observed), 1.0).sample()
        # other categories: Gumbel(l_i) truncated below top
        trunc = -torch.log(torch.exp(-top) + torch.exp(-(logits + gumbel)))
        u = torch.where(torch.isinf(logits), gumbel, trunc - logits)
        return u.scatter(-1, value.unsqueeze(-1), top - observed)
