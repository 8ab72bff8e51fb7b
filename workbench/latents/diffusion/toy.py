"""A diffusion "model" that needs no training: data from N(mean, std^2), noise predicted exactly.

For Gaussian data the noised marginal is Gaussian too, ``x_t ~ N(sqrt(a) m, a s^2 + 1 - a)``
with ``a = alpha_bar_t``, and the best noise prediction is its posterior mean

.. math:: E[\\epsilon \\mid x_t] = \\sqrt{1 - a}\\,(x_t - \\sqrt{a}\\, m) / (a s^2 + 1 - a).

With it every sampler is exact up to its discretisation, which makes this the toy
problem of the tests and of the notebook's "by hand" section: DDPM and DDIM with
``eta = 1`` must both produce ``N(m, s^2)``, and DDIM inversion error must fall with
the number of steps.

Examples
--------
>>> from workbench.latents.diffusion.samplers import sample_ddpm
>>> toy = GaussianToyModel(mean=0.5, std=0.1, image_shape=(1, 1, 1), num_steps=1000)
>>> x = sample_ddpm(toy, 4000, generator=0)
>>> round(float(x.mean()), 2), round(float(x.std()), 2)
(0.5, 0.1)
"""

from __future__ import annotations

import torch

from workbench.errors import WorkbenchInputError
from workbench.latents.diffusion.model import DiffusionModel
from workbench.latents.diffusion.schedule import NoiseSchedule

__all__ = ["GaussianToyModel", "MeanGrey"]


class GaussianToyModel:
    """Exact noise prediction for images whose pixels are i.i.d. ``N(mean, std^2)`` in ``[0, 1]`` units.

    ``mean`` and ``std`` are in image units; inside, as for every model here, pixels
    live on ``[-1, 1]`` (so the model-space mean is ``2 mean - 1`` and std ``2 std``).
    Image helpers are those of :class:`DiffusionModel`, but ``to_images`` does not clamp.

    Raises
    ------
    WorkbenchInputError
        If ``std`` is not positive.

    Examples
    --------
    At the noisiest step the noisy image is almost all noise, so the prediction is
    nearly the image itself; it is exact in the closed form above:

    >>> toy = GaussianToyModel(mean=0.5, std=0.1, image_shape=(1, 1, 1), num_steps=1000)
    >>> x_t = torch.tensor([[[[0.7]]]])
    >>> round(toy.predict_noise(x_t, 999).item(), 3)
    0.7
    >>> toy.to_images(toy.to_model(torch.tensor([0.25]))).item()   # image <-> model space
    0.25
    >>> GaussianToyModel(std=0.0)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: std must be positive, got 0.0.
    """

    def __init__(self, mean: float = 0.5, std: float = 0.1, image_shape=(1, 4, 4), num_steps: int = 1000):
        if not float(std) > 0:
            raise WorkbenchInputError(f"std must be positive, got {std!r}.")
        self.m, self.s = 2.0 * float(mean) - 1.0, 2.0 * float(std)
        self.image_shape, self.device = tuple(image_shape), torch.device("cpu")
        self.schedule = NoiseSchedule.linear(num_steps)
        self._a = self.schedule.alpha_bar

    to_model = staticmethod(DiffusionModel.to_model)
    check_images = DiffusionModel.check_images

    @staticmethod
    def to_images(x):
        """Model space ``[-1, 1]`` back to image units, unclamped."""
        return (x + 1.0) / 2.0

    def predict_noise(self, x_t: torch.Tensor, t, condition=None):
        """The exact ``E[eps | x_t]`` at timestep ``t`` (``condition`` is ignored)."""
        a = float(self._a[int(torch.as_tensor(t).reshape(-1)[0])])
        return (1 - a) ** 0.5 * (x_t - a ** 0.5 * self.m) / (a * self.s ** 2 + 1 - a)


class MeanGrey:
    """A stand-in factor regressor for examples and tests: one factor, an image's mean grey level.

    It has the interface of :class:`~workbench.latents.diffusion.regressors.FactorRegressor`
    that edits and directions use: ``factor_names``, ``factor_range``, ``measure``
    (differentiable) and ``predict`` (detached, on the CPU).

    Examples
    --------
    >>> reader = MeanGrey()
    >>> reader.predict(torch.full((2, 1, 4, 4), 0.25)).tolist()
    [[0.25], [0.25]]
    """

    factor_names = ["mean"]
    factor_range = torch.tensor([1.0])

    def measure(self, x: torch.Tensor) -> torch.Tensor:
        """The mean grey level of each image, ``(n, 1)``, with gradients."""
        return x.mean(dim=(1, 2, 3))[:, None]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`measure`, detached and on the CPU."""
        return self.measure(x).detach().cpu()
