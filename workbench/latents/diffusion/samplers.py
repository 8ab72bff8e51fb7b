"""Samplers: DDPM ancestral sampling, DDIM with any number of steps and any eta, DDIM inversion.

Each sampler is a loop over the step functions of :mod:`~workbench.latents.diffusion.steps`
around the model's noise prediction ``model.predict_noise(x_t, t, condition)``; the
model may be any object with that method, a ``schedule``, ``image_shape``, ``device``
and ``to_model`` / ``to_images`` (see :class:`~workbench.latents.diffusion.model.DiffusionModel`).

DDIM uses the sub-sequence ``tau = 0, k, 2k, ..., (S-1)k`` of the ``T`` training steps
with ``k = T // S`` (the DDIM paper's code, diffusers' "leading" spacing), and
``alpha_bar = 1`` after the last step. Inversion walks the same timesteps upwards.

Examples
--------
>>> import torch
>>> from workbench.latents.diffusion.model import DiffusionModel
>>> model = DiffusionModel((1, 8, 8), channels=4, num_steps=100, device="cpu").eval()
>>> ddim_timesteps(100, 4)
[0, 25, 50, 75]
>>> images = sample_ddim(model, 2, steps=4, generator=0)
>>> images.shape, bool(images.min() >= 0) and bool(images.max() <= 1)
(torch.Size([2, 1, 8, 8]), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError
from workbench.latents.diffusion.steps import clipped_noise, ddim_inverse_step, ddim_step, ddpm_step, predict_x0

__all__ = ["ddim_timesteps", "sample_ddim", "sample_ddpm", "invert_ddim", "decode_ddim",
           "DenoisingTrajectory", "standard_normal", "as_generator"]


def ddim_timesteps(num_train_steps: int, steps: int) -> list[int]:
    """The ``steps`` timesteps DDIM visits, ascending: ``[0, k, ..., (steps-1) k]``, ``k = T // steps``.

    Raises
    ------
    WorkbenchInputError
        If ``steps`` is not an integer in ``1..num_train_steps``.

    Examples
    --------
    >>> ddim_timesteps(1000, 4)
    [0, 250, 500, 750]
    >>> ddim_timesteps(10, 3)                     # k = 10 // 3 = 3
    [0, 3, 6]
    >>> ddim_timesteps(10, 20)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: steps must be an integer from 1 to 10 (the model's T), got 20.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= num_train_steps:
        raise WorkbenchInputError(f"steps must be an integer from 1 to {num_train_steps} (the model's T), "
                                  f"got {steps!r}.")
    k = num_train_steps // steps
    return [i * k for i in range(steps)]


def as_generator(generator):
    """A torch generator from a seed (a new CPU generator), a generator, or None.

    Raises
    ------
    WorkbenchInputError
        For anything else (a float, a bool, a NumPy generator).

    Examples
    --------
    >>> torch.equal(torch.rand(2, generator=as_generator(5)), torch.rand(2, generator=as_generator(5)))
    True
    >>> as_generator(None) is None
    True
    >>> as_generator(0.5)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: generator must be an int seed, a torch.Generator or None, got 0.5.
    """
    if isinstance(generator, bool) or not (generator is None or isinstance(generator, (int, torch.Generator))):
        raise WorkbenchInputError(f"generator must be an int seed, a torch.Generator or None, got {generator!r}.")
    return torch.Generator().manual_seed(generator) if isinstance(generator, int) else generator


def standard_normal(shape, generator=None, device="cpu") -> torch.Tensor:
    """``N(0, I)`` draws on ``device``; ``generator`` a seed, a torch generator on any device, or None.

    Examples
    --------
    >>> x = standard_normal((2, 3), generator=0)
    >>> x.shape, torch.equal(x, standard_normal((2, 3), generator=0))
    (torch.Size([2, 3]), True)
    >>> round(standard_normal((100_000,), generator=1).std().item(), 2)
    1.0
    """
    generator = as_generator(generator)
    where = generator.device if generator is not None else device
    return torch.randn(tuple(shape), generator=generator, device=where).to(device)


@dataclass
class DenoisingTrajectory:
    """What a sampler passed through: at each visited timestep, ``x_t`` and the predicted ``x_0``.

    ``timesteps[i]`` is the step of ``x_t[i]`` and ``x0_hat[i]``, both ``(n, C, H, W)``
    images in ``[0, 1]`` on the CPU (``x_t`` mapped as ``(x + 1) / 2``, clamped).

    Examples
    --------
    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(image_shape=(1, 2, 2), num_steps=100)
    >>> images, path = sample_ddim(toy, 3, steps=4, generator=0, trajectory=True)
    >>> path.timesteps                                   # noisiest first
    [75, 50, 25, 0]
    >>> path.x_t.shape, path.x0_hat.shape                # (steps, n, C, H, W)
    (torch.Size([4, 3, 1, 2, 2]), torch.Size([4, 3, 1, 2, 2]))
    """

    timesteps: list
    x_t: torch.Tensor
    x0_hat: torch.Tensor


def _alpha_bar(model):
    values = model.schedule.alpha_bar.tolist()
    return lambda t: values[t] if t >= 0 else 1.0


def _start(model, n, x_T, generator):
    if x_T is not None:
        x_T = torch.as_tensor(x_T, dtype=torch.float32, device=model.device)
        if x_T.dim() != 4 or tuple(x_T.shape[1:]) != tuple(model.image_shape):
            raise ShapeError(f"x_T must have shape (n, {', '.join(map(str, model.image_shape))}), "
                             f"got {tuple(x_T.shape)}.")
        if n is not None and n != len(x_T):
            raise ShapeError(f"n={n!r} but x_T holds {len(x_T)} starting point(s); give one of n and x_T.")
        if not torch.isfinite(x_T).all():
            raise NonFiniteValueError("x_T contains NaN or infinite values; start from finite noise.")
        return x_T
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise WorkbenchInputError(f"Give n (a positive number of samples) or x_T; got n={n!r}.")
    return standard_normal((n, *model.image_shape), generator, model.device)


def _finish(model, x, record):
    images = model.to_images(x)
    if record is None:
        return images
    ts, xs, x0s = zip(*record)
    return images, DenoisingTrajectory(list(ts), torch.stack(xs), torch.stack(x0s))


@torch.no_grad()
def sample_ddim(model, n: int | None = None, *, steps: int = 50, eta: float = 0.0, condition=None,
                x_T=None, generator=None, trajectory: bool = False, clip: bool = False):
    """DDIM samples as ``[0, 1]`` images (and the trajectory when asked).

    Parameters
    ----------
    model : DiffusionModel
    n : int
        Number of samples (or give ``x_T``).
    steps : int
        ``S``, from 1 to the model's ``T``.
    eta : float
        0 deterministic DDIM; 1 matches DDPM's posterior variance.
    condition : Tensor ``(n, d)`` or ``(d,)``, optional
    x_T : Tensor, optional
        The starting noise (model space); drawn from ``generator`` when omitted.
    generator : int or torch.Generator, optional
    trajectory : bool
        Also return a :class:`DenoisingTrajectory`.
    clip : bool
        Clip each predicted ``x_0`` to the data range (as diffusers' ``clip_sample``):
        steadier samples from a small model, but no longer the exact inverse of
        :func:`invert_ddim`.

    Returns
    -------
    Tensor ``(n, C, H, W)`` in ``[0, 1]``, or ``(images, DenoisingTrajectory)``.

    Raises
    ------
    WorkbenchInputError
        If ``eta`` is negative, ``steps`` out of range, or neither ``n`` nor ``x_T`` given.

    Examples
    --------
    On Gaussian data with the exact noise prediction, DDIM reaches ``N(0.5, 0.1^2)``
    once its steps are fine enough (50 steps still shrink the spread):

    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(mean=0.5, std=0.1, image_shape=(1, 1, 1), num_steps=1000)
    >>> x = sample_ddim(toy, 4000, steps=1000, generator=0)
    >>> round(x.mean().item(), 2), round(x.std().item(), 2)
    (0.5, 0.1)
    >>> round(sample_ddim(toy, 4000, steps=50, generator=0).std().item(), 2)
    0.09
    >>> sample_ddim(toy, 2, eta=-1.0)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: eta must be a non-negative number, got -1.0.
    """
    if not float(eta) >= 0:
        raise WorkbenchInputError(f"eta must be a non-negative number, got {eta!r}.")
    a, generator = _alpha_bar(model), as_generator(generator)
    ts = ddim_timesteps(model.schedule.num_steps, steps)
    x = _start(model, n, x_T, generator)
    record = [] if trajectory else None
    for i in reversed(range(len(ts))):
        t, prev = ts[i], ts[i - 1] if i > 0 else -1
        eps = model.predict_noise(x, t, condition)
        eps = clipped_noise(x, eps, a(t)) if clip else eps
        if record is not None:
            record.append((t, model.to_images(x).cpu(), model.to_images(predict_x0(x, eps, a(t))).cpu()))
        noise = standard_normal(x.shape, generator, x.device) if eta > 0 else None
        x = ddim_step(x, eps, a(t), a(prev), float(eta), noise)
    return _finish(model, x, record)


@torch.no_grad()
def sample_ddpm(model, n: int | None = None, *, condition=None, x_T=None, generator=None,
                trajectory: bool = False, clip: bool = False):
    """DDPM ancestral samples (all ``T`` steps, posterior variance) as ``[0, 1]`` images.

    Arguments as :func:`sample_ddim`.

    Examples
    --------
    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(mean=0.3, std=0.05, image_shape=(1, 1, 1), num_steps=1000)
    >>> x = sample_ddpm(toy, 4000, generator=0)
    >>> round(x.mean().item(), 2), round(x.std().item(), 2)
    (0.3, 0.05)
    """
    a, alphas, generator = _alpha_bar(model), model.schedule.alphas.tolist(), as_generator(generator)
    x = _start(model, n, x_T, generator)
    record = [] if trajectory else None
    for t in reversed(range(model.schedule.num_steps)):
        eps = model.predict_noise(x, t, condition)
        eps = clipped_noise(x, eps, a(t)) if clip else eps
        if record is not None:
            record.append((t, model.to_images(x).cpu(), model.to_images(predict_x0(x, eps, a(t))).cpu()))
        noise = standard_normal(x.shape, generator, x.device) if t > 0 else None
        x = ddpm_step(x, eps, alphas[t], a(t), a(t - 1), noise)
    return _finish(model, x, record)


@torch.no_grad()
def invert_ddim(model, images: torch.Tensor, condition=None, *, steps: int = 50) -> torch.Tensor:
    """Deterministic DDIM inversion: the noise ``x_T`` from which DDIM decodes ``images``.

    This is *abduction*: with the model (and ``condition``) as the mechanism, ``x_T`` is
    the exogenous noise that reproduces the observation. Runs the ODE of DDIM eq. (13)
    upwards over the decoder's timesteps; the reconstruction error shrinks as ``steps``
    grows.

    Parameters
    ----------
    model : DiffusionModel
    images : Tensor ``(n, C, H, W)`` in ``[0, 1]``
    condition : Tensor, optional
        The same condition the decoder will use (e.g. ``z_sem``).
    steps : int

    Returns
    -------
    Tensor ``(n, C, H, W)`` in model space.

    See also
    --------
    decode_ddim : runs it back.

    Examples
    --------
    Inverting then decoding gives the images back, closer with more steps:

    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(mean=0.5, std=0.1, image_shape=(1, 4, 4), num_steps=1000)
    >>> images = 0.4 + 0.2 * torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    >>> def round_trip_mse(steps):
    ...     back = decode_ddim(toy, invert_ddim(toy, images, steps=steps), steps=steps)
    ...     return ((back - images) ** 2).mean().item()
    >>> round_trip_mse(5) > round_trip_mse(50) > round_trip_mse(500)
    True
    >>> round_trip_mse(500) < 1e-5
    True
    """
    a = _alpha_bar(model)
    ts = ddim_timesteps(model.schedule.num_steps, steps)
    x = model.to_model(model.check_images(images))
    for i, t in enumerate(ts):
        prev = ts[i - 1] if i > 0 else -1
        eps = model.predict_noise(x, t, condition)
        x = ddim_inverse_step(x, eps, a(prev), a(t))
    return x


def decode_ddim(model, x_T: torch.Tensor, condition=None, *, steps: int = 50) -> torch.Tensor:
    """Deterministic DDIM decoding of ``x_T`` (``eta = 0``): the inverse of :func:`invert_ddim`.

    Examples
    --------
    Decoding is deterministic: the same noise, the same images.

    >>> from workbench.latents.diffusion.toy import GaussianToyModel
    >>> toy = GaussianToyModel(image_shape=(1, 2, 2), num_steps=100)
    >>> x_T = standard_normal((3, 1, 2, 2), generator=0)
    >>> torch.equal(decode_ddim(toy, x_T, steps=10), decode_ddim(toy, x_T, steps=10))
    True
    >>> torch.equal(decode_ddim(toy, x_T, steps=10), sample_ddim(toy, x_T=x_T, steps=10))
    True
    """
    return sample_ddim(model, x_T=x_T, steps=steps, eta=0.0, condition=condition)
