"""A small fixed MLP, the nonlinear ``f`` of the random additive-noise models.

Examples
--------
>>> import torch
>>> f = mlp(3, hidden=4, seed=0)
>>> f
MLP(3 -> 4 tanh -> 1)
>>> f(torch.zeros(2, 3)).shape
torch.Size([2])
"""

from __future__ import annotations

import torch

from workbench.errors import ShapeError
from workbench.scm.interventions import check_finite

__all__ = ["MLP", "mlp"]


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
    """

    def __init__(self, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor):
        w1, b1, w2 = (torch.as_tensor(t, dtype=torch.get_default_dtype()) for t in (w1, b1, w2))
        if w1.dim() != 2 or b1.shape != (w1.shape[1],) or w2.shape != (w1.shape[1],):
            raise ShapeError(
                f"MLP weights need shapes (n_inputs, hidden), (hidden,), (hidden,); got "
                f"{tuple(w1.shape)}, {tuple(b1.shape)}, {tuple(w2.shape)}.")
        for name, t in (("w1", w1), ("b1", b1), ("w2", w2)):
            check_finite(f"MLP {name}", t)
        self.w1, self.b1, self.w2 = w1, b1, w2

    @property
    def n_inputs(self) -> int:
        """The number of inputs (parents)."""
        return int(self.w1.shape[0])

    @property
    def hidden(self) -> int:
        """The width of the hidden layer."""
        return int(self.w1.shape[1])

    def __call__(self, pa: torch.Tensor) -> torch.Tensor:
        h = pa @ self.w1.to(pa.device, pa.dtype)  # (..., hidden): one fresh tensor, then in place
        h = torch.tanh_(h.add_(self.b1.to(pa.device, pa.dtype)))
        return h @ self.w2.to(pa.device, pa.dtype)

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
