"""Many small ReLU networks evaluated as one batched MLP, with its backward written out (a speed path).

:class:`~workbench.latents.flows.StackedFlows` keeps the weights of every flow
mechanism's network in one flat parameter vector, read as ``(groups, in, out)``
matrices and ``(groups, 1, out)`` biases; one ``torch.baddbmm`` per layer evaluates
every network. :func:`batched_mlp` is that forward pass. When the weights need a
gradient it runs as one ``torch.autograd.Function`` whose backward writes every layer's
weight and bias gradients straight into one flat gradient (the same per-layer formulas
as autograd's, ``dW = h^T g``, ``db = sum g``, ``dh = g W^T`` masked by the ReLU), which
saves autograd's two dozen graph nodes and the gradients' final concatenation.
``tests/test_flows_stacked.py`` checks it against autograd (and ``gradcheck``).

Examples
--------
>>> import torch
>>> flat = torch.randn(2 * 3 * 4 + 2 * 4 + 2 * 4 * 1 + 2 * 1, requires_grad=True)
>>> layout = [(2, 3, 4), (2, 1, 4), (2, 4, 1), (2, 1, 1)]      # two networks 3 -> 4 -> 1
>>> out = batched_mlp(flat, torch.randn(2, 5, 3), layout)
>>> out.shape
torch.Size([2, 5, 1])
>>> out.sum().backward(); flat.grad.shape
torch.Size([42])
"""

from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

__all__ = ["batched_mlp", "layer_views"]


def layer_views(flat: torch.Tensor, layout, start: int = 0):
    """The weight and bias views of ``flat`` (from offset ``start``): ``(weights, biases)``.

    ``layout`` lists the shapes, weight then bias for each layer.

    Examples
    --------
    >>> import torch
    >>> w, b = layer_views(torch.arange(8.0), [(1, 2, 3), (1, 1, 2)])    # 6 weights, then 2 biases
    >>> w[0].shape, b[0].tolist()
    (torch.Size([1, 2, 3]), [[[6.0, 7.0]]])
    """
    sizes = [math.prod(shape) for shape in layout]
    pieces = flat[start:start + sum(sizes)].split(sizes)
    views = [piece.view(shape) for piece, shape in zip(pieces, layout)]
    return views[0::2], views[1::2]


def _forward(h, weights, biases, keep):
    acts = []
    for k, (w, b) in enumerate(zip(weights, biases)):
        if keep:
            acts.append(h)
        h = torch.baddbmm(b, h, w)
        if k < len(weights) - 1:
            h = h.relu_()
    return h, acts


class _BatchedMLP(torch.autograd.Function):
    @staticmethod
    def forward(ctx, flat, h, layout, start):
        out, acts = _forward(h, *layer_views(flat, layout, start), keep=True)
        ctx.layout, ctx.start = layout, start
        ctx.save_for_backward(flat, *acts)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        flat, *acts = ctx.saved_tensors
        grad = torch.zeros_like(flat)
        weights, _ = layer_views(flat, ctx.layout, ctx.start)
        g_weights, g_biases = layer_views(grad, ctx.layout, ctx.start)
        for k in reversed(range(len(weights))):
            torch.bmm(acts[k].transpose(1, 2), g, out=g_weights[k])
            torch.sum(g, 1, keepdim=True, out=g_biases[k])
            if k > 0 or ctx.needs_input_grad[1]:
                g = torch.bmm(g, weights[k].transpose(1, 2))
            if k > 0:                           # back through the ReLU (its own backward kernel)
                g = torch.ops.aten.threshold_backward(g, acts[k], 0)
        return grad, (g if ctx.needs_input_grad[1] else None), None, None


def batched_mlp(flat: torch.Tensor, h: torch.Tensor, layout, start: int = 0, groups=None) -> torch.Tensor:
    """Every network at once: ``h (groups, n, in) -> (groups, n, out)``, ReLU between layers.

    The weights are read from ``flat`` (at offset ``start``) as ``layout`` says
    (:func:`layer_views`); the gradient reaches ``flat`` (and ``h``) by a hand-written backward.
    ``groups`` (indices) evaluates only those networks (``h`` then has one group per index).

    Examples
    --------
    >>> import torch
    >>> flat = torch.tensor([2.0, -1.0])                          # one network: y = 2 x - 1
    >>> batched_mlp(flat, torch.tensor([[[3.0]]]), [(1, 1, 1), (1, 1, 1)]).item()
    5.0
    """
    if groups is None and torch.is_grad_enabled() and (flat.requires_grad or h.requires_grad):
        return _BatchedMLP.apply(flat, h, layout, start)
    weights, biases = layer_views(flat, layout, start)
    if groups is not None:
        weights, biases = [w[groups] for w in weights], [b[groups] for b in biases]
    return _forward(h, weights, biases, keep=False)[0]
