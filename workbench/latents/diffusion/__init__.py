"""Diffusion latents: DDPM, DDIM, deterministic DDIM inversion, diffusion autoencoders, directions.

One idea a module:

* :mod:`~.schedule`: the noise schedule and the forward process ``q(x_t | x_0)``;
* :mod:`~.unet`: a small epsilon-prediction UNet (GroupNorm, sinusoidal time embedding,
  optional condition vector, h-space output);
* :mod:`~.model`: :class:`DiffusionModel` (DDPM's loss, through the shared training loop)
  and :class:`DiffusionAutoencoder` (semantic encoder ``z_sem`` conditioning the UNet);
* :mod:`~.steps`: one DDPM step, one DDIM step, one inverse DDIM step: the equations;
* :mod:`~.samplers`: DDPM sampling, DDIM with any steps and eta, DDIM inversion;
* :mod:`~.autoencoder`: ``encode -> (z_sem, x_T)``, ``decode``, abduction, counterfactuals, edits;
* :mod:`~.directions`: principal directions of ``z_sem`` / h-space, linear probes, edit directions;
* :mod:`~.edits`: the decoder's response Jacobian and the calibrated step of a supervised edit;
* :mod:`~.regressors`: factor regressors, the instrument that measures samples and edits;
* :mod:`~.evaluation`: factor-distribution distance of samples, the measured effect of an edit;
* :mod:`~.toy`: an exactly solvable Gaussian "model" for checking samplers by hand;
* :mod:`~.exercises`: the checkers of notebook 08.

Examples
--------
>>> import workbench.latents.diffusion as wd
>>> wd.ddim_timesteps(1000, 4)
[0, 250, 500, 750]
"""

from workbench.latents.diffusion import autoencoder, directions, edits, evaluation, exercises
from workbench.latents.diffusion.autoencoder import (abduct, counterfactual, decode, edit, encode,
                                                     inversion_mse, reconstruct)
from workbench.latents.diffusion.directions import (edit_direction, factor_correlations, fit_probes,
                                                    h_space_codes, principal_directions, response_probes)
from workbench.latents.diffusion.edits import Calibration, calibrate_direction, response_jacobian
from workbench.latents.diffusion.model import (DIFFUSION_MODELS, DiffusionAutoencoder, DiffusionModel,
                                               build_diffusion)
from workbench.latents.diffusion.regressors import FactorRegressor
from workbench.latents.diffusion.samplers import (DenoisingTrajectory, ddim_timesteps, decode_ddim,
                                                  invert_ddim, sample_ddim, sample_ddpm)
from workbench.latents.diffusion.schedule import NoiseSchedule, iterated_noising, q_sample
from workbench.latents.diffusion.steps import ddim_inverse_step, ddim_step, ddpm_step, predict_x0
from workbench.latents.diffusion.toy import GaussianToyModel
from workbench.latents.diffusion.unet import UNet

__all__ = [
    "NoiseSchedule", "q_sample", "iterated_noising", "UNet", "DiffusionModel", "DiffusionAutoencoder",
    "DIFFUSION_MODELS", "build_diffusion", "predict_x0", "ddim_step", "ddim_inverse_step", "ddpm_step",
    "ddim_timesteps", "sample_ddim", "sample_ddpm", "invert_ddim", "decode_ddim", "DenoisingTrajectory",
    "encode", "decode", "abduct", "counterfactual", "reconstruct", "inversion_mse", "edit",
    "principal_directions", "h_space_codes", "fit_probes", "response_probes", "edit_direction", "factor_correlations",
    "response_jacobian", "calibrate_direction", "Calibration",
    "FactorRegressor", "GaussianToyModel", "autoencoder", "directions", "edits", "evaluation", "exercises",
]
