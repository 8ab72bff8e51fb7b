"""Linear causal disentanglement (Squires et al. 2023): exact recovery, noise, bad input."""

import numpy as np
import pytest

from workbench.crl import (LinearLatentModel, compare_to_truth, linear_causal_disentanglement,
                           normalize_rows, random_linear_model, rank_one_score,
                           sample_precision_from_data)
from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError


def _fit_population(model):
    return linear_causal_disentanglement(
        model.precision(), [model.precision(k) for k in range(model.num_latents)])


@pytest.mark.parametrize("seed", range(12))
def test_planted_model_is_recovered_exactly_from_population_precisions(seed):
    model = random_linear_model(num_latents=5, num_observed=10, density=0.75, seed=seed)
    fit = _fit_population(model)
    errors = compare_to_truth(fit, model)
    assert errors.correct_order
    assert errors.H_error < 1e-8 and errors.B0_error < 1e-8
    # the fitted model reproduces every precision it was given
    for k in range(5):
        refit = fit.H.T @ fit.B_contexts[k].T @ fit.B_contexts[k] @ fit.H
        np.testing.assert_allclose(refit, model.precision(k), atol=1e-8)


def test_hand_written_chain_two_latents():
    #   z1 --(-0.5)--> z0      B0 row 0 = 2 (z0 + 0.5 z1), B0 row 1 = 3 z1 (a source)
    #    x = pinv(H) z with H = [[1, 0.5, 0], [0.2, 1, -0.4]]
    B0 = np.array([[2.0, 1.0], [0.0, 3.0]])
    H = np.array([[1.0, 0.5, 0.0], [0.2, 1.0, -0.4]])
    contexts = (np.array([[7.0, 0.0], [0.0, 3.0]]), np.array([[2.0, 1.0], [0.0, 6.0]]))
    model = LinearLatentModel(B0, H, contexts, targets=(0, 1))
    # exact precisions: test rank one exactly (the default 0.99 is for noisy estimates)
    fit = linear_causal_disentanglement(model.precision(), [model.precision(k) for k in range(2)],
                                        rank_gamma=1 - 1e-9)
    # z1 is the source, so it is found first and numbered last, as in the truth
    assert fit.targets == (0, 1)
    assert fit.ancestors == {1: set(), 0: {1}}
    np.testing.assert_allclose(fit.B0, B0, atol=1e-10)
    np.testing.assert_allclose(fit.H, H, atol=1e-10)
    assert sorted(fit.latent_graph().edges) == [(1, 0)]


def test_context_order_does_not_matter():
    model = random_linear_model(5, 10, seed=3)
    order = [3, 0, 4, 1, 2]
    shuffled = LinearLatentModel(model.B0, model.H, tuple(model.B_contexts[k] for k in order),
                                 tuple(model.targets[k] for k in order))
    assert compare_to_truth(_fit_population(shuffled), shuffled).correct_order


def test_without_interventions_a_rotation_fits_equally_well():
    # the observational precision alone cannot tell H from a rotated H': B0 -> chol(...)
    model = random_linear_model(3, 5, seed=0)
    c, s = np.cos(0.7), np.sin(0.7)
    rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    B_rotated = np.linalg.cholesky(rotation @ model.B0.T @ model.B0 @ rotation.T).T
    H_rotated = np.linalg.inv(rotation.T) @ model.H        # B0 H = Q B_rot R^-T H for some orthogonal Q
    theta = H_rotated.T @ B_rotated.T @ B_rotated @ H_rotated
    np.testing.assert_allclose(theta, model.precision(), atol=1e-10)
    assert not np.allclose(normalize_rows(H_rotated), model.H)


def test_rank_one_score():
    u = np.array([1.0, 2.0, -1.0])
    assert rank_one_score(np.outer(u, u)) == pytest.approx(1.0)
    assert rank_one_score(np.diag([3.0, 4.0, 0.0])) == pytest.approx(16 / 25)
    assert rank_one_score(np.zeros((3, 3))) == 0.0


def test_noisy_recovery_improves_with_sample_size():
    fractions, h_errors = [], []
    for n in (2_500, 250_000):
        runs = []
        for r in range(30):
            model = random_linear_model(5, 10, seed=500 + r)
            theta0, thetas = model.sample_precisions(n, rng=[r, n])
            runs.append(compare_to_truth(linear_causal_disentanglement(theta0, thetas), model))
        fractions.append(np.mean([e.correct_order for e in runs]))
        h_errors.append(np.median([e.H_error for e in runs]))
    assert fractions[1] >= 0.9 and fractions[1] >= fractions[0]
    assert h_errors[1] < h_errors[0] / 5


def test_precision_from_data_matches_population():
    model = random_linear_model(3, 6, seed=2)
    X = model.sample(200_000, context=1, rng=0)
    estimate = sample_precision_from_data(X, rank=3)
    truth = model.precision(1)
    assert np.linalg.norm(estimate - truth) / np.linalg.norm(truth) < 0.02


def test_bad_input_raises_clear_errors():
    model = random_linear_model(3, 4, seed=0)
    good = [model.precision(k) for k in range(3)]
    with pytest.raises(ShapeError, match="square"):
        linear_causal_disentanglement(model.precision()[:3], good)
    with pytest.raises(ShapeError, match="one precision per latent"):
        linear_causal_disentanglement(model.precision(), [])
    bad = model.precision().copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteValueError):
        linear_causal_disentanglement(bad, good)
    with pytest.raises(WorkbenchInputError, match="num_latents"):
        random_linear_model(num_latents=6, num_observed=4)
    with pytest.raises(WorkbenchInputError, match="zero row"):
        normalize_rows(np.zeros((2, 3)))
