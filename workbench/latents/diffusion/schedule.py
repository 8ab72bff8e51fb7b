"""The noise schedule and the forward process q(x_t | x_0) of DDPM (Ho et al. 2020).

A schedule is ``T`` variances ``beta_1..beta_T``. Writing ``alpha_t = 1 - beta_t`` and
``alpha_bar_t = prod_{s<=t} alpha_s``, one noising step is

.. math:: q(x_t \\mid x_{t-1}) = N(\\sqrt{\\alpha_t}\\, x_{t-1},\\ \\beta_t I),

and, because Gaussians compose, ``t`` steps at once have the closed form

.. math:: q(x_t \\mid x_0) = N(\\sqrt{\\bar\\alpha_t}\\, x_0,\\ (1 - \\bar\\alpha_t) I),

so ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps`` with ``eps ~ N(0, I)``.
Timesteps here are 0-based, ``t = 0..T-1`` (as in diffusers): ``alpha_bar[0]`` is after
one step of noise.

Examples
--------
>>> s = NoiseSchedule.linear(1000)
>>> s.num_steps, round(float(s.alpha_bar[0]), 6), round(float(s.alpha_bar[-1]), 6)
(1000, 0.9999, 4e-05)
>>> import torch
>>> x0 = torch.zeros(2, 1, 4, 4)
>>> q_sample(s, x0, torch.tensor([0, 999]), torch.ones_like(x0))[:, 0, 0, 0]
tensor([0.0100, 1.0000])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.errors import ShapeError, WorkbenchInputError

__all__ = ["NoiseSchedule", "q_sample", "iterated_noising", "SCHEDULES"]


@dataclass(frozen=True)
class NoiseSchedule:
    """``T`` noise variances ``betas`` and the products derived from them (float64, CPU).

    Parameters
    ----------
    betas
        ``T`` variances, each strictly between 0 and 1.
    kind
        A name saved with the model (``"linear"``, ``"cosine"`` or ``"custom"``).

    Raises
    ------
    ShapeError
        If ``betas`` is not a non-empty 1-D tensor.
    WorkbenchInputError
        If a beta is not in ``(0, 1)``.

    Examples
    --------
    >>> s = NoiseSchedule(torch.tensor([0.5, 0.5]))
    >>> s.num_steps, s.alphas.tolist(), s.alpha_bar.tolist()
    (2, [0.5, 0.5], [0.5, 0.25])
    >>> NoiseSchedule.cosine(10).config()
    {'kind': 'cosine', 'num_steps': 10}
    >>> NoiseSchedule(torch.tensor([0.5, 1.0]))
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Every beta must lie strictly between 0 and 1.
    """

    betas: torch.Tensor
    kind: str = "custom"

    def __post_init__(self):
        betas = torch.as_tensor(self.betas, dtype=torch.float64)
        if betas.dim() != 1 or len(betas) < 1:
            raise ShapeError(f"betas must be a non-empty 1-D tensor, got shape {tuple(betas.shape)}.")
        if not ((betas > 0) & (betas < 1)).all():
            raise WorkbenchInputError("Every beta must lie strictly between 0 and 1.")
        object.__setattr__(self, "betas", betas)

    @classmethod
    def linear(cls, num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        """DDPM's linear schedule, ``1e-4`` to ``0.02`` over 1000 steps.

        For other ``T`` both ends scale by ``1000 / T`` (as in Nichol & Dhariwal's code),
        so the last ``alpha_bar`` stays near 0 and ``x_T`` is close to pure noise.
        """
        _check_steps(num_steps)
        if not 0 < beta_start < beta_end < 1:
            raise WorkbenchInputError(f"Need 0 < beta_start < beta_end < 1, got beta_start={beta_start!r}, "
                                      f"beta_end={beta_end!r} (DDPM's are 1e-4 and 0.02).")
        scale = 1000 / num_steps
        return cls(torch.linspace(beta_start * scale, min(beta_end * scale, 0.999), num_steps,
                                  dtype=torch.float64), "linear")

    @classmethod
    def cosine(cls, num_steps: int = 1000, offset: float = 0.008):
        """Nichol & Dhariwal's cosine schedule, betas clipped at 0.999."""
        _check_steps(num_steps)
        t = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
        f = torch.cos((t + offset) / (1 + offset) * math.pi / 2) ** 2
        return cls((1 - f[1:] / f[:-1]).clamp(max=0.999), "cosine")

    @property
    def num_steps(self) -> int:
        """``T``, the number of noising steps."""
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        """``alpha_t = 1 - beta_t``, the one-step signal factors."""
        return 1.0 - self.betas

    @property
    def alpha_bar(self) -> torch.Tensor:
        """``alpha_bar[t] = prod_{s <= t} (1 - beta_s)``."""
        return torch.cumprod(self.alphas, dim=0)

    def config(self) -> dict:
        """``{"kind", "num_steps"}``: enough to rebuild a named schedule."""
        return {"kind": self.kind, "num_steps": self.num_steps}


SCHEDULES = {"linear": NoiseSchedule.linear, "cosine": NoiseSchedule.cosine}


def _check_steps(num_steps) -> None:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 2:
        raise WorkbenchInputError(f"num_steps must be an integer >= 2, got {num_steps!r}.")


def check_timesteps(t, num_steps: int) -> torch.Tensor:
    """``t`` as a 1-D long tensor, or a typed error unless each entry is a whole number in ``0..T-1``.

    Examples
    --------
    >>> check_timesteps(3, 10)
    tensor([3])
    >>> check_timesteps(2.5, 10)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: timesteps must be whole numbers in 0..9, got [2.5].
    """
    values = torch.as_tensor(t)
    whole = not isinstance(t, bool) and values.dtype != torch.bool and not values.is_complex() and (
        not values.is_floating_point() or bool((values == values.round()).all()))
    if not whole:
        shown = values.reshape(-1)[:6].tolist()
        raise WorkbenchInputError(f"timesteps must be whole numbers in 0..{num_steps - 1}, got {shown}.")
    values = values.to(torch.long).reshape(-1)
    if (values < 0).any() or (values >= num_steps).any():
        raise WorkbenchInputError(f"timesteps must lie in 0..{num_steps - 1}.")
    return values


def _gather(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` (computed in float64) shaped to broadcast over images like ``like``."""
    out = values[t.cpu()].to(like.device, like.dtype)
    return out.view(-1, *([1] * (like.dim() - 1)))


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor):
    """The closed form: ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``.

    Parameters
    ----------
    schedule
        The noise schedule.
    x0
        ``(n, ...)`` clean images.
    t
        One timestep for all images, or one per image, in ``0..T-1``.
    noise
        ``eps``, shaped like ``x0``.

    Raises
    ------
    ShapeError
        If ``t`` has neither 1 nor ``n`` entries, or ``noise`` is not shaped like ``x0``.
    WorkbenchInputError
        If a timestep is outside ``0..T-1``.

    Examples
    --------
    With ``alpha_bar = (0.5, 0.25)``, ``x_1 = 0.5 x_0 + sqrt(0.75) eps``:

    >>> s = NoiseSchedule(torch.tensor([0.5, 0.5]))
    >>> x0, eps = torch.ones(1, 2), torch.tensor([[0.0, 1.0]])
    >>> q_sample(s, x0, 1, eps)
    tensor([[0.5000, 1.3660]])
    >>> q_sample(s, x0, 2, eps)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: timesteps must lie in 0..1.
    """
    t = check_timesteps(t, schedule.num_steps)
    if len(t) not in (1, len(x0)) or noise.shape != x0.shape:
        raise ShapeError(f"t must have 1 or {len(x0)} entries and noise the shape of x0 "
                         f"{tuple(x0.shape)}; got {tuple(t.shape)} and {tuple(noise.shape)}.")
    a = schedule.alpha_bar                     # square roots in float64, then the images' dtype
    return _gather(a.sqrt(), t, x0) * x0 + _gather((1 - a).sqrt(), t, x0) * noise


def iterated_noising(schedule: NoiseSchedule, x0: torch.Tensor, t: int, generator=None):
    """``t + 1`` single steps ``x_s = sqrt(alpha_s) x_{s-1} + sqrt(beta_s) eps_s``: a draw of x_t.

    The slow route to the same distribution as :func:`q_sample`; the notebook and the
    tests compare the two.

    Examples
    --------
    Many single steps give the closed form's mean ``sqrt(alpha_bar_t) x_0`` and variance
    ``1 - alpha_bar_t``:

    >>> s = NoiseSchedule.linear(100)
    >>> x = iterated_noising(s, torch.ones(20_000), 49, generator=torch.Generator().manual_seed(0))
    >>> a = float(s.alpha_bar[49])
    >>> abs(x.mean().item() - a ** 0.5) < 0.02, abs(x.var().item() - (1 - a)) < 0.02
    (True, True)
    """
    if check_timesteps(t, schedule.num_steps).shape != (1,):
        raise WorkbenchInputError(f"t must be one timestep (an int), got {t!r}.")
    x = x0
    for s in range(int(t) + 1):
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        x = schedule.alphas[s].sqrt().item() * x + schedule.betas[s].sqrt().item() * eps
    return x
