"""Identifiability scores, always in pairs: MCC (up to permutation and scaling) and R^2 (up to an affine map).

* MCC (:func:`workbench.metrics.mcc`): each true latent matched one-to-one to a learned
  one; high only if every learned coordinate is one latent, rescaled.
* Affine R^2 (:func:`affine_r2`): how well a linear regression (with intercept) on all
  learned coordinates predicts each true latent, averaged; high whenever the learned
  codes are *any* invertible affine map of the truth.

A mixed representation scores R^2 near 1 and MCC well below: the gap is what
"identified only up to an affine map" means, and why reporting one score alone
misleads (CausalVerse reports Sufficient Change at MCC 0.58 but R^2 0.91).

Examples
--------
>>> import torch
>>> z = torch.randn(5000, 2, generator=torch.Generator().manual_seed(0))
>>> mixed = z @ torch.tensor([[1.0, 1.0], [-1.0, 1.0]])
>>> round(affine_r2(mixed, z), 4), round(identifiability_scores(mixed, z)["mcc"], 2)
(1.0, 0.71)
"""

from __future__ import annotations

import torch

from workbench.errors import NonFiniteValueError, ShapeError
from workbench.metrics import mcc

__all__ = ["affine_r2", "identifiability_scores"]


def affine_r2(codes, latents) -> float:
    """Mean over true latents of the R^2 of an affine least-squares fit from ``codes``.

    Parameters
    ----------
    codes : array-like
        ``(n, k)`` learned codes.
    latents : array-like
        ``(n, d)`` true latents, none constant.

    Returns
    -------
    float
        1 when every true latent is an affine function of the codes.

    Raises
    ------
    ShapeError
        If the tables differ in rows, are not 2-D, or a latent is constant.
    NonFiniteValueError
        If either holds NaN or infinity.

    See also
    --------
    workbench.metrics.mcc : the score up to permutation and scaling only.

    Examples
    --------
    >>> z = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    >>> round(affine_r2(3 * z + 1, z), 6)                     # an affine map of the truth
    1.0
    >>> round(affine_r2(z[:, :1], z), 2)                      # z_1 is not in the codes
    0.5
    >>> affine_r2(z[:10], z)
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: codes and latents must be (n, .) tables of the same n >= 2; got (10, 2) and (1000, 2).
    """
    codes = torch.as_tensor(codes, dtype=torch.float64)
    latents = torch.as_tensor(latents, dtype=torch.float64)
    if codes.dim() != 2 or latents.dim() != 2 or len(codes) != len(latents) or len(codes) < 2:
        raise ShapeError(f"codes and latents must be (n, .) tables of the same n >= 2; got "
                         f"{tuple(codes.shape)} and {tuple(latents.shape)}.")
    if not (torch.isfinite(codes).all() and torch.isfinite(latents).all()):
        raise NonFiniteValueError("codes or latents contain NaN or infinite values.")
    design = torch.cat([codes, torch.ones(len(codes), 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, latents).solution
    residual = ((latents - design @ solution) ** 2).sum(0)
    total = ((latents - latents.mean(0)) ** 2).sum(0)
    if (total == 0).any():
        raise ShapeError("A true latent is constant here, so its R^2 is undefined; drop it.")
    return float((1 - residual / total).mean())


def identifiability_scores(codes, latents) -> dict:
    """``{"mcc": ..., "r2": ...}`` of learned ``codes`` against true ``latents``.

    Examples
    --------
    A rotation is identified up to an affine map (R^2 1) but not up to permutation
    and scaling (MCC below 1):

    >>> z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    >>> scores = identifiability_scores(z @ torch.tensor([[1.0, 1.0], [-1.0, 1.0]]), z)
    >>> round(scores["r2"], 4), scores["mcc"] < 0.8
    (1.0, True)
    """
    return {"mcc": mcc(codes, latents).score, "r2": affine_r2(codes, latents)}
