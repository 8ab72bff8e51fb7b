"""Diffusion equations: the forward process, DDIM / DDPM steps, samplers and inversion.

Oracles: the closed form against iterated noising; diffusers' DDIMScheduler and
DDPMScheduler (the test-only peer); the DDIM paper's equations rewritten in another
form; and a Gaussian toy problem whose exact noise prediction is known.
"""

import math

import pytest
import torch

from workbench.errors import ShapeError, WorkbenchInputError
from workbench.latents.diffusion.model import DiffusionModel
from workbench.latents.diffusion.samplers import (ddim_timesteps, decode_ddim, invert_ddim, sample_ddim,
                                                  sample_ddpm)
from workbench.latents.diffusion.schedule import NoiseSchedule, iterated_noising, q_sample
from workbench.latents.diffusion.steps import ddim_inverse_step, ddim_sigma, ddim_step, ddpm_step, predict_x0
from workbench.latents.diffusion.toy import GaussianToyModel

diffusers = pytest.importorskip("diffusers")


@pytest.mark.parametrize("t", [0, 40, 400])
def test_closed_form_matches_iterated_noising(t):
    schedule = NoiseSchedule.linear(1000)
    x0 = torch.full((40_000,), 0.7, dtype=torch.float64)
    iterated = iterated_noising(schedule, x0, t, generator=torch.Generator().manual_seed(t))
    closed = q_sample(schedule, x0, torch.tensor([t]), torch.randn(x0.shape, dtype=torch.float64,
                                                                  generator=torch.Generator().manual_seed(99)))
    a = float(schedule.alpha_bar[t])
    mean, std = math.sqrt(a) * 0.7, math.sqrt(1 - a)
    for draws in (iterated, closed):           # both are N(sqrt(a) x0, 1 - a): 5 standard errors
        assert abs(float(draws.mean()) - mean) < 5 * std / math.sqrt(len(x0))
        assert abs(float(draws.std()) / std - 1) < 5 / math.sqrt(2 * len(x0))


def test_schedules_match_diffusers():
    from diffusers import DDPMScheduler
    for kind, name in (("linear", "linear"), ("cosine", "squaredcos_cap_v2")):
        peer = DDPMScheduler(num_train_timesteps=1000, beta_schedule=name)
        ours = NoiseSchedule.linear(1000) if kind == "linear" else NoiseSchedule.cosine(1000)
        assert torch.allclose(ours.alpha_bar.float(), peer.alphas_cumprod, atol=1e-6)


@pytest.mark.parametrize("steps", [10, 50, 1000])
def test_ddim_step_matches_diffusers(steps):
    from diffusers import DDIMScheduler
    peer = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False,
                         set_alpha_to_one=True, steps_offset=0, timestep_spacing="leading")
    peer.set_timesteps(steps)
    assert sorted(peer.timesteps.tolist()) == ddim_timesteps(1000, steps)
    a = NoiseSchedule.linear(1000).alpha_bar.tolist()
    g = torch.Generator().manual_seed(steps)
    for t in peer.timesteps.tolist()[:: max(1, steps // 5)] + [0]:
        x_t, eps = torch.randn(2, 1, 8, 8, generator=g), torch.randn(2, 1, 8, 8, generator=g)
        expected = peer.step(eps, t, x_t, eta=0.0).prev_sample
        prev = t - 1000 // steps
        ours = ddim_step(x_t, eps, a[t], a[prev] if prev >= 0 else 1.0)
        assert torch.allclose(ours, expected, atol=1e-5), t


def test_clipped_ddim_step_matches_diffusers_clip_sample():
    from diffusers import DDIMScheduler
    from workbench.latents.diffusion.steps import clipped_noise
    peer = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=True,
                         set_alpha_to_one=True, steps_offset=0)
    peer.set_timesteps(20)
    a = NoiseSchedule.linear(1000).alpha_bar.tolist()
    x_t, eps = 3 * torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(5)), torch.randn(2, 1, 8, 8)
    expected = peer.step(eps, 500, x_t, eta=0.0, use_clipped_model_output=True).prev_sample
    ours = ddim_step(x_t, clipped_noise(x_t, eps, a[500]), a[500], a[450])
    assert torch.allclose(ours, expected, atol=1e-5)
    assert predict_x0(x_t, clipped_noise(x_t, eps, a[500]), a[500]).abs().max() <= 1 + 1e-5


def test_ddpm_step_matches_diffusers_and_posterior_mean():
    from diffusers import DDPMScheduler
    peer = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False,
                         variance_type="fixed_small")
    s = NoiseSchedule.linear(1000)
    a, alphas = s.alpha_bar.tolist(), s.alphas.tolist()
    g = torch.Generator().manual_seed(1)
    for t in (999, 500, 100, 1):
        x_t, eps = torch.randn(3, 1, 4, 4, generator=g), torch.randn(3, 1, 4, 4, generator=g)
        mean = ddpm_step(x_t, eps, alphas[t], a[t], a[t - 1])
        # q(x_{t-1} | x_t, x_0) of DDPM eq. (7), with x_0 the predicted one
        x0 = predict_x0(x_t, eps, a[t])
        beta = 1 - alphas[t]
        posterior = (math.sqrt(a[t - 1]) * beta * x0 + math.sqrt(alphas[t]) * (1 - a[t - 1]) * x_t) / (1 - a[t])
        assert torch.allclose(mean, posterior, atol=1e-5)
        z = torch.randn(3, 1, 4, 4, generator=torch.Generator().manual_seed(t))    # diffusers' draw
        expected = peer.step(eps, t, x_t, generator=torch.Generator().manual_seed(t)).prev_sample
        # diffusers forms 1 - alpha_bar in float32: at t <= 10 that cancellation alone costs it ~1e-4
        assert torch.allclose(ddpm_step(x_t, eps, alphas[t], a[t], a[t - 1], z), expected,
                              atol=1e-5 if t >= 100 else 5e-4)


def test_ddim_step_matches_the_papers_equations_in_another_form():
    # DDIM eq. (12) with sigma of eq. (16), written with x_0 substituted (no helper functions).
    a_t, a_prev, eta = 0.3, 0.7, 0.6
    g = torch.Generator().manual_seed(2)
    x_t, eps, z = (torch.randn(5, generator=g) for _ in range(3))
    sigma2 = eta ** 2 * (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
    coef_x = math.sqrt(a_prev / a_t)
    coef_eps = math.sqrt(1 - a_prev - sigma2) - math.sqrt(a_prev * (1 - a_t) / a_t)
    expected = coef_x * x_t + coef_eps * eps + math.sqrt(sigma2) * z
    assert torch.allclose(ddim_step(x_t, eps, a_t, a_prev, eta, z), expected, atol=1e-6)
    assert ddim_sigma(a_t, a_prev, 0.0) == 0.0


def test_ddim_with_eta_one_over_all_steps_is_ddpm():
    # Same noise, all T steps: DDIM(eta=1) and DDPM's posterior-variance step are one update.
    s = NoiseSchedule.linear(1000)
    a, alphas = s.alpha_bar.tolist(), s.alphas.tolist()
    g = torch.Generator().manual_seed(3)
    for t in (999, 300, 1):
        x_t, eps, z = (torch.randn(4, generator=g) for _ in range(3))
        assert torch.allclose(ddim_step(x_t, eps, a[t], a[t - 1], 1.0, z),
                              ddpm_step(x_t, eps, alphas[t], a[t], a[t - 1], z), atol=1e-6)
    toy = GaussianToyModel(0.4, 0.15, (1, 2, 2), num_steps=200)
    ddim = sample_ddim(toy, 8, steps=200, eta=1.0, generator=7)
    ddpm = sample_ddpm(toy, 8, generator=7)
    assert torch.allclose(ddim, ddpm, atol=1e-5)


def test_eta_one_ddim_and_ddpm_agree_in_distribution_on_a_toy_problem():
    toy = GaussianToyModel(0.4, 0.15, (1, 1, 1), num_steps=1000)
    n = 20_000
    ddpm = sample_ddpm(toy, n, generator=0).flatten()
    ddim = sample_ddim(toy, n, steps=1000, eta=1.0, generator=1).flatten()
    for draws in (ddpm, ddim):     # both are N(0.4, 0.15^2) up to discretisation
        assert abs(float(draws.mean()) - 0.4) < 0.005
        assert abs(float(draws.std()) - 0.15) < 0.005
    # and against each other: the two-sample Kolmogorov-Smirnov distance is small
    grid = torch.linspace(0.0, 0.8, 400)
    cdf = lambda d: (d[None, :] <= grid[:, None]).double().mean(1)  # noqa: E731
    assert float((cdf(ddpm) - cdf(ddim)).abs().max()) < 1.63 * math.sqrt(2 / n)   # 1% level


def test_deterministic_ddim_is_deterministic_and_inverts_exactly_with_exact_noise():
    toy = GaussianToyModel(0.5, 0.2, (1, 3, 3))
    x_T = torch.randn(4, 1, 3, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(decode_ddim(toy, x_T, steps=20), decode_ddim(toy, x_T, steps=20))
    # eq. (13) undoes eq. (12) when given the same eps
    x_prev = ddim_step(x_T, torch.ones_like(x_T), 0.2, 0.6)
    assert torch.allclose(ddim_inverse_step(x_prev, torch.ones_like(x_T), 0.6, 0.2), x_T, atol=1e-6)


def test_inversion_error_falls_with_steps_on_fixed_models():
    images = 0.5 + 0.2 * torch.randn(16, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    toy = GaussianToyModel(0.5, 0.2, (1, 4, 4))
    errors = [float((decode_ddim(toy, invert_ddim(toy, images, steps=s), steps=s) - images).pow(2).mean())
              for s in (5, 10, 20, 50, 100)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.01 * errors[0]


def test_inversion_error_falls_with_steps_on_the_shipped_digits_model():
    from workbench.datasets import Digits
    from workbench.latents import load_pretrained
    from workbench.latents.diffusion.autoencoder import inversion_mse
    model = load_pretrained("diffae_digits", device="cpu")
    images, _ = Digits().sample(4, generator=3)
    errors = [inversion_mse(model, images, steps=s) for s in (10, 20, 50)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors


def test_trajectory_records_each_visited_step():
    toy = GaussianToyModel(0.5, 0.1, (1, 2, 2))
    images, path = sample_ddim(toy, 3, steps=10, generator=0, trajectory=True)
    assert path.timesteps == list(range(900, -1, -100))
    assert path.x_t.shape == (10, 3, 1, 2, 2) and path.x0_hat.shape == (10, 3, 1, 2, 2)
    # the last DDIM step (t = 0 -> alpha_bar = 1) returns the predicted x_0 itself
    assert torch.allclose(path.x0_hat[-1], images, atol=1e-6)


def test_bad_input_raises_typed_errors():
    model = DiffusionModel((1, 8, 8), channels=4, device="cpu")
    with pytest.raises(WorkbenchInputError, match="steps"):
        sample_ddim(model, 2, steps=0)
    with pytest.raises(WorkbenchInputError, match="steps"):
        ddim_timesteps(1000, 1001)
    with pytest.raises(WorkbenchInputError, match="eta"):
        sample_ddim(model, 2, steps=2, eta=-1)
    with pytest.raises(WorkbenchInputError, match="unconditional"):
        sample_ddim(model, 2, steps=2, condition=torch.zeros(2, 3))
    with pytest.raises(ShapeError):
        invert_ddim(model, torch.zeros(2, 1, 4, 4), steps=2)
    with pytest.raises(WorkbenchInputError, match="n"):
        sample_ddim(model, None, steps=2)
    with pytest.raises(WorkbenchInputError):
        NoiseSchedule(torch.tensor([0.1, 1.5]))
