"""Domain counterfactuals: the metric, the generator's truth, the models, the fit.

Causal picture of the generator (2 domains, 3 latents, the last one intervened)::

    e0   e1   e2
    |    |    |
    z0 -> z1 -> z2 <- d      (and z0 -> z2); x = g(z), the same g in every domain
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents import training as loop
from workbench.latents.domain_counterfactuals import (
    BENCHMARK_ROUNDS, DomainFit, DomainModel, FitRound, LatentDomainSCM, all_counterfactuals,
    domain_counterfactual_error, fit_domain_model, identity_counterfactuals, simulate, true_counterfactuals,
    two_rounds,
)
from workbench.latents.domain_counterfactuals.latent_fit import best_last, fit_latent_scm
from workbench.latents.domain_counterfactuals.rounds import check_rounds


# -- the metric ----------------------------------------------------------------------
def test_error_matches_a_hand_computed_value_over_ordered_pairs():
    # 3 domains, 2 samples, 1 coordinate; the diagonal (d = d') must be ignored.
    true = torch.zeros(3, 3, 2, 1)
    est = torch.full((3, 3, 2, 1), 100.0)           # diagonal: huge, must not count
    pairs = {(0, 1): [1, 3], (0, 2): [2, 2], (1, 0): [0, 4], (1, 2): [1, 1], (2, 0): [3, 3], (2, 1): [0, 0]}
    for (d, t), values in pairs.items():
        est[d, t, :, 0] = torch.tensor(values, dtype=torch.float32)
    # per pair MSE: (1+9)/2=5, 4, (0+16)/2=8, 1, 9, 0 -> mean over 6 ordered pairs = 27/6
    assert float(domain_counterfactual_error(est, true)) == pytest.approx(27 / 6)


def test_error_keeps_leading_axes_and_is_zero_for_the_truth():
    truth = torch.randn(4, 2, 2, 5, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(domain_counterfactual_error(truth, truth), torch.zeros(4))


def test_error_rejects_bad_input():
    good = torch.zeros(2, 2, 3, 4)
    with pytest.raises(ShapeError):
        domain_counterfactual_error(good, torch.zeros(2, 2, 3, 5))
    with pytest.raises(ShapeError):
        domain_counterfactual_error(torch.zeros(2, 3, 3, 4), torch.zeros(2, 3, 3, 4))
    bad = good.clone()
    bad[0, 1, 0, 0] = float("nan")
    with pytest.raises(NonFiniteValueError):
        domain_counterfactual_error(bad, good)


# -- the generator ------------------------------------------------------------------
def _closed_form_counterfactual(scm, x, d, t):
    """By hand in numpy: invert g, abduct e in domain d, swap to domain t, push forward."""
    G, scale, slope = scm.mixing.double().numpy(), scm.scale.double().numpy(), scm.slope
    A, b = scm.weights.double().numpy(), scm.biases.double().numpy()
    eye = np.eye(scm.latent_dim)
    u = x.double().numpy() @ np.linalg.inv(G) * scale
    z = np.where(u > 0, u, u / slope)
    e = (z - b[d]) @ (eye - A[d])
    z_new = e @ np.linalg.inv(eye - A[t]) + b[t]
    return (np.where(z_new > 0, z_new, slope * z_new) / scale) @ G


def test_generator_counterfactual_matches_the_closed_form_and_the_noise_route():
    scm = LatentDomainSCM(3, latent_dim=4, intervened=[3], seed=2, scale_samples=500)
    x, d, noise = scm.sample(20, seed=5)
    for target in range(3):
        ours = scm.counterfactual(x, d, target)
        by_hand = _closed_form_counterfactual(scm, x[d == 0], 0, target)
        np.testing.assert_allclose(ours[d == 0].numpy(), by_hand, atol=2e-4)
        # independent route: the stored noise pushed through the target domain
        torch.testing.assert_close(ours, scm.observe_noise(noise, target), atol=2e-4, rtol=1e-4)


def test_generator_shares_the_non_intervened_mechanisms_and_has_unit_determinant():
    scm = LatentDomainSCM(4, latent_dim=5, intervened=[1, 4], seed=0, scale_samples=500)
    for d in range(1, 4):
        keep = [0, 2, 3]
        assert torch.equal(scm.weights[d][:, keep], scm.weights[0][:, keep])
        assert torch.equal(scm.biases[d][keep], torch.zeros(3))
        assert not torch.equal(scm.weights[d][:, 4], scm.weights[0][:, 4])
    assert torch.equal(scm.weights[0], torch.triu(scm.weights[0], diagonal=1))
    assert abs(float(torch.det(scm.mixing.double())).__abs__() - 1.0) < 1e-4
    # the bias of a domain is one draw from U(-2, 2) * sqrt(m / |I|), on every intervened node
    b = scm.biases[:, [1, 4]]
    assert torch.equal(b[:, 0], b[:, 1]) and (b.abs() <= 2 * math.sqrt(5 / 2)).all()


def test_generator_rejects_bad_input():
    scm = LatentDomainSCM(2, latent_dim=3, seed=0, scale_samples=100)
    x, d, _ = scm.sample(4)
    with pytest.raises(WorkbenchInputError, match="out of range"):
        scm.counterfactual(x, d, 2)
    with pytest.raises(WorkbenchInputError, match="out of range"):
        scm.counterfactual(x, torch.full((8,), 5), 0)
    with pytest.raises(ShapeError):
        scm.counterfactual(x[:, :2], d, 0)
    with pytest.raises(ShapeError):
        scm.counterfactual(x, d[:3], 0)
    x[0, 0] = float("nan")
    with pytest.raises(NonFiniteValueError):
        scm.counterfactual(x, d, 1)
    with pytest.raises(WorkbenchInputError):
        LatentDomainSCM(1)
    with pytest.raises(WorkbenchInputError, match="out of range"):
        LatentDomainSCM(2, latent_dim=3, intervened=[3])


# -- the models -----------------------------------------------------------------------
def test_sparse_model_shares_its_first_mechanisms_across_domains():
    model = DomainModel(n_domains=4, latent_dim=5, k=2, replicas=2, seed=0)
    weights, scales, biases = model.mechanisms()
    for d in range(1, 4):
        assert torch.equal(weights[:, d, :3], weights[:, 0, :3])
        assert torch.equal(scales[:, d, :3], scales[:, 0, :3])
        assert torch.equal(biases[:, d, :3], biases[:, 0, :3])
        assert not torch.equal(weights[:, d, 3:], weights[:, 0, 3:])
    # ... so a counterfactual changes only the last k latents
    x = torch.randn(2, 7, 5, generator=torch.Generator().manual_seed(1))
    z_before, _ = model.encode(x)
    z_after, _ = model.encode(model.counterfactual(x, torch.zeros(2, 7, dtype=torch.long), 3))
    torch.testing.assert_close(z_after[..., :3], z_before[..., :3], atol=1e-4, rtol=1e-4)
    assert (z_after[..., 3:] - z_before[..., 3:]).abs().max() > 1e-2


def test_dense_model_lets_every_mechanism_vary():
    weights, scales, biases = DomainModel(2, latent_dim=4, kind="dense", seed=0).mechanisms()
    assert not torch.equal(biases[:, 0, 0], biases[:, 1, 0])
    assert not torch.equal(weights[:, 0, 1], weights[:, 1, 1])


def test_log_prob_is_the_change_of_variables_by_autograd():
    torch.manual_seed(0)
    model = DomainModel(2, latent_dim=3, k=1, seed=3)
    with torch.no_grad():
        model.mixing[0] = torch.tensor([[1.2, 0.3, -0.4], [0.1, 0.9, 0.2], [-0.3, 0.5, 1.1]])
        model.offset[0] = torch.tensor([0.2, -0.1, 0.3])
    x = torch.randn(4, 3)
    d = torch.tensor([0, 1, 1, 0])
    ours = model.log_prob(x, d).detach()

    def abduct(row, domain):
        z, _ = model.encode(row.view(1, 1, 3))
        abduction, _, biases = model._abduction_matrices()
        return abduction[0, domain] @ (z[0, 0] - biases[0, domain])

    for i in range(4):
        jac = torch.autograd.functional.jacobian(lambda r: abduct(r, d[i]), x[i])
        e = abduct(x[i], d[i])
        expected = torch.distributions.Normal(0.0, 1.0).log_prob(e).sum() + torch.linalg.slogdet(jac)[1]
        assert float(ours[i]) == pytest.approx(float(expected.detach()), abs=1e-4)
    # the training loop's fast path gives the same numbers
    grouped = torch.stack([x[d == 0], x[d == 1]]).unsqueeze(0)
    torch.testing.assert_close(model.log_prob_by_domain(grouped)[0],
                               torch.stack([ours[d == 0], ours[d == 1]]))


def test_model_counterfactuals_round_trip_and_match_the_truth_at_true_parameters():
    scm = LatentDomainSCM(2, latent_dim=4, seed=1, scale_samples=500)
    model = DomainModel(2, latent_dim=4, k=2, seed=0)
    with torch.no_grad():                                   # plant the generator's parameters
        model.mixing[0] = scm.mixing.T / scm.scale
        model.shared_weights[0] = scm.weights[0].T
        model.domain_weights[0] = scm.weights.transpose(1, 2)
        model.shared_scales.zero_()
        model.domain_scales.zero_()
        model.shared_biases[0] = scm.biases[0]
        model.domain_biases[0] = scm.biases
    x, d, _ = scm.sample(10, seed=3)
    there = model.counterfactual(x, d, 1)
    torch.testing.assert_close(there, scm.counterfactual(x, d, 1), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(model.counterfactual(there, 1, 0)[d == 0], x[d == 0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(model.counterfactual(x, d, 0)[d == 0], x[d == 0], atol=1e-5, rtol=1e-5)


def test_model_rejects_bad_input():
    model = DomainModel(2, latent_dim=3, k=1, seed=0)
    x = torch.zeros(4, 3)
    with pytest.raises(WorkbenchInputError, match="out of range"):
        model.counterfactual(x, 0, 2)
    with pytest.raises(WorkbenchInputError, match="out of range"):
        model.log_prob(x, torch.tensor([0, 1, 2, 0]))
    with pytest.raises(WorkbenchInputError, match="integer"):
        model.counterfactual(x, 0, 0.5)
    with pytest.raises(ShapeError):
        model.log_prob(torch.zeros(4, 2), 0)
    with pytest.raises(ShapeError):
        model.log_prob(x, torch.zeros(3, dtype=torch.long))
    with pytest.raises(NonFiniteValueError):
        model.log_prob(torch.full((4, 3), float("inf")), 0)
    with pytest.raises(WorkbenchInputError, match="replicas"):
        DomainModel(2, latent_dim=3, replicas=2).log_prob(x, 0)
    with pytest.raises(UnknownVariableError):
        DomainModel(2, kind="sparce")
    with pytest.raises(WorkbenchInputError, match="k must be below"):
        DomainModel(2, latent_dim=3, k=3)


# -- the fit ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    return simulate(2, seeds=[0, 1], latent_dim=3, n_train=300, n_val=40, n_test=5)


def _fit(data, steps, folder=None):
    fit = DomainFit(2, data.validation, k=1, latent_dim=3, seeds=2, restarts=2, check_every=2,
                    anneal_steps=4)
    loop.train(fit, data.train, steps=steps, batch_size=10, lr=3e-3, seed=0, checkpoint_dir=folder,
               checkpoint_every=3, progress=False)
    return fit


def test_fit_resumes_bit_for_bit_and_keeps_the_best_validation_weights(tiny, tmp_path):
    straight = _fit(tiny, 6)
    _fit(tiny, 3, tmp_path)                       # "interrupted" after 3 steps
    resumed = _fit(tiny, 6, tmp_path)
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    start = DomainFit(2, tiny.validation, k=1, latent_dim=3, seeds=2, restarts=2).validation_nll()
    best = straight.best_model()
    assert best.replicas == 2
    picked = straight.best_nll.view(2, 2).min(dim=1).values
    assert (picked <= start.view(2, 2).min(dim=1).values + 1e-6).all()
    torch.testing.assert_close(best.validation_nll, picked)
    # the selected weights really score what was recorded, on each seed's own data
    recomputed = -best.log_prob_by_domain(tiny.validation).mean(dim=(1, 2))
    torch.testing.assert_close(recomputed, picked)


def test_identity_baseline_and_model_counterfactual_layouts(tiny):
    truth = true_counterfactuals(tiny.scms, tiny.test_noise)
    assert truth.shape == (2, 2, 2, 5, 3)
    torch.testing.assert_close(truth[:, 0, 0], tiny.test_x[:, 0], atol=1e-4, rtol=1e-4)
    baseline = identity_counterfactuals(tiny.test_x)
    assert torch.equal(baseline[:, 1, 0], tiny.test_x[:, 1])
    model = DomainModel(2, latent_dim=3, k=1, replicas=2, seed=0)
    est = all_counterfactuals(model, tiny.test_x)
    torch.testing.assert_close(est[:, 1, 1], tiny.test_x[:, 1], atol=1e-4, rtol=1e-4)
    assert domain_counterfactual_error(est, truth).shape == (2,)


def test_whitened_starts_scale_to_the_data_and_keep_returns_the_best_by_validation():
    data = simulate(2, seeds=[0, 1], latent_dim=3, n_train=400, n_val=50, n_test=5)
    fit = DomainFit(2, data.validation, latent_dim=3, seeds=2, restarts=3, init="whitened", train_x=data.train)
    rows = data.train[:, 1].reshape(-1, 3).double()
    chol = torch.linalg.cholesky(torch.cov(rows.T)).float()
    torch.testing.assert_close(fit.model.mixing[3], chol)             # seed 1's first start: Q = I
    torch.testing.assert_close(fit.model.offset[4], rows.mean(0).float())
    q = torch.linalg.solve(chol, fit.model.mixing[4])                 # the others: chol @ orthogonal
    torch.testing.assert_close(q @ q.T, torch.eye(3), atol=1e-4, rtol=1e-4)
    mixed = DomainFit(2, data.validation, latent_dim=3, seeds=2, restarts=2, init="mixed", train_x=data.train)
    assert torch.equal(mixed.model.offset[1], torch.zeros(3)) and not torch.equal(mixed.model.offset[0], torch.zeros(3))
    best = fit.best_model(keep=2)
    nll = fit.validation_nll().view(2, 3)
    assert best.replicas == 4
    torch.testing.assert_close(best.validation_nll, nll.sort(dim=1).values[:, :2].reshape(-1))
    with pytest.raises(UnknownVariableError):
        DomainFit(2, data.validation, latent_dim=3, init="pca", train_x=data.train)
    with pytest.raises(WorkbenchInputError):
        DomainFit(2, data.validation, latent_dim=3, init="whitened")


# -- the rounds of a fit --------------------------------------------------------------
def test_rounds_train_the_best_starts_never_lose_validation_likelihood_and_resume(tiny, tmp_path):
    rounds = [FitRound(6, 3e-2, batch_size=20), FitRound(6, 3e-2, keep=2, batch_size=20),
              FitRound(6, 3e-3, keep=1, batch_size=20, refit_latents=True)]
    settings = {"k": 1, "restarts": 3, "progress": False, "device": "cpu"}
    model = fit_domain_model(tiny, rounds=rounds, checkpoint_dir=tmp_path, **settings)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["round0", "round1", "round2"]
    assert model.replicas == 2                          # one per seed
    # each later round starts from the best weights of the one before (and keeps them
    # if it finds nothing better): the fit is never worse than its first round alone
    first = fit_domain_model(tiny, rounds=rounds[:1], **settings)
    assert (model.validation_nll <= first.validation_nll + 1e-6).all()
    assert (model.validation_nll < first.validation_nll).any()
    # the same numbers from the weights themselves, on each seed's own validation data
    torch.testing.assert_close(-model.log_prob_by_domain(tiny.validation).mean(dim=(1, 2)), model.validation_nll)
    # a second call resumes every round from its checkpoint: the same weights, bit for bit
    again = fit_domain_model(tiny, rounds=rounds, checkpoint_dir=tmp_path, **settings)
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name


def test_default_fit_is_the_two_round_schedule(tiny):
    settings = {"k": 1, "restarts": 2, "batch_size": 20, "progress": False, "device": "cpu"}
    default = fit_domain_model(tiny, explore_steps=4, steps=4, keep=2, **settings)
    explicit = fit_domain_model(tiny, rounds=two_rounds(4, 4, keep=2, batch_size=20), **settings)
    for (name, a), (_, b) in zip(default.state_dict().items(), explicit.state_dict().items()):
        assert torch.equal(a, b), name
    first, second = two_rounds(2000, 3000, keep=4)
    assert (first.keep, first.temperatures, second.keep, second.anneal_steps) == (None, (0.5, 0.05), 4, 1500)


def test_check_rounds_rejects_bad_schedules():
    assert check_rounds(BENCHMARK_ROUNDS, restarts=32) == BENCHMARK_ROUNDS
    assert [r.keep for r in BENCHMARK_ROUNDS] == [None, 8, 4, 2]
    with pytest.raises(WorkbenchInputError, match="non-empty"):
        check_rounds([], restarts=4)
    with pytest.raises(WorkbenchInputError, match="non-empty"):
        check_rounds([(10, 1e-2)], restarts=4)
    with pytest.raises(WorkbenchInputError, match="keep=None"):
        check_rounds([FitRound(10, 1e-2, keep=2)], restarts=4)
    with pytest.raises(WorkbenchInputError, match="the round before has 4"):
        check_rounds([FitRound(10, 1e-2), FitRound(10, 1e-2, keep=5)], restarts=4)
    with pytest.raises(WorkbenchInputError, match="the round before has 2"):
        check_rounds([FitRound(10, 1e-2), FitRound(10, 1e-2, keep=2), FitRound(10, 1e-2, keep=3)], restarts=4)
    with pytest.raises(WorkbenchInputError, match="Round 1 keeps None"):
        check_rounds([FitRound(10, 1e-2), FitRound(10, 1e-2)], restarts=4)
    with pytest.raises(WorkbenchInputError, match="positive"):
        check_rounds([FitRound(0, 1e-2)], restarts=4)
    with pytest.raises(WorkbenchInputError, match="positive"):
        check_rounds([FitRound(10, -1.0)], restarts=4)
    with pytest.raises(WorkbenchInputError):
        fit_domain_model(simulate(2, [0], latent_dim=3, n_train=20, n_val=4, n_test=2), k=1, restarts=2,
                         rounds=[FitRound(2, 1e-2), FitRound(2, 1e-2, keep=3)], progress=False)


# -- the latent SCM in closed form ------------------------------------------------------
def _planted(scm, replicas=1):
    """A model holding the generator's parameters (as in the test above), ``replicas`` copies."""
    model = DomainModel(scm.n_domains, latent_dim=scm.latent_dim, k=len(scm.intervened), replicas=replicas)
    with torch.no_grad():
        model.mixing[:] = scm.mixing.T / scm.scale
        model.shared_weights[:] = scm.weights[0].T
        model.domain_weights[:] = scm.weights.transpose(1, 2)
        model.shared_scales.zero_()
        model.domain_scales.zero_()
        model.shared_biases[:] = scm.biases[0]
        model.domain_biases[:] = scm.biases
    return model


def test_latent_refit_undoes_permuted_and_flipped_columns_of_the_true_map():
    data = simulate(2, seeds=[4], latent_dim=4, n_train=20_000, n_val=10, n_test=200)
    truth = true_counterfactuals(data.scms, data.test_noise)
    scrambled = _planted(data.scms[0])
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():                   # the true hyperplanes, latents in another order, two
        scrambled.mixing[0] = scrambled.mixing[0][:, [3, 0, 2, 1]] * torch.tensor([1.0, -1.0, 1.0, -1.0])
        for p in (scrambled.shared_weights, scrambled.domain_weights, scrambled.shared_biases,
                  scrambled.domain_biases):  # signs flipped, and a random latent SCM
            p.copy_(torch.randn(p.shape, generator=gen))
    refit = fit_latent_scm(scrambled, data.train, samples=20_000)
    error = domain_counterfactual_error(all_counterfactuals(refit, data.test_x), truth)
    assert float(error[0]) < 1e-3
    x = data.train.permute(1, 2, 0, 3)
    planted = _planted(data.scms[0])
    with torch.no_grad():                   # its likelihood: the truth's, or a little above (an MLE)
        gap = refit.log_prob_by_domain(x).mean() - planted.log_prob_by_domain(x).mean()
    assert 0 <= float(gap) < 1e-3


def test_latent_refit_never_lowers_the_likelihood_on_its_rows_and_rejects_bad_shapes(tiny):
    model = DomainModel(2, latent_dim=3, k=1, replicas=4, seed=3)
    refit = fit_latent_scm(model, tiny.train, restarts=2, samples=300)
    x = tiny.train.permute(1, 2, 0, 3).repeat_interleave(2, dim=0)
    with torch.no_grad():
        before, after = model.log_prob_by_domain(x).mean((1, 2)), refit.log_prob_by_domain(x).mean((1, 2))
    assert (after > before).all()
    assert torch.equal(refit.offset, model.offset)              # c stays; W only re-signed and reordered
    assert torch.equal(refit.mixing.abs().sort(-1).values, model.mixing.abs().sort(-1).values)
    with pytest.raises(ShapeError, match="seeds \\* restarts"):
        fit_latent_scm(model, tiny.train, restarts=1)


def test_best_last_scores_are_the_closed_form_log_determinants():
    mean = torch.zeros(1, 2, 3, dtype=torch.float64)
    cov = torch.eye(3, dtype=torch.float64).repeat(1, 2, 1, 1)
    cov[0, 1, 1, 1] = 9.0                   # latent 1 differs between domains
    order, score = best_last(mean, cov, k=1)
    assert order.tolist() == [[0, 2, 1]]
    assert float(score) == pytest.approx(-0.5 * math.log(3.0))   # -(log 1 + (log 1 + log 9) / 2) / 2
