"""Notebook 08's checkers: a blank answer and a plausible wrong one are rejected, the reference accepted."""

import torch

import workbench as wb
import workbench.latents.diffusion as wd
from workbench.latents.diffusion.exercises import (check_counterfactual_roles, check_crossover_step,
                                                   check_inversion_mse)


def test_crossover_step():
    reference = int((wd.NoiseSchedule.linear(1000).alpha_bar < 0.5).nonzero()[0])
    assert not check_crossover_step(None).correct
    assert "Not answered" in str(check_crossover_step(None))
    assert not check_crossover_step(reference - 1).correct      # off by one
    assert not check_crossover_step(500).correct                # "half way"
    assert not check_crossover_step("soon").correct
    assert check_crossover_step(reference).correct and reference == 259


def test_counterfactual_roles():
    reference = {"invert": "abduction", "change z_sem": "action", "decode": "prediction"}
    assert not check_counterfactual_roles(None).correct
    swapped = {"invert": "action", "change z_sem": "abduction", "decode": "prediction"}
    verdict = check_counterfactual_roles(swapped)
    assert not verdict.correct and "'invert'" in verdict.message
    assert not check_counterfactual_roles({"invert": "abduction"}).correct
    assert check_counterfactual_roles(reference).correct


def test_inversion_mse():
    wb.seed_everything(0)
    model = wd.DiffusionAutoencoder((1, 16, 16), channels=4, semantic_dim=2, num_steps=100, device="cpu").eval()
    images = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    z, x_T = wd.encode(model, images, steps=5)
    reference = float((wd.decode(model, z, x_T, steps=5) - images).pow(2).mean())
    assert not check_inversion_mse(None, model, images, 5).correct
    mean_image = float((images - images.mean()).pow(2).mean())     # the MSE of predicting grey
    assert not check_inversion_mse(mean_image, model, images, 5).correct
    assert not check_inversion_mse(0.5 * reference, model, images, 5).correct
    assert not check_inversion_mse(2 * reference, model, images, 5).correct
    assert check_inversion_mse(reference, model, images, 5).correct
