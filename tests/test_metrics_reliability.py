"""Metrics on too few points say so with a typed error, never sklearn's.

Reproducer from issue 11: ``sap`` on 4 points leaked sklearn's "needs samples of at
least 2 classes"; explicitness and InfoMEC (exact) had the same kind of leak.
"""

import pytest
import torch

from workbench.metrics import explicitness, infomec, sap
from workbench.metrics.errors import TooFewPointsError


def _four_points():
    codes = torch.tensor([[0.1, 1.0], [0.2, -1.0], [0.3, 0.5], [0.4, 0.0]])
    factors = torch.tensor([[0], [0], [1], [2]])          # the 2 training points are both 0
    return codes, factors


def test_sap_on_four_points_is_a_typed_error():
    codes, factors = _four_points()
    with pytest.raises(TooFewPointsError, match="sap: factor 0 takes one value in all 2 training points"):
        sap(codes, factors)
    with pytest.raises(TooFewPointsError):                 # a constant factor has no correlation
        sap(codes, factors, continuous_factors=True)


def test_explicitness_on_too_few_points_is_a_typed_error():
    codes, factors = _four_points()
    with pytest.raises(TooFewPointsError, match="explicitness"):
        explicitness(codes, factors)
    codes = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    factors = torch.tensor([[0], [1], [0], [1], [1], [1]])  # train 0,1,0,1; test 1,1
    with pytest.raises(TooFewPointsError, match="test points"):
        explicitness(codes, factors)


def test_infomec_exact_needs_repeated_factor_values():
    codes = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    factors = torch.randn(5, 1, generator=torch.Generator().manual_seed(2))   # five distinct values
    with pytest.raises(TooFewPointsError, match="mode='fast'"):
        infomec(codes, factors)
    result = infomec(codes, factors, mode="fast")
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())
