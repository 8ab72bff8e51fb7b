"""Semantic directions: unsupervised (principal components) and supervised (linear probes).

Two ways to find a direction along which to edit an image's semantic code:

* **Unsupervised** (Haas et al. 2024, "Discovering interpretable directions in h-space"):
  principal components of codes over many images, either the diffusion autoencoder's
  ``z_sem`` or the UNet's bottleneck activations (*h-space*, Kwon et al. 2023) at one
  timestep. Nothing tells a component what it means; :func:`factor_correlations`
  checks it against the ground-truth factors our data sets know.
* **Supervised**: a linear probe ``factor ~ w . z + b`` per known factor, fitted by least
  squares. :func:`edit_direction` returns the smallest move ``delta`` of ``z`` that
  changes the chosen factor's probe by one unit while leaving every other probe's
  reading unchanged (``delta = W^+ e_k``, the pseudo-inverse of the probes' weights).
  Probes of the *encoder* (:func:`fit_probes`) say where a factor is written in
  ``z_sem``; that need not be the direction the *decoder* reads it from. Probes of the
  decoder's response (:func:`response_probes`) fit, over random small moves of ``z_sem``,
  how the factors a regressor measures on the decoded images change: a first-order
  model of the decoder, supervised by the regressor, on which :func:`edit_direction`
  works the same way.

Examples
--------
>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> z = torch.randn(500, 3, generator=g)
>>> factors = torch.stack([2 * z[:, 0] + z[:, 1], z[:, 1] - z[:, 2]], 1)
>>> probes = fit_probes(z, factors, ["a", "b"])
>>> [round(p.r2, 3) for p in probes]
[1.0, 1.0]
>>> delta = edit_direction(probes, "a")
>>> [round(float(p.predict(z[:1] + delta) - p.predict(z[:1])), 4) for p in probes]
[1.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents.diffusion.autoencoder import decode, encode
from workbench.latents.diffusion.schedule import check_timesteps, q_sample
from workbench.latents.diffusion.samplers import standard_normal

__all__ = ["PrincipalDirections", "principal_directions", "h_space_codes", "LinearProbe",
           "fit_probes", "response_probes", "edit_direction", "factor_correlations"]


def _matrix(codes, name="codes", min_rows: int = 3) -> torch.Tensor:
    codes = torch.as_tensor(codes, dtype=torch.float64).cpu()
    if codes.dim() != 2 or len(codes) < min_rows:
        raise ShapeError(f"{name} must be a matrix (n >= {min_rows}, d), got shape {tuple(codes.shape)}.")
    if not torch.isfinite(codes).all():
        raise WorkbenchInputError(f"{name} contain NaN or infinite values.")
    return codes


@dataclass
class PrincipalDirections:
    """``components`` (k, d), unit rows by decreasing variance; ``explained`` variance fractions.

    Examples
    --------
    >>> import torch
    >>> pcs = principal_directions(torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [2.0, 1.0]]), k=1)
    >>> pcs.components.abs().tolist(), pcs.scores([[6.0, 0.0]]).abs().round(decimals=3).tolist()
    ([[1.0, 0.0]], [[2.449]])
    """

    mean: torch.Tensor
    components: torch.Tensor
    explained: torch.Tensor
    scale: torch.Tensor

    def scores(self, codes) -> torch.Tensor:
        """Coordinates of ``codes`` along the components, in standard deviations."""
        codes = _matrix(codes, min_rows=1)
        if codes.shape[1] != len(self.mean):
            raise ShapeError(f"codes must have {len(self.mean)} columns like those the directions were "
                             f"fitted on, got shape {tuple(codes.shape)}.")
        return (codes - self.mean) @ self.components.T / self.scale


def principal_directions(codes, k: int = 5) -> PrincipalDirections:
    """The top ``k`` principal components of ``codes`` ``(n, d)``.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> codes = torch.randn(200, 3, generator=g) * torch.tensor([3.0, 1.0, 0.1])
    >>> pcs = principal_directions(codes, k=2)
    >>> pcs.components.abs().argmax(1).tolist(), round(float(pcs.explained.sum()), 2)
    ([0, 1], 1.0)
    """
    codes = _matrix(codes)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= min(codes.shape):
        raise WorkbenchInputError(f"k must be between 1 and {min(codes.shape)}, got {k!r}.")
    mean = codes.mean(0)
    _, s, vh = torch.linalg.svd(codes - mean, full_matrices=False)
    var = s ** 2 / (len(codes) - 1)
    return PrincipalDirections(mean, vh[:k], var[:k] / var.sum(), var[:k].sqrt())


@torch.no_grad()
def h_space_codes(model, images: torch.Tensor, t: int = 500, condition=None, generator=0) -> torch.Tensor:
    """The UNet's bottleneck activations (h-space) for images noised to step ``t``, flattened.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion.model import DiffusionModel
    >>> model = DiffusionModel((1, 16, 16), channels=4, num_steps=100, device="cpu").eval()
    >>> h = h_space_codes(model, torch.rand(3, 1, 16, 16), t=50)
    >>> h.shape[0], h.dim()
    (3, 2)
    """
    if check_timesteps(t, model.schedule.num_steps).shape != (1,):
        raise WorkbenchInputError(f"t must be one timestep (an int), got {t!r}.")
    x0 = model.to_model(model.check_images(images))
    noise = standard_normal(x0.shape, generator, x0.device)
    x_t = q_sample(model.schedule, x0, torch.tensor([int(t)]), noise)
    _, h = model.predict_noise(x_t, int(t), condition, return_h=True)
    return h.flatten(1).cpu()


@dataclass
class LinearProbe:
    """``factor ~ weight . z + bias``; ``r2`` is the fit's coefficient of determination.

    Examples
    --------
    >>> import torch
    >>> probe = LinearProbe("thickness", torch.tensor([0.5, -1.0], dtype=torch.float64), 2.0, 0.9)
    >>> probe.predict([[2.0, 1.0], [0.0, 0.0]]).tolist()
    [2.0, 2.0]
    """

    factor: str
    weight: torch.Tensor
    bias: float
    r2: float

    def predict(self, codes) -> torch.Tensor:
        """The probe's reading of codes: ``codes @ weight + bias``."""
        return torch.as_tensor(codes, dtype=torch.float64).cpu() @ self.weight + self.bias


def fit_probes(codes, factors, names, ridge: float = 1e-6) -> list[LinearProbe]:
    """One least-squares probe per column of ``factors`` ``(n, k)`` (values, not indices).

    Examples
    --------
    >>> import torch
    >>> z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    >>> [probe] = fit_probes(z, 3 * z[:, :1] - 1, ["a"])
    >>> probe.weight.round(decimals=4).tolist(), round(probe.bias, 4), round(probe.r2, 4)
    ([3.0, 0.0], -1.0, 1.0)
    """
    codes, factors = _matrix(codes), _matrix(factors, "factors")
    if len(codes) != len(factors) or factors.shape[1] != len(names):
        raise ShapeError(f"codes {tuple(codes.shape)}, factors {tuple(factors.shape)} and "
                         f"{len(names)} names do not match.")
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float)) or not 0 <= ridge < float("inf"):
        raise WorkbenchInputError(f"ridge must be a finite number >= 0 (a small penalty like 1e-6), got {ridge!r}.")
    design = torch.cat([codes, torch.ones(len(codes), 1, dtype=codes.dtype)], 1)
    gram = design.T @ design + ridge * len(codes) * torch.eye(design.shape[1], dtype=codes.dtype)
    coef = torch.linalg.solve(gram, design.T @ factors)
    residual = factors - design @ coef
    r2 = 1 - residual.pow(2).sum(0) / (factors - factors.mean(0)).pow(2).sum(0).clamp(min=1e-300)
    return [LinearProbe(str(n), coef[:-1, j].clone(), float(coef[-1, j]), float(r2[j]))
            for j, n in enumerate(names)]


@torch.no_grad()
def response_probes(model, regressor, images, steps: int = 10, moves: int = 32, size: float = 0.5,
                    generator=0) -> list[LinearProbe]:
    """Probes of the decoder: how each measured factor responds to moves of ``z_sem``.

    Each of ``moves`` random moves ``dz`` (per dimension ``size`` times the codes' spread)
    is added to every image's ``z_sem``; the images are decoded from their own ``x_T`` and
    the regressor's mean change of each factor is regressed on ``dz`` (least squares, no
    intercept: no move, no change). ``r2`` says how linear the response is. The moves
    are finite and few, so this is a noisy estimate of the decoder's Jacobian;
    :func:`~workbench.latents.diffusion.edits.response_jacobian` computes it exactly.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion.model import DiffusionAutoencoder
    >>> _ = torch.manual_seed(0)
    >>> model = DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=20, device="cpu").eval()
    >>> from workbench.latents.diffusion.toy import MeanGrey   # a stand-in regressor
    >>> [probe] = response_probes(model, MeanGrey(), torch.rand(2, 1, 8, 8), steps=3, moves=6, size=0.05)
    >>> probe.weight.shape, probe.r2 > 0.9
    (torch.Size([2]), True)
    """
    if moves < 2:
        raise WorkbenchInputError(f"moves must be at least 2, got {moves!r}.")
    z, x_T = encode(model, images, steps=steps)
    base = regressor.predict(decode(model, z, x_T, steps=steps))
    spread = z.std(0).cpu().double() * float(size)
    gen = torch.Generator().manual_seed(int(generator))
    dz = torch.randn(int(moves), z.shape[1], generator=gen, dtype=torch.float64) * spread
    change = torch.stack([(regressor.predict(decode(model, z + d.float().to(z.device), x_T, steps=steps))
                           - base).mean(0).double() for d in dz])
    coef = torch.linalg.lstsq(dz, change).solution                       # (d, k)
    residual = change - dz @ coef
    r2 = 1 - residual.pow(2).sum(0) / change.pow(2).sum(0).clamp(min=1e-300)
    return [LinearProbe(str(n), coef[:, j].clone(), 0.0, float(r2[j]))
            for j, n in enumerate(regressor.factor_names)]


def edit_direction(probes: list[LinearProbe], factor: str, keep: list[str] | None = None,
                   follow: dict[str, float] | None = None) -> torch.Tensor:
    """The smallest ``delta`` that moves ``factor``'s probe by +1, ``keep``'s by 0 and ``follow``'s as given.

    ``keep`` defaults to all the other probes not in ``follow``; ``follow`` maps a probe to
    how far it should move per unit of ``factor`` (a causal edit lets a child follow its
    mechanism, e.g. ``{"intensity": 73.0}`` grey levels per pixel of thickness). With
    ``follow`` empty this is ``factor``'s weight projected onto the null space of the kept
    weights, scaled to move ``factor`` by one unit: the edit orthogonal, in the probes'
    terms, to everything kept.

    Examples
    --------
    >>> import torch
    >>> probes = [LinearProbe("a", torch.tensor([1.0, 1.0], dtype=torch.float64), 0.0, 1.0),
    ...           LinearProbe("b", torch.tensor([0.0, 1.0], dtype=torch.float64), 0.0, 1.0)]
    >>> edit_direction(probes, "a").tolist()
    [1.0, 0.0]
    >>> edit_direction(probes, "a", follow={"b": 2.0}).tolist()
    [-1.0, 2.0]
    """
    names = [p.factor for p in probes]
    follow = dict(follow or {})
    for n in [factor, *follow, *(keep or [])]:
        if n not in names:
            raise UnknownVariableError(n, names, what="probed factor")
    keep = [n for n in names if n != factor and n not in follow] if keep is None else list(keep)
    chosen = [factor] + keep + list(follow)
    if len(set(chosen)) != len(chosen):
        raise WorkbenchInputError(f"{factor!r}, keep {keep} and follow {list(follow)} must not overlap.")
    rows = torch.stack([probes[names.index(n)].weight for n in chosen])
    target = torch.tensor([1.0] + [0.0] * len(keep) + [float(v) for v in follow.values()], dtype=torch.float64)
    return torch.linalg.pinv(rows) @ target


def factor_correlations(scores, factors) -> torch.Tensor:
    """``|corr|`` between each score column and each factor column: ``(k, f)``.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    >>> factor_correlations(scores, torch.cat([-2 * scores, torch.tensor([[1.0], [0.0], [0.0], [1.0]])], 1))
    tensor([[1., 0.]], dtype=torch.float64)
    """
    a, b = _matrix(scores, "scores"), _matrix(factors, "factors")
    if len(a) != len(b):
        raise ShapeError(f"scores and factors need one row per image each, got {len(a)} and {len(b)} rows.")
    a, b = (a - a.mean(0)) / a.std(0).clamp(min=1e-12), (b - b.mean(0)) / b.std(0).clamp(min=1e-12)
    return (a.T @ b / (len(a) - 1)).abs()
