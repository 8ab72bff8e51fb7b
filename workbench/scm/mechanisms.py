"""Mechanisms: how one variable is computed from its parents and its own noise.

A structural causal model assigns every variable ``v`` a *mechanism*
``v := f(parents(v), u_v)`` and an *exogenous noise* distribution for ``u_v``.
Each class here is one kind of mechanism. They all answer four questions:

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

from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError

__all__ = [
    "Mechanism", "NotInvertibleError", "AdditiveNoise", "LinearGaussian", "DiscreteCPT",
    "FunctionMechanism", "MLP", "mlp",
]


class NotInvertibleError(WorkbenchInputError):
    """A mechanism whose noise cannot be recovered from its output (no abduction)."""


def draw_noise(noise: dist.Distribution, n: int) -> torch.Tensor:
    """``n`` draws of ``noise``, exactly as ``pyro.sample`` inside ``pyro.plate`` would draw them.

    The plate expands the distribution to ``(n,)`` and calls it. A normal is written out,
    ``loc + eps * scale`` in place, with the same generator calls (fewer fresh tensors).

    Examples
    --------
    >>> import torch, pyro, pyro.distributions as dist
    >>> noise = dist.Normal(1.0, 2.0)
    >>> _ = torch.manual_seed(0); by_hand = draw_noise(noise, 5)
    >>> _ = torch.manual_seed(0)
    >>> with pyro.plate("units", 5):
    ...     by_pyro = pyro.sample("u", noise)
    >>> bool(torch.equal(by_hand, by_pyro))
    True
    """
    if type(noise) is dist.Normal:
        eps = torch.empty(n, dtype=noise.loc.dtype, device=noise.loc.device).normal_()
        return eps.mul_(noise.scale).add_(noise.loc)
    return noise.expand((n,))()


def _check_finite(name: str, t: torch.Tensor) -> None:
    if not torch.isfinite(t).all():
        raise NonFiniteValueError(f"{name} contains NaN or infinite values; pass finite numbers.")


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
    """

    parents: tuple = ()
    cardinality: int | None = None
    invertible: bool = False

    def noise(self) -> dist.Distribution:
        raise NotImplementedError

    def __call__(self, pa: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def distribution(self, pa: torch.Tensor) -> dist.Distribution:
        raise NotInvertibleError(
            f"{type(self).__name__} has no density P(v | parents); it cannot be conditioned on."
        )

    def abduct(self, value: torch.Tensor, pa: torch.Tensor) -> torch.Tensor:
        raise NotInvertibleError(
            f"{type(self).__name__} is not invertible in its noise; give it an `inverse`."
        )

    def to(self, device) -> "Mechanism":
        """A copy whose tensors live on ``device`` (mechanisms are never mutated)."""
        return copy.copy(self)

    # The program passes parents as a list of columns, so that simple mechanisms can skip
    # stacking them; by default they are stacked into ``pa`` and the methods above called.
    @staticmethod
    def _stack(columns, batch_shape, device) -> torch.Tensor:
        if not columns:
            return torch.zeros(*batch_shape, 0, device=device)
        cols = torch.broadcast_tensors(*[c.to(torch.get_default_dtype()) for c in columns])
        return torch.stack(cols, dim=-1)

    def call_columns(self, columns: Sequence[torch.Tensor], u: torch.Tensor) -> torch.Tensor:
        """``self(pa, u)`` with the parents' values as a list of tensors."""
        batch = u.shape[:u.dim() - len(self.noise().event_shape)]
        return self(self._stack(columns, batch, u.device), u)

    def abduct_columns(self, value: torch.Tensor, columns: Sequence[torch.Tensor]) -> torch.Tensor:
        """``self.abduct(value, pa)`` with the parents' values as a list of tensors."""
        return self.abduct(value, self._stack(columns, value.shape, value.device))

    def sample_columns(self, columns: Sequence[torch.Tensor], n: int) -> torch.Tensor:
        """Draw the noise of ``n`` units (as :func:`draw_noise`), then ``call_columns``."""
        return self.call_columns(columns, draw_noise(self.noise(), n))


def _add_into(out: torch.Tensor, other: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """``out + alpha * other``, written into ``out`` (a tensor the caller has just made)
    when the sum has ``out``'s shape and dtype; a new tensor otherwise (broadcasting)."""
    if (torch.broadcast_shapes(out.shape, other.shape) == out.shape
            and torch.promote_types(out.dtype, other.dtype) == out.dtype):
        return out.add_(other, alpha=alpha)
    return out.add(other, alpha=alpha)


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
            if not (float(noise_scale) > 0 and torch.isfinite(torch.tensor(float(noise_scale)))):
                raise WorkbenchInputError(f"noise_scale must be a positive number, got {noise_scale!r}.")
            noise = dist.Normal(0.0, float(noise_scale))
        if noise.batch_shape != torch.Size() or noise.event_shape != torch.Size():
            raise ShapeError("An additive noise distribution must be scalar (batch and event shape ()).")
        self.f, self._noise = f, noise

    def noise(self) -> dist.Distribution:
        return self._noise

    def to(self, device):
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

    def mean_columns(self, columns, like: torch.Tensor) -> torch.Tensor:
        """``f(pa)`` from a list of parent tensors; ``like`` gives the shape when there are none.

        An ``f`` with an ``of_columns(columns, like)`` method (e.g. :class:`MLP`) is
        handed the columns directly, skipping the stacking into ``(..., n_parents)``.
        """
        of_columns = getattr(self.f, "of_columns", None)
        if of_columns is not None:
            return of_columns(columns, like)
        return self.mean(self._stack(columns, like.shape, like.device))

    def call_columns(self, columns, u):
        return self.mean_columns(columns, u) + u

    def sample_columns(self, columns, n):
        """``f(pa) + loc + scale * eps`` for ``Normal(loc, scale)`` noise, with ``eps`` drawn
        as :func:`draw_noise` draws it, added in one pass (same values up to float rounding)."""
        noise = self._noise
        if type(noise) is not dist.Normal or not self._mean_is_fresh():
            return super().sample_columns(columns, n)
        eps = torch.empty(n, dtype=noise.loc.dtype, device=noise.loc.device).normal_()
        out = self.mean_columns(columns, eps).add_(eps, alpha=float(noise.scale))
        return out.add_(noise.loc) if float(noise.loc) != 0.0 else out

    def _mean_is_fresh(self) -> bool:
        """Whether ``mean_columns`` returns a new tensor of its own (safe to add into)."""
        return isinstance(self.f, MLP)

    #: whether :meth:`counterfactual_columns` uses its ``changes`` argument
    reads_changes = False

    def counterfactual_columns(self, value, factual_columns, counterfactual_columns, changes=None):
        """The value in the counterfactual world of a unit observed at ``value``.

        Abduction and prediction in one step: the unit's noise is
        ``u = value - f(factual parents)``, so its counterfactual value is
        ``f(counterfactual parents) + u``. A parent that is the *same tensor* in both
        lists did not change. ``changes`` (read only by mechanisms with
        ``reads_changes = True``) lists ``cf - factual`` per parent, ``None`` if unchanged.
        """
        value = value.to(torch.get_default_dtype())
        if all(cf is fact for cf, fact in zip(counterfactual_columns, factual_columns)):
            return value.clone()  # no parent changed, and the noise is the unit's own
        u = value - self.mean_columns(factual_columns, value)
        return _add_into(self.mean_columns(counterfactual_columns, value), u)

    def abduct_columns(self, value, columns):
        value = value.to(torch.get_default_dtype())
        return value - self.mean_columns(columns, value)

    def distribution(self, pa):
        shift = dist.transforms.AffineTransform(self.mean(pa), 1.0)
        base = self._noise.expand(pa.shape[:-1])
        return dist.TransformedDistribution(base, [shift])

    def abduct(self, value, pa):
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
    """

    def __init__(self, weights: Mapping[str, float] | None = None, bias: float = 0.0,
                 noise_scale: float = 1.0):
        weights = dict(weights or {})
        w = torch.tensor([float(x) for x in weights.values()])
        _check_finite("LinearGaussian weights", w)
        _check_finite("LinearGaussian bias", torch.tensor(float(bias)))
        self.weights, self.bias = weights, float(bias)
        self._w = w
        super().__init__(list(weights), self._linear, noise_scale=noise_scale)
        self.noise_scale = float(noise_scale)

    def _linear(self, pa: torch.Tensor) -> torch.Tensor:
        if pa.shape[-1] == 0:
            return torch.full(pa.shape[:-1], self.bias, dtype=pa.dtype, device=pa.device)
        return pa @ self._w.to(pa.device, pa.dtype) + self.bias

    def to(self, device):
        new = super().to(device)
        new._w = self._w.to(device)
        return new

    # The three methods below build one fresh tensor and add into it: for many units a
    # new tensor costs more (fresh memory) than the addition itself. Same values, bit for bit.
    def mean_columns(self, columns, like):
        if not columns:
            return torch.full(like.shape, self.bias, dtype=torch.get_default_dtype(), device=like.device)
        out = None
        for c, w in zip(columns, self.weights.values()):  # bias + sum of w * parent, no stacking
            c = c.to(torch.get_default_dtype())
            out = c * w if out is None else _add_into(out, c, alpha=w)
        return out.add_(self.bias) if self.bias else out

    def call_columns(self, columns, u):
        return _add_into(self.mean_columns(columns, u), u)

    def _mean_is_fresh(self) -> bool:
        return True

    def abduct_columns(self, value, columns):
        value = value.to(torch.get_default_dtype())
        mean = self.mean_columns(columns, value)
        if not torch.is_grad_enabled() and mean.shape == value.shape and mean.dtype == value.dtype:
            return torch.sub(value, mean, out=mean)
        return value - mean

    reads_changes = True

    def counterfactual_columns(self, value, factual_columns, counterfactual_columns, changes=None):
        """``value + sum_p w_p (cf_p - factual_p)``: only the parents that changed.

        For a linear mechanism the noise and the unchanged parents cancel out of
        ``f(cf parents) + (value - f(factual parents))``; equal up to float rounding.
        With ``changes`` given (``cf_p - factual_p`` per parent, ``None`` if unchanged),
        each changed parent costs one pass instead of two.
        """
        out = value.to(torch.get_default_dtype(), copy=True)
        if changes is None:
            changes = [None if cf is fact else cf.to(out.dtype) - fact.to(out.dtype)
                       for cf, fact in zip(counterfactual_columns, factual_columns)]
        for change, w in zip(changes, self.weights.values()):
            if change is not None:
                out = _add_into(out, change, alpha=w)
        return out

    def __repr__(self):
        terms = " + ".join(f"{w:g}*{p}" for p, w in self.weights.items())
        return f"LinearGaussian({terms or '0'} + {self.bias:g}, noise_scale={self.noise_scale:g})"


class MLP:
    """A small fixed MLP ``(..., n_inputs) -> (...)``: ``tanh(pa @ w1 + b1) @ w2``.

    A plain torch callable (no training, no autograd state) that keeps its weights
    as attributes, so a model using it can be inspected and saved. Build a random
    one with :func:`mlp`.

    Parameters
    ----------
    w1 : tensor of shape (n_inputs, hidden)
    b1 : tensor of shape (hidden,)
    w2 : tensor of shape (hidden,)

    Examples
    --------
    >>> import torch
    >>> f = MLP(torch.ones(2, 3), torch.zeros(3), torch.ones(3))
    >>> f(torch.zeros(4, 2))
    tensor([0., 0., 0., 0.])
    >>> f.of_columns([torch.zeros(4), torch.zeros(4)], like=torch.zeros(4))
    tensor([0., 0., 0., 0.])
    """

    block = 16384  # units per block in of_columns on a CPU (measured best of 4k-32k)

    def __init__(self, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor):
        w1, b1, w2 = (torch.as_tensor(t, dtype=torch.get_default_dtype()) for t in (w1, b1, w2))
        if w1.dim() != 2 or b1.shape != (w1.shape[1],) or w2.shape != (w1.shape[1],):
            raise ShapeError(
                f"MLP weights need shapes (n_inputs, hidden), (hidden,), (hidden,); got "
                f"{tuple(w1.shape)}, {tuple(b1.shape)}, {tuple(w2.shape)}.")
        for name, t in (("w1", w1), ("b1", b1), ("w2", w2)):
            _check_finite(f"MLP {name}", t)
        self.w1, self.b1, self.w2 = w1, b1, w2
        # the same weights laid out for inputs given as rows (n_inputs, n): see of_columns
        self._w1_t, self._b1_col = w1.T.contiguous(), b1[:, None].contiguous()

    @property
    def n_inputs(self) -> int:
        return int(self.w1.shape[0])

    @property
    def hidden(self) -> int:
        return int(self.w1.shape[1])

    def __call__(self, pa: torch.Tensor) -> torch.Tensor:
        h = pa @ self.w1.to(pa.device, pa.dtype)  # (..., hidden): one fresh tensor, then in place
        h = torch.tanh_(h.add_(self.b1.to(pa.device, pa.dtype)))
        return h @ self.w2.to(pa.device, pa.dtype)

    def of_columns(self, columns, like: torch.Tensor) -> torch.Tensor:
        """The same function with the inputs given as a list of ``(n,)`` tensors.

        An SCM keeps one tensor per variable. Copying them as *rows*, ``(n_inputs, n)``,
        is a plain copy, and the hidden layer ``w1^T @ rows + b1`` is then one matrix
        product into a ``(hidden, n)`` tensor: about twice as fast as interleaving the
        columns into ``(n, n_inputs)`` first (measured in ``benchmarks/bench_scm.py``).
        Equal to ``self(pa)`` up to float rounding. Other shapes (e.g. ChiRho's world
        dimensions) take the ``__call__`` route.
        """
        dtype = torch.get_default_dtype()
        if like.dim() != 1 or any(c.shape != like.shape for c in columns):
            cols = torch.broadcast_tensors(*[c.to(dtype) for c in columns])
            return self(torch.stack(cols, dim=-1) if cols else torch.zeros(*like.shape, 0, device=like.device))
        # A parent held at one value for every unit (e.g. by a hard do: an expanded tensor,
        # stride 0) is a constant: it is folded into the bias rather than copied n times.
        fixed = [i for i, c in enumerate(columns) if c.stride() == (0,) or c.shape[0] == 1]
        varying = [c.to(dtype) for i, c in enumerate(columns) if i not in fixed]
        w1_t, b1 = self._w1_t.to(like.device, dtype), self._b1_col.to(like.device, dtype)
        if fixed:
            constants = torch.stack([columns[i].reshape(-1)[0].to(dtype) for i in fixed])
            b1 = b1 + w1_t[:, fixed] @ constants[:, None]
            w1_t = w1_t[:, [i for i in range(len(columns)) if i not in fixed]]
        w2 = self.w2.to(like.device, dtype)
        if not varying:
            return torch.full(like.shape, float(w2 @ torch.tanh(b1[:, 0])), dtype=dtype, device=like.device)
        if like.device.type != "cpu":
            return w2 @ torch.addmm(b1, w1_t, torch.stack(varying, dim=0)).tanh_()
        # On a CPU, blocks of units keep the work in cache: each block's inputs are copied
        # into rows above a row of ones, so that one product [w1^T b1] @ [rows; 1] gives
        # the hidden layer, bias included; tanh in place; then w2 @ layer.
        n, k = like.shape[0], len(varying)
        weights, out = torch.cat([w1_t, b1], dim=1), torch.empty(n, dtype=dtype)
        width = min(self.block, n)
        rows, layer = torch.empty(k + 1, width, dtype=dtype), torch.empty(self.hidden, width, dtype=dtype)
        rows[k] = 1.0
        views = {width: (rows[:k], rows, layer, layer.T)}  # views made once, reused per block
        pieces = [c.split(self.block) for c in varying]
        for j, out_block in enumerate(out.split(self.block)):
            w = out_block.shape[0]
            if w not in views:  # the last, shorter block
                views[w] = (rows[:k, :w], rows[:, :w], layer[:, :w], layer[:, :w].T)
            inputs, with_ones, h, h_t = views[w]
            torch.stack([p[j] for p in pieces], out=inputs)
            torch.mm(weights, with_ones, out=h).tanh_()
            torch.mv(h_t, w2, out=out_block)
        return out

    def __repr__(self):
        return f"MLP({self.n_inputs} -> {self.hidden} tanh -> 1)"


def mlp(n_inputs: int, hidden: int = 8, *, seed: int = 0, scale: float = 1.0) -> MLP:
    """A small fixed random :class:`MLP` ``(..., n_inputs) -> (...)`` (tanh hidden layer).

    Seeded with its own generator, so it never touches the global random state.

    Examples
    --------
    >>> import torch
    >>> f = mlp(2, seed=1)
    >>> f(torch.zeros(5, 2)).shape
    torch.Size([5])
    >>> bool(torch.equal(f(torch.ones(1, 2)), mlp(2, seed=1)(torch.ones(1, 2))))
    True
    """
    g = torch.Generator().manual_seed(int(seed))
    w1 = torch.randn(n_inputs, hidden, generator=g) * scale
    b1 = torch.randn(hidden, generator=g) * 0.5
    w2 = torch.randn(hidden, generator=g) / hidden ** 0.5 * scale
    return MLP(w1, b1, w2)


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
        _check_finite("The probability table", table)
        if (table < 0).any() or not torch.allclose(table.sum(-1), torch.ones(()), atol=1e-5):
            raise WorkbenchInputError(
                "Every row of a probability table must be non-negative and sum to 1 over the "
                "last axis; normalise it with table / table.sum(-1, keepdim=True)."
            )
        self.table = table
        self.cardinality = int(table.shape[-1])
        self.parent_cardinalities = tuple(int(s) for s in table.shape[:-1])

    def to(self, device):
        new = copy.copy(self)
        new.table = self.table.to(device)
        return new

    def noise(self):
        zero = torch.zeros(self.cardinality, device=self.table.device)
        return dist.Gumbel(zero, 1.0).to_event(1)

    def logits(self, pa: torch.Tensor) -> torch.Tensor:
        """``log table[pa]``, shape ``(..., K)``."""
        pa = pa.long()
        index = tuple(pa[..., i] for i in range(pa.shape[-1]))
        return self.table.log()[index] if index else self.table.log().expand(*pa.shape[:-1], -1)

    def __call__(self, pa, u):
        return torch.argmax(self.logits(pa) + u, dim=-1)

    def distribution(self, pa):
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


class FunctionMechanism(Mechanism):
    """Any user callable ``v := f(pa, u)`` with noise ``u ~ noise``.

    Give ``inverse(value, pa) -> u`` to make abduction exact. Without it, abduction
    is *approximate*: ``particles`` noise draws from the prior are weighted by how
    well they reproduce the observed value (a Gaussian kernel of width
    ``bandwidth``, or an exact match for a discrete ``f``) and one is resampled,
    which picks among the noises that could explain the value (for a non-injective
    ``f``, in proportion to their prior mass); for a continuous ``f`` a few Newton
    steps then move it onto the observed value exactly.

    Examples
    --------
    >>> import torch, pyro.distributions as dist
    >>> m = FunctionMechanism(["x"], lambda pa, u: pa[..., 0] * torch.exp(u),
    ...                       dist.Normal(0.0, 1.0), inverse=lambda v, pa: torch.log(v / pa[..., 0]))
    >>> m.abduct(m(torch.tensor([[2.0]]), torch.tensor([0.5])), torch.tensor([[2.0]]))
    tensor([0.5000])
    >>> approx = FunctionMechanism(["x"], lambda pa, u: pa[..., 0] + u ** 3, dist.Normal(0.0, 1.0))
    >>> u = approx.abduct(torch.tensor([1.125]), torch.tensor([[1.0]]))   # exact answer 0.5
    >>> bool(abs(u - 0.5) < 0.1)
    True
    """

    def __init__(self, parents: Sequence[str], f: Callable, noise: dist.Distribution,
                 inverse: Callable | None = None, cardinality: int | None = None, *,
                 particles: int = 4096, bandwidth: float = 0.01):
        self.parents = tuple(parents)
        self.f, self._noise, self.inverse = f, noise, inverse
        self.invertible = inverse is not None
        self.cardinality = cardinality
        if not (float(bandwidth) > 0) or int(particles) < 1:
            raise WorkbenchInputError("bandwidth must be positive and particles at least 1.")
        self.particles, self.bandwidth = int(particles), float(bandwidth)

    def noise(self):
        return self._noise

    def __call__(self, pa, u):
        return self.f(pa.to(torch.get_default_dtype()) if self.cardinality is None else pa, u)

    def abduct(self, value, pa):
        if self.inverse is not None:
            return self.inverse(value, pa.to(torch.get_default_dtype()))
        chunk = max(1, 4_000_000 // self.particles)  # bound memory: P x chunk values at once
        if value.shape[0] > chunk:
            return torch.cat([self.abduct(value[i:i + chunk], pa[i:i + chunk])
                              for i in range(0, value.shape[0], chunk)])
        u = self._noise.sample((self.particles, *value.shape))          # (P, n, *event)
        out = self(pa.unsqueeze(0).expand(self.particles, *pa.shape), u)  # (P, n)
        if self.cardinality is not None:
            logw = torch.where(out == value, 0.0, -float("inf"))
        else:
            logw = -0.5 * ((out - value) / self.bandwidth) ** 2
        if not torch.isfinite(logw).any(0).all():
            raise WorkbenchInputError(
                f"No noise among {self.particles} prior draws reproduces some observed values; "
                "raise `particles` or `bandwidth`, or give the mechanism an `inverse`.")
        pick = torch.distributions.Categorical(logits=logw.T).sample()  # one draw per unit
        u = u[pick, torch.arange(value.shape[0], device=value.device)]
        if self.cardinality is None:
            u = self._refine(u, value, pa)
        return u

    def _refine(self, u, value, pa, steps: int = 20):
        """Newton steps on each unit's noise so that ``f(pa, u)`` meets the observed value.

        Prior draws rarely reach far tails; this moves the chosen draw onto the value.
        Units still missing by more than five bandwidths raise an error.
        """
        if u.dim() != 1:
            return u
        pa = pa.to(torch.get_default_dtype())
        for _ in range(steps):
            with torch.enable_grad():
                x = u.detach().requires_grad_(True)
                gap = self(pa, x) - value
                (slope,) = torch.autograd.grad(gap.sum(), x)
            ok = slope.abs() > 1e-6
            u = torch.where(ok, x.detach() - gap.detach() / torch.where(ok, slope, 1.0), x.detach())
        miss = (self(pa, u) - value).abs()
        if not torch.isfinite(miss).all() or (miss > 5 * self.bandwidth).any():
            raise WorkbenchInputError(
                f"Approximate abduction missed some observed values by up to {float(miss.max()):.3g}; "
                "give the mechanism an `inverse`, or raise `particles` or `bandwidth`.")
        return u
