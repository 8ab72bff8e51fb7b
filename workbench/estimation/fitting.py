"""Weighted least squares and weighted logistic regression, batched over bootstrap rows.

Examples
--------
>>> import torch
>>> X = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
>>> least_squares(X, torch.tensor([1.0, 3.0, 5.0], dtype=torch.float64), torch.ones(1, 3, dtype=torch.float64))
tensor([[1., 2.]], dtype=torch.float64)
"""

from __future__ import annotations

import torch

__all__ = ["least_squares", "logistic"]


def _solve(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    ridge = 1e-10 * torch.eye(a.shape[-1], dtype=a.dtype)   # only guards exact singularity
    return torch.linalg.solve(a + ridge, b.unsqueeze(-1)).squeeze(-1)


def least_squares(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Coefficients ``(B, d)`` minimising ``sum_i w[b, i] (y_i - X_i beta_b)^2``.

    Examples
    --------
    >>> import torch
    >>> X = torch.stack([torch.ones(4), torch.arange(4.)], 1).double()
    >>> least_squares(X, 1 + 2 * X[:, 1], torch.ones(1, 4, dtype=torch.float64)).round(decimals=6)
    tensor([[1., 2.]], dtype=torch.float64)
    """
    a = torch.einsum("bn,nd,ne->bde", w, X, X)
    return _solve(a, torch.einsum("bn,nd,n->bd", w, X, y))


def logistic(X: torch.Tensor, t: torch.Tensor, w: torch.Tensor, *, steps: int = 30) -> torch.Tensor:
    """Weighted maximum-likelihood logistic regression of ``t`` (0/1) on ``X``, by Newton steps.

    Examples
    --------
    >>> import torch
    >>> X = torch.ones(4, 1, dtype=torch.float64)
    >>> beta = logistic(X, torch.tensor([1., 1., 1., 0.], dtype=torch.float64), torch.ones(1, 4, dtype=torch.float64))
    >>> round(float(torch.sigmoid(beta[0, 0])), 4)                  # the share of ones
    0.75
    """
    beta = torch.zeros(w.shape[0], X.shape[1], dtype=torch.float64)
    for _ in range(steps):
        p = torch.sigmoid(beta @ X.T)                               # (B, n)
        grad = torch.einsum("bn,nd->bd", w * (t - p), X)
        hess = torch.einsum("bn,nd,ne->bde", w * p * (1 - p), X, X)
        step = _solve(hess, grad)
        beta = beta + step
        if float(step.abs().max()) < 1e-10:
            break
    return beta
