"""Mean Correlation Coefficient (Khemakhem et al., 2020; used across identifiable CRL).

Correlate every latent with every factor, match latents to factors one-to-one to
maximise the total absolute correlation (the Hungarian algorithm,
``scipy.optimize.linear_sum_assignment``), and average the matched absolute
correlations over factors. MCC measures identifiability up to permutation and
(for Pearson) affine, or (for Spearman) monotone, rescaling of each latent.

Invariances: permuting latents; rescaling or flipping the sign of a latent.
Defined results: a constant latent correlates 0 with everything; with fewer latents
than factors the unmatched factors count 0; a constant factor raises
:class:`ConstantFactorError`. Factors are used as numbers, not categories.

Examples
--------
>>> from workbench.metrics.synthetic import constructed_codes
>>> codes, factors = constructed_codes("disentangled", n_points=2000, seed=0, noise=0.01)
>>> mcc(codes.flip(1) * -3.0, factors).score > 0.99
True
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.metrics.errors import MetricInputError
from workbench.metrics.inputs import check_codes_factors
from workbench.metrics.result import MetricResult

__all__ = ["mcc", "correlation_matrix"]


def _ranks(x: torch.Tensor) -> torch.Tensor:
    from scipy.stats import rankdata

    return torch.from_numpy(rankdata(x.cpu().numpy(), axis=0)).to(x)


def correlation_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of each column of ``a`` with each column of ``b``; constant -> 0.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[0.0], [1.0], [2.0]])
    >>> correlation_matrix(a, -a)
    tensor([[-1.]])
    """
    ac, bc = a - a.mean(0), b - b.mean(0)
    na, nb = ac.norm(dim=0), bc.norm(dim=0)
    corr = (ac.T @ bc) / (torch.where(na > 0, na, 1.0)[:, None] * torch.where(nb > 0, nb, 1.0))
    return torch.where((na > 0)[:, None] & (nb > 0)[None, :], corr, torch.zeros_like(corr))


def mcc(codes, factors, *, correlation: str = "pearson") -> MetricResult:
    """Mean absolute correlation of latents matched one-to-one to factors.

    Parameters
    ----------
    correlation : {"pearson", "spearman"}
        Pearson (invariant to affine rescaling) or Spearman (to monotone rescaling).

    Examples
    --------
    >>> from workbench.metrics.synthetic import constructed_codes
    >>> codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    >>> mcc(codes, factors).score > 0.9
    True
    """
    from scipy.optimize import linear_sum_assignment

    if correlation not in ("pearson", "spearman"):
        raise MetricInputError(f"correlation must be 'pearson' or 'spearman', got "
                               f"{correlation!r}.")
    codes, _, values = check_codes_factors(codes, factors, return_values=True)
    if correlation == "spearman":
        codes, values = _ranks(codes), _ranks(values)
    corr = correlation_matrix(codes, values).abs()
    rows, cols = linear_sum_assignment(corr.cpu().numpy(), maximize=True)
    score = float(corr[rows, cols].sum()) / values.shape[1]
    return MetricResult("mcc", score, choices={"correlation": correlation},
                        published={"correlation": "pearson"},
                        details={"abs_correlation": corr,
                                 "matching": list(zip(rows.tolist(), cols.tolist()))})
