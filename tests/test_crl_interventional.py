"""Interventional CRL (Ahuja et al. 2023): scores by hand, the unmixing step exactly, the data."""

import math

import pytest
import torch

from workbench.crl.interventional import (PolynomialAutoencoder, fit_polynomial_autoencoder,
                                          interventional_scores, unmix_by_interventions)
from workbench.crl.polynomial import make_interventional_data, monomials, num_monomials
from workbench.crl.scores import affine_r2, identifiability_scores
from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError


def test_affine_r2_hand_computed():
    codes = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    latent = torch.tensor([[0.0], [1.0], [2.0], [4.0]])
    # Sxy = 6.5, Sxx = 5, Syy = 8.75: R^2 = 6.5^2 / (5 * 8.75)
    assert affine_r2(codes, latent) == pytest.approx(42.25 / 43.75, abs=1e-12)
    assert affine_r2(3 * latent - 1, latent) == pytest.approx(1.0)


def test_mcc_and_r2_hand_computed_pair():
    z = torch.tensor([[1.0, 1.0], [2.0, -1.0], [3.0, 1.0], [4.0, -1.0]])
    codes = torch.stack([z[:, 1], torch.tensor([1.0, 2.0, 3.0, 5.0])], dim=1)
    # |corr|: code0-z1 = 1, code1-z0 = 6.5 / sqrt(5 * 8.75); the other pairing is weaker
    expected_mcc = (1.0 + 6.5 / math.sqrt(43.75)) / 2
    scores = identifiability_scores(codes, z)
    assert scores["mcc"] == pytest.approx(expected_mcc, abs=1e-9)
    # R^2: z1 is a code exactly (1); z0 from both codes by least squares, by hand via normal equations
    design = torch.cat([codes, torch.ones(4, 1)], 1).double()
    fit = design @ torch.linalg.solve(design.T @ design, design.T @ z[:, :1].double())
    r2_z0 = 1 - float(((z[:, :1] - fit) ** 2).sum()) / 5.0
    assert scores["r2"] == pytest.approx((1.0 + r2_z0) / 2, abs=1e-9)


def test_rotation_keeps_r2_but_not_mcc():
    z = torch.randn(4000, 3, generator=torch.Generator().manual_seed(0))
    rotation = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(1)))[0]
    scores = identifiability_scores(z @ rotation, z)
    assert scores["r2"] == pytest.approx(1.0, abs=1e-9) and scores["mcc"] < 0.9


def test_monomials_count_and_values():
    assert num_monomials(6, 2) == math.comb(8, 2) - 1 == 27
    assert num_monomials(10, 3) == math.comb(13, 3) - 1 == 285
    z = torch.tensor([[2.0, -1.0]])
    assert monomials(z, 3).tolist() == [[2.0, -1.0, 4.0, -2.0, 1.0, 8.0, -4.0, 2.0, -1.0]]
    with pytest.raises(WorkbenchInputError):
        monomials(z, 0)


def test_do_data_hold_the_target_and_move_descendants():
    data = make_interventional_data(latent_dim=4, degree=2, data_dim=30, n_obs=500, n_int=300, seed=2)
    for i, z in enumerate(data.z_int):
        assert z[:, i].unique().numel() == 1
        assert all(z[:, j].std() > 0.05 for j in range(4) if j != i)
    assert torch.allclose(data.z_obs.mean(0), torch.zeros(4), atol=1e-5)


def test_interventions_unmix_an_affine_code_exactly():
    # if step 1 is perfect (codes = A z + b), step 2 recovers every latent up to scale
    data = make_interventional_data(latent_dim=5, degree=2, data_dim=30, n_obs=4000, n_int=2000, seed=1)
    A = torch.randn(5, 5, generator=torch.Generator().manual_seed(3))
    b = torch.randn(5, generator=torch.Generator().manual_seed(4))
    code = lambda z: z @ A.T + b                                            # noqa: E731
    unmixing = unmix_by_interventions(code(data.z_obs), [code(z) for z in data.z_int])
    recovered = code(data.z_obs) @ unmixing.T
    assert identifiability_scores(recovered, data.z_obs)["mcc"] > 0.9999
    assert identifiability_scores(code(data.z_obs), data.z_obs)["mcc"] < 0.9
    # each recovered coordinate i is latent i (the data set order fixes the matching)
    corr = torch.corrcoef(torch.cat([recovered, data.z_obs], 1).T)[:5, 5:].abs()
    assert torch.allclose(corr.diagonal(), torch.ones(5), atol=1e-4)
    # fewer intervened latents: only those coordinates are unmixed
    partial = code(data.z_obs) @ unmix_by_interventions(code(data.z_obs), [code(z) for z in data.z_int],
                                                        num_intervened=2).T
    corr = torch.corrcoef(torch.cat([partial, data.z_obs], 1).T)[:5, 5:].abs()
    assert corr[0, 0] > 0.9999 and corr[1, 1] > 0.9999
    with pytest.raises(WorkbenchInputError, match="num_intervened"):
        unmix_by_interventions(code(data.z_obs), [code(z) for z in data.z_int], num_intervened=6)


def test_polynomial_autoencoder_learns_and_scores():
    data = make_interventional_data(latent_dim=2, degree=2, data_dim=20, n_obs=1000, n_int=300, seed=0)
    torch.manual_seed(0)
    untrained = PolynomialAutoencoder(20, 2, 2)
    before = float(untrained.loss(data.x_obs)[0].detach())
    model = fit_polynomial_autoencoder(data, steps=150, lr=3e-3)
    assert float(model.loss(data.x_obs)[0].detach()) < before / 5
    scores = interventional_scores(model, data)
    assert set(scores) == {"observational", "interventional"}
    assert scores["interventional"]["r2"] == pytest.approx(scores["observational"]["r2"], abs=1e-4)


def test_score_input_errors():
    with pytest.raises(ShapeError):
        affine_r2(torch.zeros(3, 1), torch.zeros(4, 1))
    with pytest.raises(NonFiniteValueError):
        affine_r2(torch.tensor([[float("nan")], [1.0]]), torch.tensor([[0.0], [1.0]]))
    with pytest.raises(ShapeError, match="constant"):
        affine_r2(torch.tensor([[0.0], [1.0]]), torch.tensor([[2.0], [2.0]]))
