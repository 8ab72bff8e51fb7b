"""The speed route of the SCM area: the same numbers as the teaching contract, faster.

:mod:`workbench.scm.mechanisms` says what a mechanism *is* (``noise``, ``__call__``,
``distribution``, ``abduct``) and :mod:`workbench.scm.model` runs it as a Pyro program.
This module computes the same values without Pyro, for the calls nobody is watching
(no Pyro handler active, see :func:`runs_bare`). It changes how the arithmetic is laid
out, never what is computed:

* parents stay a list of ``(n,)`` tensors ("columns") instead of being stacked into
  ``(n, n_parents)``; each kernel here is ``mech(stack(columns), u)`` (or ``abduct``)
  for one mechanism kind, registered with :func:`functools.singledispatch`; any other
  mechanism (a flow, your own) falls back to its teaching methods on stacked parents;
* a linear mean is summed into one fresh tensor in place; an :class:`~workbench.scm.mechanisms.MLP`
  is evaluated on rows in cache-sized blocks (:func:`mlp_of_columns`).

The worlds built from these kernels (sampling, counterfactuals) are in
:mod:`workbench.scm.fast_worlds`. ``tests/test_scm_fastpath.py`` pins every function
here to the teaching route, to float rounding.

Examples
--------
>>> import torch
>>> from workbench.scm.mechanisms import LinearGaussian
>>> lg = LinearGaussian({"a": 2.0, "b": -1.0}, bias=0.5)
>>> a, b, u = torch.tensor([1.0, 2.0]), torch.tensor([0.0, 1.0]), torch.tensor([0.1, 0.1])
>>> call_columns(lg, [a, b], u)                     # the same as lg(stack([a, b]), u)
tensor([2.6000, 3.6000])
>>> lg(torch.stack([a, b], -1), u)
tensor([2.6000, 3.6000])
"""

from __future__ import annotations

import functools
import weakref
from typing import Sequence

import pyro.distributions as dist
import torch

from workbench.scm.mechanisms import MLP, AdditiveNoise, LinearGaussian, Mechanism

__all__ = ["MLP_BLOCK", "draw_noise", "add_into", "stack_columns", "mean_columns", "call_columns",
           "sample_columns", "abduct_columns", "counterfactual_columns", "reads_changes",
           "mlp_of_columns"]

#: units per block in :func:`mlp_of_columns` on a CPU (measured best of 4k-32k)
MLP_BLOCK = 16384


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


def add_into(out: torch.Tensor, other: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """``out + alpha * other``, written into ``out`` (a tensor the caller has just made)
    when the sum has ``out``'s shape and dtype; a new tensor otherwise (broadcasting).

    Examples
    --------
    >>> out = torch.zeros(3)
    >>> add_into(out, torch.ones(3), alpha=2.0) is out
    True
    >>> add_into(torch.zeros(3), torch.ones(2, 3)).shape        # broadcasts: a new tensor
    torch.Size([2, 3])
    """
    if (torch.broadcast_shapes(out.shape, other.shape) == out.shape
            and torch.promote_types(out.dtype, other.dtype) == out.dtype):
        return out.add_(other, alpha=alpha)
    return out.add(other, alpha=alpha)


def stack_columns(columns: Sequence[torch.Tensor], batch_shape, device=None) -> torch.Tensor:
    """The parents' columns stacked into the ``pa`` tensor of the teaching contract.

    Examples
    --------
    >>> stack_columns([torch.zeros(2), torch.ones(2)], (2,)).shape
    torch.Size([2, 2])
    >>> stack_columns([], (3,)).shape                           # no parents: (n, 0)
    torch.Size([3, 0])
    """
    if not columns:
        return torch.zeros(*batch_shape, 0, device=device)
    cols = torch.broadcast_tensors(*[c.to(torch.get_default_dtype()) for c in columns])
    return torch.stack(cols, dim=-1)


# --------------------------------------------------------------------------- the kernels
@functools.singledispatch
def mean_columns(mech: AdditiveNoise, columns, like: torch.Tensor) -> torch.Tensor:
    """``mech.mean(pa)`` (the ``f(pa)`` of an additive mechanism) from columns.

    ``like`` gives the shape when there are no parents.

    Examples
    --------
    >>> from workbench.scm.mechanisms import LinearGaussian
    >>> mean_columns(LinearGaussian({"a": 3.0}, bias=1.0), [torch.tensor([1.0])], torch.empty(1))
    tensor([4.])
    """
    if isinstance(mech.f, MLP):
        return mlp_of_columns(mech.f, columns, like)
    return mech.mean(stack_columns(columns, like.shape, like.device))


@mean_columns.register
def _(mech: LinearGaussian, columns, like):
    # bias + sum of w * parent, summed into one fresh tensor: for many units a new tensor
    # costs more (fresh memory) than the addition itself. Equal to ``pa @ w + bias`` to rounding.
    if not columns:
        return torch.full(like.shape, mech.bias, dtype=torch.get_default_dtype(), device=like.device)
    out = None
    for c, w in zip(columns, mech.weights.values()):
        c = c.to(torch.get_default_dtype())
        out = c * w if out is None else add_into(out, c, alpha=w)
    return out.add_(mech.bias) if mech.bias else out


def _mean_is_fresh(mech: Mechanism) -> bool:
    """Whether ``mean_columns`` returns a new tensor of its own (safe to add into)."""
    return isinstance(mech, LinearGaussian) or (isinstance(mech, AdditiveNoise) and isinstance(mech.f, MLP))


@functools.singledispatch
def call_columns(mech: Mechanism, columns: Sequence[torch.Tensor], u: torch.Tensor) -> torch.Tensor:
    """``mech(pa, u)`` with the parents' values as a list of tensors.

    Examples
    --------
    >>> from workbench.scm.mechanisms import DiscreteCPT
    >>> coin = DiscreteCPT([], torch.tensor([0.3, 0.7]))
    >>> call_columns(coin, [], torch.tensor([[5.0, 0.0]]))      # the default: stack, then call
    tensor([0])
    """
    batch = u.shape[:u.dim() - len(mech.noise().event_shape)]
    return mech(stack_columns(columns, batch, u.device), u)


@call_columns.register
def _(mech: AdditiveNoise, columns, u):
    return mean_columns(mech, columns, u) + u


@call_columns.register
def _(mech: LinearGaussian, columns, u):
    return add_into(mean_columns(mech, columns, u), u)


def sample_columns(mech: Mechanism, columns: Sequence[torch.Tensor], n: int) -> torch.Tensor:
    """Draw the noise of ``n`` units (as :func:`draw_noise`), then :func:`call_columns`.

    For additive ``Normal(loc, scale)`` noise with a fresh mean, ``f(pa) + loc + scale * eps``
    is added in one pass, ``eps`` drawn as :func:`draw_noise` draws it (same values up
    to float rounding).

    Examples
    --------
    >>> from workbench.scm.mechanisms import LinearGaussian
    >>> _ = torch.manual_seed(0)
    >>> sample_columns(LinearGaussian(noise_scale=1e-6), [], 3).abs().max() < 1e-5
    tensor(True)
    """
    noise = mech.noise()
    if type(noise) is not dist.Normal or not _mean_is_fresh(mech):
        return call_columns(mech, columns, draw_noise(noise, n))
    eps = torch.empty(n, dtype=noise.loc.dtype, device=noise.loc.device).normal_()
    out = mean_columns(mech, columns, eps).add_(eps, alpha=float(noise.scale))
    return out.add_(noise.loc) if float(noise.loc) != 0.0 else out


@functools.singledispatch
def abduct_columns(mech: Mechanism, value: torch.Tensor, columns: Sequence[torch.Tensor]) -> torch.Tensor:
    """``mech.abduct(value, pa)`` with the parents' values as a list of tensors.

    Examples
    --------
    >>> from workbench.scm.mechanisms import LinearGaussian
    >>> abduct_columns(LinearGaussian({"a": 2.0}), torch.tensor([5.0]), [torch.tensor([2.0])])
    tensor([1.])
    """
    return mech.abduct(value, stack_columns(columns, value.shape, value.device))


@abduct_columns.register
def _(mech: AdditiveNoise, value, columns):
    value = value.to(torch.get_default_dtype())
    return value - mean_columns(mech, columns, value)


@abduct_columns.register
def _(mech: LinearGaussian, value, columns):
    value = value.to(torch.get_default_dtype())
    mean = mean_columns(mech, columns, value)
    if not torch.is_grad_enabled() and mean.shape == value.shape and mean.dtype == value.dtype:
        return torch.sub(value, mean, out=mean)
    return value - mean


def reads_changes(mech: Mechanism) -> bool:
    """Whether :func:`counterfactual_columns` uses its ``changes`` argument (linear mechanisms).

    Examples
    --------
    >>> from workbench.scm.mechanisms import LinearGaussian
    >>> reads_changes(LinearGaussian())
    True
    """
    return isinstance(mech, LinearGaussian)


@functools.singledispatch
def counterfactual_columns(mech: AdditiveNoise, value, factual_columns, cf_columns,
                           changes=None) -> torch.Tensor:
    """The value in the counterfactual world of a unit observed at ``value``.

    Abduction and prediction in one step: the unit's noise is
    ``u = value - f(factual parents)``, so its counterfactual value is
    ``f(counterfactual parents) + u``. A parent that is the *same tensor* in both lists
    did not change. ``changes`` (read only where :func:`reads_changes`) lists
    ``cf - factual`` per parent, ``None`` if unchanged. For a linear mechanism the
    noise and the unchanged parents cancel: ``value + sum_p w_p (cf_p - factual_p)``,
    one pass per changed parent.

    Examples
    --------
    >>> from workbench.scm.mechanisms import LinearGaussian
    >>> lg = LinearGaussian({"a": 2.0}, bias=1.0)
    >>> counterfactual_columns(lg, torch.tensor([3.5]), [torch.tensor([1.0])], [torch.tensor([0.0])])
    tensor([1.5000])
    """
    value = value.to(torch.get_default_dtype())
    if all(cf is fact for cf, fact in zip(cf_columns, factual_columns)):
        return value.clone()  # no parent changed, and the noise is the unit's own
    u = value - mean_columns(mech, factual_columns, value)
    return add_into(mean_columns(mech, cf_columns, value), u)


@counterfactual_columns.register
def _(mech: LinearGaussian, value, factual_columns, cf_columns, changes=None):
    out = value.to(torch.get_default_dtype(), copy=True)
    if changes is None:
        changes = [None if cf is fact else cf.to(out.dtype) - fact.to(out.dtype)
                   for cf, fact in zip(cf_columns, factual_columns)]
    for change, w in zip(changes, mech.weights.values()):
        if change is not None:
            out = add_into(out, change, alpha=w)
    return out


# --------------------------------------------------------------------------- the MLP
_ROW_LAYOUT: "weakref.WeakKeyDictionary[MLP, tuple]" = weakref.WeakKeyDictionary()


def _row_layout(f: MLP) -> tuple[torch.Tensor, torch.Tensor]:
    """``f``'s weights laid out for inputs given as rows ``(n_inputs, n)``, made once per MLP."""
    if f not in _ROW_LAYOUT:
        _ROW_LAYOUT[f] = (f.w1.T.contiguous(), f.b1[:, None].contiguous())
    return _ROW_LAYOUT[f]


def mlp_of_columns(f: MLP, columns, like: torch.Tensor) -> torch.Tensor:
    """``f(pa)`` with the inputs given as a list of ``(n,)`` tensors.

    An SCM keeps one tensor per variable. Copying them as *rows*, ``(n_inputs, n)``, is a
    plain copy, and the hidden layer ``w1^T @ rows + b1`` is then one matrix product into
    a ``(hidden, n)`` tensor: about twice as fast as interleaving the columns into
    ``(n, n_inputs)`` first (measured in ``benchmarks/bench_scm.py``). Equal to ``f(pa)``
    up to float rounding. Other shapes (e.g. ChiRho's world dimensions) take ``f(pa)``.

    Examples
    --------
    >>> from workbench.scm.mechanisms import mlp
    >>> f = mlp(2, seed=0)
    >>> a, b = torch.randn(5), torch.randn(5)
    >>> bool(torch.allclose(mlp_of_columns(f, [a, b], like=a), f(torch.stack([a, b], -1)), atol=1e-6))
    True
    """
    dtype = torch.get_default_dtype()
    if like.dim() != 1 or any(c.shape != like.shape for c in columns):
        return f(stack_columns(columns, like.shape, like.device))
    # A parent held at one value for every unit (e.g. by a hard do: an expanded tensor,
    # stride 0) is a constant: it is folded into the bias rather than copied n times.
    fixed = [i for i, c in enumerate(columns) if c.stride() == (0,) or c.shape[0] == 1]
    varying = [c.to(dtype) for i, c in enumerate(columns) if i not in fixed]
    w1_t, b1 = (t.to(like.device, dtype) for t in _row_layout(f))
    if fixed:
        constants = torch.stack([columns[i].reshape(-1)[0].to(dtype) for i in fixed])
        b1 = b1 + w1_t[:, fixed] @ constants[:, None]
        w1_t = w1_t[:, [i for i in range(len(columns)) if i not in fixed]]
    w2 = f.w2.to(like.device, dtype)
    if not varying:
        return torch.full(like.shape, float(w2 @ torch.tanh(b1[:, 0])), dtype=dtype, device=like.device)
    if like.device.type != "cpu":
        return w2 @ torch.addmm(b1, w1_t, torch.stack(varying, dim=0)).tanh_()
    return _blocked_cpu(w1_t, b1, w2, varying, like.shape[0], f.hidden)


def _blocked_cpu(w1_t, b1, w2, varying, n: int, hidden: int) -> torch.Tensor:
    """On a CPU, blocks of units keep the work in cache: each block's inputs are copied
    into rows above a row of ones, so that one product ``[w1^T b1] @ [rows; 1]`` gives the
    hidden layer, bias included; ``tanh`` in place; then ``w2 @ layer``."""
    dtype, k = w1_t.dtype, len(varying)
    weights, out = torch.cat([w1_t, b1], dim=1), torch.empty(n, dtype=dtype)
    width = min(MLP_BLOCK, n)
    rows, layer = torch.empty(k + 1, width, dtype=dtype), torch.empty(hidden, width, dtype=dtype)
    rows[k] = 1.0
    views = {width: (rows[:k], rows, layer, layer.T)}  # views made once, reused per block
    pieces = [c.split(MLP_BLOCK) for c in varying]
    for j, out_block in enumerate(out.split(MLP_BLOCK)):
        w = out_block.shape[0]
        if w not in views:  # the last, shorter block
            views[w] = (rows[:k, :w], rows[:, :w], layer[:, :w], layer[:, :w].T)
        inputs, with_ones, h, h_t = views[w]
        torch.stack([p[j] for p in pieces], out=inputs)
        torch.mm(weights, with_ones, out=h).tanh_()
        torch.mv(h_t, w2, out=out_block)
    return out
