"""Measuring generated and edited images with factor regressors instead of FID.

Our data sets know the factor distribution of their images, so the quality of a
sampler can be read off as how far the factors of its samples are from the data's:
:func:`factor_distance` is the 1-D Wasserstein-1 distance per factor between the values
a :class:`~workbench.latents.diffusion.regressors.FactorRegressor` reads off samples and
off real images, in units of the factor's range (0 = the same distribution).
:func:`edit_effect` measures a semantic edit the same way: how far the intended factor
moved against the intended amount, and how far every other factor moved.

Examples
--------
>>> import torch
>>> wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([0.5, 1.5]))
0.5
"""

from __future__ import annotations

import torch

from workbench.errors import WorkbenchInputError
from workbench.latents.diffusion.autoencoder import decode, edit, encode

__all__ = ["wasserstein_1d", "factor_distance", "edit_effect"]


def wasserstein_1d(a: torch.Tensor, b: torch.Tensor, quantiles: int = 512) -> float:
    """``W_1`` between two samples of one variable: the mean gap between their quantile functions.

    Examples
    --------
    >>> import torch
    >>> wasserstein_1d(torch.tensor([0.0, 1.0, 2.0]), torch.tensor([2.0, 1.0, 0.0]))
    0.0
    >>> round(wasserstein_1d(torch.zeros(4), torch.tensor([0.0, 0.0, 1.0, 1.0])), 3)
    0.5
    """
    a, b = a.flatten().double(), b.flatten().double()
    if len(a) < 2 or len(b) < 2:
        raise WorkbenchInputError("wasserstein_1d needs at least two values in each sample.")
    q = (torch.arange(quantiles, dtype=torch.float64) + 0.5) / quantiles
    return float((torch.quantile(a, q) - torch.quantile(b, q)).abs().mean())


def factor_distance(regressor, samples: torch.Tensor, reference: torch.Tensor) -> dict:
    """Per-factor ``W_1 / range`` between regressed factors of ``samples`` and of ``reference`` images.

    Examples
    --------
    >>> import torch
    >>> class Mean:                                   # a stand-in regressor: the mean grey level
    ...     factor_names, factor_range = ["mean"], torch.tensor([0.5])
    ...     def predict(self, x):
    ...         return x.mean(dim=(1, 2, 3))[:, None]
    >>> dark, light = torch.full((8, 1, 4, 4), 0.2), torch.full((8, 1, 4, 4), 0.4)
    >>> {k: round(v, 3) for k, v in factor_distance(Mean(), dark, light)["per_factor"].items()}
    {'mean': 0.4}
    """
    got, want, span = regressor.predict(samples), regressor.predict(reference), regressor.factor_range
    per = {n: wasserstein_1d(got[:, k], want[:, k]) / float(span[k])
           for k, n in enumerate(regressor.factor_names)}
    return {"per_factor": per, "mean": sum(per.values()) / len(per)}


def edit_effect(model, regressor, images: torch.Tensor, delta, amount: float, factor: str,
                steps: int = 20) -> dict:
    """Edit ``images`` by ``amount * delta`` in ``z_sem`` and measure every factor's change.

    The change is measured against the unedited reconstruction (same ``x_T``, same steps),
    so reconstruction error does not count as an edit. Returns the intended and achieved
    change of ``factor`` (in its units), their relative gap, and each other factor's mean
    absolute change as a fraction of its range.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> _ = torch.manual_seed(0)
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=20, device="cpu").eval()
    >>> class Halves:                                 # a stand-in regressor: top and bottom grey
    ...     factor_names, factor_range = ["top", "bottom"], torch.tensor([1.0, 1.0])
    ...     def predict(self, x):
    ...         return torch.stack([x[:, :, :4].mean((1, 2, 3)), x[:, :, 4:].mean((1, 2, 3))], 1).cpu()
    >>> effect = edit_effect(model, Halves(), torch.rand(2, 1, 8, 8), torch.zeros(2), 1.0, "top", steps=3)
    >>> effect["achieved"], effect["relative_error"], effect["others_over_range"]
    (0.0, 1.0, {'bottom': 0.0})
    """
    names = list(regressor.factor_names)
    if factor not in names:
        raise WorkbenchInputError(f"factor {factor!r} is not one the regressor measures: {names}.")
    z_sem, x_T = encode(model, images, steps=steps)
    before = regressor.predict(decode(model, z_sem, x_T, steps=steps))
    after = regressor.predict(edit(model, z_sem, x_T, delta, amount, steps=steps))
    change, k = after - before, names.index(factor)
    achieved = float(change[:, k].mean())
    others = {n: float(change[:, j].abs().mean() / regressor.factor_range[j])
              for j, n in enumerate(names) if j != k}
    return {"factor": factor, "intended": float(amount), "achieved": achieved,
            "relative_error": abs(achieved - amount) / abs(amount) if amount else float("nan"),
            "others_over_range": others, "before": before, "after": after}
