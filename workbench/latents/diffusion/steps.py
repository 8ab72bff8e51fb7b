"""One denoising step of DDPM and of DDIM, and DDIM's inverse step: the equations, a line each.

Every function works on tensors in the model's space and takes the schedule's
``alpha_bar`` values as plain numbers, so each line reads as the paper's equation.
Notation of Song, Meng & Ermon, "Denoising Diffusion Implicit Models" (ICLR 2021):
``a_t`` is their ``alpha_t``, i.e. DDPM's ``alpha_bar_t``.

Examples
--------
>>> import torch
>>> x_t, eps = torch.tensor([0.5]), torch.tensor([0.2])
>>> x_prev = ddim_step(x_t, eps, a_t=0.5, a_prev=0.9)
>>> torch.allclose(ddim_inverse_step(x_prev, eps, a_prev=0.9, a_t=0.5), x_t)
True
"""

from __future__ import annotations

import math

import torch

__all__ = ["predict_x0", "clipped_noise", "ddim_sigma", "ddim_step", "ddim_inverse_step", "ddpm_step"]


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, a_t: float) -> torch.Tensor:
    """DDIM eq. (9) solved for x_0: ``x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)``.

    Examples
    --------
    If the noise is predicted exactly, the clean image comes back:

    >>> x0, eps = torch.tensor([0.6]), torch.tensor([-1.0])
    >>> x_t = math.sqrt(0.36) * x0 + math.sqrt(0.64) * eps
    >>> predict_x0(x_t, eps, a_t=0.36)
    tensor([0.6000])
    """
    return (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)


def clipped_noise(x_t: torch.Tensor, eps: torch.Tensor, a_t: float) -> torch.Tensor:
    """The noise consistent with the predicted x_0 clipped to ``[-1, 1]`` (diffusers' ``clip_sample``).

    Examples
    --------
    Here ``x0_hat`` would be 3, so the noise is changed to the one that gives x_0 = 1:

    >>> x_t, eps = torch.tensor([1.5]), torch.tensor([0.0])
    >>> predict_x0(x_t, eps, a_t=0.25)
    tensor([3.])
    >>> fixed = clipped_noise(x_t, eps, a_t=0.25)
    >>> predict_x0(x_t, fixed, a_t=0.25)
    tensor([1.0000])
    """
    x0_hat = predict_x0(x_t, eps, a_t).clamp(-1.0, 1.0)
    return (x_t - math.sqrt(a_t) * x0_hat) / math.sqrt(1 - a_t)


def ddim_sigma(a_t: float, a_prev: float, eta: float) -> float:
    """DDIM eq. (16): ``sigma = eta sqrt((1 - a_prev) / (1 - a_t)) sqrt(1 - a_t / a_prev)``.

    Examples
    --------
    ``eta = 0`` is deterministic; ``eta = 1`` gives DDPM's posterior standard deviation
    ``sqrt((1 - a_prev) / (1 - a_t) beta_t)``:

    >>> ddim_sigma(0.5, 0.9, eta=0.0)
    0.0
    >>> a_t, a_prev = 0.5, 0.9
    >>> beta_t = 1 - a_t / a_prev
    >>> math.isclose(ddim_sigma(a_t, a_prev, eta=1.0), math.sqrt((1 - a_prev) / (1 - a_t) * beta_t))
    True
    """
    return eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)


def ddim_step(x_t, eps, a_t: float, a_prev: float, eta: float = 0.0, noise=None):
    """DDIM eq. (12): from ``x_t`` to ``x_{t-1}`` (``a_prev`` is the earlier, larger ``alpha``).

    ``x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps + sigma z``;
    ``eta = 0`` is deterministic (``noise`` unused), ``eta = 1`` is DDPM's posterior.

    See also
    --------
    ddim_inverse_step : the same equation run the other way.

    Examples
    --------
    With the true noise, one step lands exactly on the less noisy image of the same
    ``x_0`` and ``eps``:

    >>> x0, eps = torch.tensor([0.8]), torch.tensor([0.3])
    >>> noisy = lambda a: math.sqrt(a) * x0 + math.sqrt(1 - a) * eps
    >>> torch.allclose(ddim_step(noisy(0.5), eps, a_t=0.5, a_prev=0.9), noisy(0.9))
    True
    """
    x0_hat = predict_x0(x_t, eps, a_t)                               # "predicted x_0"
    sigma = ddim_sigma(a_t, a_prev, eta)                             # eq. (16)
    direction = math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps   # "direction pointing to x_t"
    x_prev = math.sqrt(a_prev) * x0_hat + direction                  # eq. (12) without noise
    return x_prev + sigma * noise if sigma > 0 else x_prev           # "random noise"


def ddim_inverse_step(x_prev, eps, a_prev: float, a_t: float):
    """Eq. (13), the ODE run forwards: ``x_t = sqrt(a_t) x0_hat + sqrt(1 - a_t) eps``.

    With ``eps`` evaluated at the noisier end (as the decoder will), this is the exact
    inverse of ``ddim_step(..., eta=0)``; with ``eps`` from the less noisy end (all an
    encoder can compute) it is its first-order approximation, whose error shrinks
    with the step size.

    Examples
    --------
    >>> x_prev, eps = torch.tensor([0.7]), torch.tensor([-0.4])
    >>> x_t = ddim_inverse_step(x_prev, eps, a_prev=0.9, a_t=0.5)
    >>> torch.allclose(ddim_step(x_t, eps, a_t=0.5, a_prev=0.9), x_prev)
    True
    """
    x0_hat = predict_x0(x_prev, eps, a_prev)
    return math.sqrt(a_t) * x0_hat + math.sqrt(1 - a_t) * eps


def ddpm_step(x_t, eps, alpha_t: float, a_t: float, a_prev: float, noise=None):
    """DDPM Algorithm 2, one line: ``x_{t-1} = (x_t - beta_t/sqrt(1 - a_t) eps)/sqrt(alpha_t) + sigma z``.

    ``alpha_t = 1 - beta_t`` is the one-step factor; ``sigma^2 = beta_tilde =
    (1 - a_prev) / (1 - a_t) beta_t``, the posterior variance (0 at the last step).

    Examples
    --------
    DDPM's step is DDIM's with ``eta = 1`` (the same mean and the same noise scale):

    >>> x_t, eps, z = torch.tensor([0.5]), torch.tensor([0.2]), torch.tensor([1.0])
    >>> a_t, a_prev = 0.5, 0.9
    >>> ddpm = ddpm_step(x_t, eps, alpha_t=a_t / a_prev, a_t=a_t, a_prev=a_prev, noise=z)
    >>> torch.allclose(ddpm, ddim_step(x_t, eps, a_t, a_prev, eta=1.0, noise=z))
    True
    """
    beta_t = 1 - alpha_t
    mean = (x_t - beta_t / math.sqrt(1 - a_t) * eps) / math.sqrt(alpha_t)
    sigma = math.sqrt((1 - a_prev) / (1 - a_t) * beta_t)
    return mean + sigma * noise if sigma > 0 and noise is not None else mean
