"""Supervised edits that measure up: the decoder's response Jacobian and a calibrated step.

A linear probe of the *encoder* says where a factor is written in ``z_sem``; the edit
needs where the *decoder* reads it. :func:`response_jacobian` differentiates what a
factor regressor measures on the decoded image, ``f(decode(z_sem, x_T))``, with respect
to ``z_sem`` (autograd through the DDIM steps, each image's own ``x_T`` held fixed) and
averages the Jacobian over many images. Its rows are probes of the decoder, so
:func:`~workbench.latents.diffusion.directions.edit_direction` turns them into the
direction that moves one factor and, to first order, none of the others: the factor's
row projected onto the null space of the other rows (see its docstring).

The first-order model gets the direction right but not the step: the response of a
small model is not linear over a pixel of stroke. :func:`calibrate_direction` rescales
the direction on a *calibration* set of images (secant iterations on the measured mean
change) so that one unit of strength moves the measured factor by one unit there; the
edit is then judged on held-out images (``benchmarks/bench_diffusion.py``).

Examples
--------
>>> import torch
>>> from workbench.latents.diffusion.model import DiffusionAutoencoder
>>> _ = torch.manual_seed(0)
>>> model = DiffusionAutoencoder((1, 16, 16), channels=4, semantic_dim=3, num_steps=50, device="cpu").eval()
>>> from workbench.latents.diffusion.toy import MeanGrey   # a stand-in regressor: the mean grey level
>>> images = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(0))
>>> [probe] = response_jacobian(model, MeanGrey(), images, steps=5)
>>> probe.weight.shape
torch.Size([3])
>>> delta = probe.weight / probe.weight.dot(probe.weight)    # +1 grey level per unit, to first order
>>> calibrated = calibrate_direction(model, MeanGrey(), images, delta, "mean", amount=0.01, steps=5)
>>> calibrated.converged, abs(calibrated.achieved - 0.01) <= 0.01 * calibrated.tolerance
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.diffusion.autoencoder import decode, edit, encode
from workbench.latents.diffusion.directions import LinearProbe
from workbench.latents.diffusion.samplers import _alpha_bar, ddim_timesteps
from workbench.latents.diffusion.steps import ddim_step

__all__ = ["decode_with_grad", "response_jacobian", "Calibration", "calibrate_direction"]


def decode_with_grad(model, z_sem: torch.Tensor, x_T: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """:func:`~workbench.latents.diffusion.autoencoder.decode` with autograd on: the same DDIM steps.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> from workbench.latents.diffusion.autoencoder import decode
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=20, device="cpu").eval()
    >>> z, x_T = torch.zeros(1, 2, requires_grad=True), torch.randn(1, 1, 8, 8)
    >>> image = decode_with_grad(model, z, x_T, steps=4)
    >>> torch.allclose(image, decode(model, z.detach(), x_T, steps=4)), image.requires_grad
    (True, True)
    """
    a, ts, x = _alpha_bar(model), ddim_timesteps(model.schedule.num_steps, steps), x_T
    for i in reversed(range(len(ts))):
        t, prev = ts[i], ts[i - 1] if i > 0 else -1
        x = ddim_step(x, model.predict_noise(x, t, z_sem), a(t), a(prev))
    return model.to_images(x)


def response_jacobian(model, regressor, images: torch.Tensor, steps: int = 10,
                      batch: int = 32) -> list[LinearProbe]:
    """The mean Jacobian of the measured factors with respect to ``z_sem``, one probe a factor.

    For each image, ``d f_k(decode(z_sem, x_T)) / d z_sem`` at its own codes (``regressor``
    needs a differentiable ``measure(images) -> (n, k)`` in physical units); a probe's
    ``weight`` is the mean over images, its ``bias`` 0 and its ``r2`` the share of the
    per-image gradients the mean explains, ``1 - sum |g_i - g|^2 / sum |g_i|^2``
    (1 = every image responds alike).

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> _ = torch.manual_seed(0)
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=20, device="cpu").eval()
    >>> from workbench.latents.diffusion.toy import MeanGrey   # a stand-in regressor
    >>> [probe] = response_jacobian(model, MeanGrey(), torch.rand(3, 1, 8, 8), steps=4)
    >>> probe.factor, probe.weight.shape, 0 <= probe.r2 <= 1
    ('mean', torch.Size([2]), True)
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise WorkbenchInputError(f"batch must be a positive integer, got {batch!r}.")
    names = list(regressor.factor_names)
    z_all, x_T_all = encode(model, images, steps=steps)
    grads = []
    for i in range(0, len(z_all), batch):
        z = z_all[i:i + batch].clone().requires_grad_(True)
        with torch.enable_grad():
            values = regressor.measure(decode_with_grad(model, z, x_T_all[i:i + batch], steps))
            rows = [torch.autograd.grad(values[:, k].sum(), z, retain_graph=k < len(names) - 1)[0]
                    for k in range(len(names))]
        grads.append(torch.stack(rows, 1).detach().cpu().double())        # (b, k, d)
    grads = torch.cat(grads)
    mean = grads.mean(0)
    spread = (grads - mean).pow(2).sum((0, 2)) / grads.pow(2).sum((0, 2)).clamp(min=1e-300)
    return [LinearProbe(n, mean[k].clone(), 0.0, float((1 - spread[k]).clamp(0, 1)))
            for k, n in enumerate(names)]


@dataclass
class Calibration:
    """A direction rescaled so that ``amount`` units of strength move ``factor`` by ``amount``.

    ``direction`` is per unit of the factor; ``scale`` the factor it multiplied the input
    by; ``achieved`` the measured mean change at ``amount`` on the calibration images;
    ``evaluations`` how many decodes the secant search took.

    Examples
    --------
    >>> import torch
    >>> c = Calibration("thickness", torch.tensor([2.0]), 2.0, 1.0, 1.01, 0.02, 3)
    >>> c.relative_error <= c.tolerance
    True
    """

    factor: str
    direction: torch.Tensor
    scale: float
    amount: float
    achieved: float
    tolerance: float
    evaluations: int

    @property
    def relative_error(self) -> float:
        """How far the calibrated step's measured change is from the intended one, as a fraction of it."""
        return abs(self.achieved - self.amount) / abs(self.amount)

    @property
    def converged(self) -> bool:
        """Whether the search ended within ``tolerance``."""
        return self.relative_error <= self.tolerance


@torch.no_grad()
def calibrate_direction(model, regressor, images: torch.Tensor, delta, factor: str, amount: float = 1.0,
                        steps: int = 20, tolerance: float = 0.02, max_evaluations: int = 8) -> Calibration:
    """Rescale ``delta`` so that moving ``z_sem`` by ``amount * direction`` changes ``factor`` by ``amount``.

    The change is the regressor's mean over ``images`` between the edited and the
    unedited decode (same ``x_T``, ``steps`` each way), as in
    :func:`~workbench.latents.diffusion.evaluation.edit_effect`. Secant iterations on the
    scale, starting from ``delta``'s own step, stop within ``tolerance`` (relative) or after
    ``max_evaluations`` decodes; :attr:`Calibration.converged` says which.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> _ = torch.manual_seed(0)
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=20, device="cpu").eval()
    >>> from workbench.latents.diffusion.toy import MeanGrey   # a stand-in regressor
    >>> images = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> c = calibrate_direction(model, MeanGrey(), images, torch.tensor([1.0, 1.0]), "mean", amount=0.02, steps=4)
    >>> c.relative_error <= 0.02, c.direction.shape
    (True, torch.Size([2]))
    """
    names = list(regressor.factor_names)
    if factor not in names:
        raise UnknownVariableError(factor, names, what="measured factor")
    if not (float(amount) != 0 and 0 < float(tolerance) < 1 and int(max_evaluations) >= 2):
        raise WorkbenchInputError(f"Need amount != 0, 0 < tolerance < 1 and max_evaluations >= 2; got "
                                  f"{amount!r}, {tolerance!r}, {max_evaluations!r}.")
    k, amount = names.index(factor), float(amount)
    delta = torch.as_tensor(delta, dtype=torch.float64).cpu()
    z_sem, x_T = encode(model, images, steps=steps)
    before = regressor.predict(decode(model, z_sem, x_T, steps=steps))[:, k].double()

    def gap(scale):
        after = regressor.predict(edit(model, z_sem, x_T, delta * scale, amount, steps))[:, k].double()
        return float((after - before).mean()) - amount

    s0, g0 = 1.0, gap(1.0)
    if abs(g0 + amount) < 1e-9 * abs(amount):
        raise WorkbenchInputError(f"delta does not move the measured {factor!r} at all; pick another direction.")
    s1 = amount / (g0 + amount)                                         # linear rescale
    g1, evaluations = gap(s1), 2
    while abs(g1) > tolerance * abs(amount) and evaluations < int(max_evaluations) and g1 != g0:
        s0, g0, s1 = s1, g1, s1 - g1 * (s1 - s0) / (g1 - g0)
        g1, evaluations = gap(s1), evaluations + 1
    return Calibration(factor, delta * s1, s1, amount, g1 + amount, float(tolerance), evaluations)
