"""Behaviour of every metric on constructed codes: maxima, ordering, invariances,
and the defined result (or typed error) for degenerate inputs."""

import math

import numpy as np
import pytest
import torch

from workbench import metrics
from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.metrics import ConstantFactorError, TooFewLatentsError
from workbench.metrics.synthetic import constructed_codes

N = 3000
QUICK = {  # settings that keep each call well under a second
    "mig": {}, "modularity": {}, "irs": {}, "mcc": {},
    "sap": {"continuous_factors": True},
    "explicitness": {},
    "dci": {"mode": "fast", "max_iter": 15},
    "infomec": {"mode": "fast"},
}


def score(name, codes, factors, key=None, **extra):
    result = metrics.TABLE_METRICS[name](codes, factors, **{**QUICK[name], **extra})
    return result.scores[key] if key else result.score


@pytest.fixture(scope="module")
def codes_by_kind():
    return {kind: constructed_codes(kind, n_points=N, seed=0, noise=0.01)
            for kind in ("disentangled", "rotated")}


# --- a perfect code scores near the maximum, a rotated one lower --------------------------

NEAR_MAX = {"mig": 0.9, "modularity": 0.99, "irs": 0.9, "mcc": 0.99, "sap": 0.9,
            "explicitness": 0.99, "dci": 0.9, "infomec": 0.95}


@pytest.mark.parametrize("name", sorted(NEAR_MAX))
def test_disentangled_code_scores_near_max_and_rotated_lower(name, codes_by_kind):
    good = score(name, *codes_by_kind["disentangled"])
    rotated = score(name, *codes_by_kind["rotated"])
    assert good >= NEAR_MAX[name]
    if name != "explicitness":  # a rotation loses no linear information: equal, by design
        assert rotated < good - 0.05
    else:
        assert rotated == pytest.approx(good, abs=0.02)


@pytest.mark.parametrize("key", ["completeness", "informativeness_test"])
def test_dci_completeness_and_informativeness_of_a_perfect_code(key, codes_by_kind):
    assert score("dci", *codes_by_kind["disentangled"], key=key) > 0.9


def test_infomec_components_of_perfect_and_rotated_codes(codes_by_kind):
    good = metrics.infomec(*codes_by_kind["disentangled"], mode="fast").scores
    rot = metrics.infomec(*codes_by_kind["rotated"], mode="fast").scores
    assert good["infom"] > 0.95 and good["infoc"] > 0.95 and good["infoe"] > 0.9
    assert rot["infom"] < good["infom"] - 0.2 and rot["infoc"] < good["infoc"] - 0.2


def test_redundant_code_is_where_metrics_disagree():
    codes, factors = constructed_codes("redundant", n_points=N, seed=0, noise=0.01)
    assert metrics.mig(codes, factors).score < 0.05  # two equally good latents: no gap
    assert metrics.modularity(codes, factors).score > 0.99  # each latent one factor
    info = metrics.infomec(codes, factors, mode="fast").scores
    assert info["infom"] > 0.95 and info["infoc"] < 0.6


def test_gaussian_total_correlation_closed_form_and_ordering():
    g = torch.Generator().manual_seed(0)
    cov = torch.tensor([[1.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 1.0]], dtype=torch.float64)
    z = torch.randn(200_000, 3, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    closed = 0.5 * (0.0 - math.log(torch.linalg.det(cov).item()))
    assert metrics.gaussian_total_correlation(z).score == pytest.approx(closed, abs=0.01)
    assert metrics.gaussian_total_correlation(z[:, :1]).score == 0.0


# --- invariances the metrics claim ----------------------------------------------------------

PERMUTATION = [3, 0, 4, 1, 2]
SCALE = torch.tensor([4.0, 0.5, 2.0, 2.0, 0.5], dtype=torch.float64)  # exact in binary


@pytest.mark.parametrize("name", ["mig", "modularity", "irs", "mcc", "sap", "infomec", "dci"])
def test_invariant_to_permuting_and_rescaling_latents(name):
    codes, factors = constructed_codes("mixed", n_points=2000, seed=1)
    base = score(name, codes, factors)
    # IRS weights latents by their spread, so only a common rescaling leaves it unchanged
    scale = 4.0 if name == "irs" else SCALE
    changed = codes[:, PERMUTATION] * scale + 1.0
    tolerance = 1e-9 if name != "dci" else 0.02  # trees break exact ties by feature order
    assert score(name, changed, factors) == pytest.approx(base, abs=tolerance)


def test_mcc_invariant_to_sign_flips_and_spearman_to_monotone_maps():
    codes, factors = constructed_codes("mixed", n_points=2000, seed=1)
    base = metrics.mcc(codes, factors).score
    assert metrics.mcc(-codes, factors).score == pytest.approx(base, abs=1e-12)
    spear = metrics.mcc(codes, factors, correlation="spearman").score
    assert metrics.mcc(torch.exp(3 * codes), factors, correlation="spearman").score == \
        pytest.approx(spear, abs=1e-12)


def test_total_correlation_invariant_to_scale_not_rotation():
    codes, _ = constructed_codes("mixed", n_points=5000, seed=2)
    base = metrics.gaussian_total_correlation(codes).score
    assert metrics.gaussian_total_correlation(codes[:, PERMUTATION] * SCALE).score == \
        pytest.approx(base, abs=1e-9)
    assert base > 0.3


# --- defined results and typed errors, never a silent NaN ----------------------------------

ALL = sorted(QUICK)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_codes_raise_a_typed_error(name, bad):
    codes, factors = constructed_codes("disentangled", n_points=300, seed=0)
    codes[7, 2] = bad
    with pytest.raises(NonFiniteValueError, match=r"column\(s\) \[2\]"):
        score(name, codes, factors)


@pytest.mark.parametrize("name", ALL)
def test_constant_factor_raises_constant_factor_error(name):
    codes, factors = constructed_codes("disentangled", n_points=300, seed=0)
    factors[:, 1] = 4
    with pytest.raises(ConstantFactorError, match="Factor 1"):
        score(name, codes, factors)


@pytest.mark.parametrize("name", ALL)
def test_single_latent_gets_a_finite_score_or_too_few_latents_error(name):
    codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    single = codes[:, :1]
    if name in ("mig", "sap"):
        with pytest.raises(TooFewLatentsError):
            score(name, single, factors)
        return
    value = score(name, single, factors)
    assert math.isfinite(value) and -1e-9 <= value <= 1 + 1e-9


def test_single_latent_values_that_are_defined_by_convention():
    codes, factors = constructed_codes("disentangled", n_points=600, seed=0, noise=0.01)
    info = metrics.infomec(codes[:, :1], factors, mode="fast").scores
    assert info["infoc"] == 1.0  # one active latent: every factor's information is in it
    dci = metrics.dci(codes[:, :1], factors, mode="fast", max_iter=10).scores
    assert dci["completeness"] == pytest.approx(1.0)
    one_factor = metrics.modularity(codes, factors[:, :1]).details["per_latent"]
    assert one_factor[0] == 1.0


def test_constant_latent_is_defined_and_total_correlation_refuses_it():
    codes, factors = constructed_codes("disentangled", n_points=2000, seed=0, noise=0.01)
    codes = torch.cat([codes, torch.full((2000, 1), 3.0, dtype=torch.float64)], 1)
    assert metrics.mig(codes, factors).details["mutual_information"][-1].abs().max() == 0
    assert metrics.mcc(codes, factors).score > 0.99
    assert metrics.irs(codes, factors).choices["num_active"] == 5
    with pytest.raises(WorkbenchInputError, match="constant"):
        metrics.gaussian_total_correlation(codes)
    with pytest.raises(WorkbenchInputError, match="singular"):
        metrics.gaussian_total_correlation(torch.cat([codes[:, :2], codes[:, :1] * 2], 1))


def test_shape_and_argument_errors_say_how_to_fix():
    codes, factors = constructed_codes("disentangled", n_points=100, seed=0)
    with pytest.raises(ShapeError, match="reshape"):
        metrics.mig(codes[:, 0], factors)
    with pytest.raises(ShapeError, match="same points"):
        metrics.mig(codes[:50], factors)
    with pytest.raises(WorkbenchInputError, match="bins"):
        metrics.mig(codes, factors, bins=1)
    with pytest.raises(WorkbenchInputError, match="mode"):
        metrics.dci(codes, factors, mode="quick")
    with pytest.raises(UnknownVariableError, match="Did you mean 'mig'"):
        metrics.score_codes(codes, factors, metrics=["mgi"])
    with pytest.raises(WorkbenchInputError, match="Every latent is constant"):
        metrics.infomec(torch.zeros(100, 3), factors)


# --- the result records its choices, mode and versions ---------------------------------------

def test_result_records_choices_mode_versions_and_departures():
    codes, factors = constructed_codes("rotated", n_points=12_000, seed=0)
    r = metrics.mig(codes, factors)
    assert r.follows_published_protocol and r.choices["num_points_used"] == 10_000
    assert set(r.versions) >= {"torch", "scikit-learn", "numpy"}
    r10 = metrics.mig(codes, factors, bins=10)
    assert r10.with_choices_differing() == ["bins"] and "bins=10" in r10.summary()
    fast = metrics.dci(codes[:900], factors[:900], mode="fast", max_iter=5)
    assert fast.mode == "fast" and not fast.follows_published_protocol
    assert fast.choices["estimator"].startswith("workbench")
    assert float(r) == r.score


def test_score_codes_uses_one_mode_for_every_metric_that_has_one():
    codes, factors = constructed_codes("mixed", n_points=900, seed=0)
    results = metrics.score_codes(codes, factors, metrics=("mig", "dci", "infomec"),
                                  mode="fast", options={"dci": {"max_iter": 5}})
    assert {n: r.mode for n, r in results.items()} == {"mig": "exact", "dci": "fast",
                                                      "infomec": "fast"}


def test_infomec_exact_mode_uses_knn_estimator_and_agrees_roughly_with_fast():
    codes, factors = constructed_codes("mixed", n_points=1500, seed=0)
    exact = metrics.infomec(codes, factors, mode="exact")
    fast = metrics.infomec(codes, factors, mode="fast")
    assert exact.choices["nmi_estimator"] == "knn" and fast.choices["nmi_estimator"] == "histogram"
    assert exact.scores["infom"] == pytest.approx(fast.scores["infom"], abs=0.1)
    assert exact.scores["infoe"] == fast.scores["infoe"]
