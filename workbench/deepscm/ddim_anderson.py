"""Faster fixed-point DDIM inversion: a warm start, Anderson acceleration, a tolerance.

The speed code beside :func:`~workbench.deepscm.ddim_inversion.invert_ddim_fixed_point`
(the teaching version, which it equals with ``warm_start=False, memory=0, tolerance=0``:
a test pins them). Each inversion step solves the same equation ``x_t = F(x_t)``,

.. math:: F(x) = \\sqrt{a_t}\\,\\hat x_0(x_{prev}, \\epsilon_\\theta(x, t))
                 + \\sqrt{1 - a_t}\\,\\epsilon_\\theta(x, t),

with three changes, each measured on ``ddim_digits`` (``benchmarks/REPORT.md``):

1. **warm start**: the first guess takes the noise of the previous step's last UNet pass
   (free) instead of a new pass at ``x_prev``: one pass a step less, and a guess as good;
2. **Anderson acceleration** (Anderson 1965; Walker & Ni 2011): the next iterate combines the
   last ``memory`` ones by a least-squares fit of their residuals, per image. The slow steps
   are the first, least noisy ones (residuals shrink only 0.8x a plain iteration there, 0.1x
   at the noisier steps);
3. **a tolerance**: an image stops iterating at a step once its largest residual
   ``|F(x_t) - x_t|`` (model space) is at most ``tolerance``, or after ``max_iterations``;
   only the images still iterating go through the UNet, so the cost follows the need.

Examples
--------
>>> import torch
>>> from workbench.latents.diffusion import GaussianToyModel, decode_ddim
>>> from workbench.deepscm.ddim_inversion import invert_ddim_fixed_point
>>> toy = GaussianToyModel(mean=0.5, std=0.2, image_shape=(1, 4, 4), num_steps=100)   # exact noise
>>> x = 0.5 + 0.2 * torch.randn(8, 1, 4, 4, generator=torch.Generator().manual_seed(0))
>>> info = {}
>>> x_T = invert_ddim_anderson(toy, x, steps=5, tolerance=1e-6, max_iterations=20, info=info)
>>> round(float((decode_ddim(toy, x_T, steps=5) - x).abs().max()), 5), info["passes"] < 5 * 8
(0.0, True)
"""

from __future__ import annotations

import torch

from workbench.errors import WorkbenchInputError
from workbench.latents.diffusion.samplers import ddim_timesteps
from workbench.latents.diffusion.steps import ddim_inverse_step

__all__ = ["invert_ddim_anderson"]


def _check(tolerance, max_iterations, memory) -> None:
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 0:
        raise WorkbenchInputError(f"max_iterations must be a whole number >= 0, got {max_iterations!r}.")
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 0:
        raise WorkbenchInputError(f"memory (the iterates Anderson combines) must be a whole number >= 0, "
                                  f"got {memory!r}.")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
        raise WorkbenchInputError(f"tolerance must be a number >= 0 (model-space residual), got {tolerance!r}.")


def _anderson(f, g, df, dg):
    """``f - dF gamma`` with ``gamma`` the least-squares fit of ``g`` by ``dG`` (rows: images)."""
    if not df:
        return f
    dG, dF = torch.stack(dg, 2), torch.stack(df, 2)                    # (a, D, m)
    gram = dG.transpose(1, 2) @ dG
    ridge = 1e-10 * gram.diagonal(dim1=1, dim2=2).mean(1, keepdim=True).clamp_min(1e-30)
    gram = gram + ridge[:, :, None] * torch.eye(len(df), dtype=gram.dtype, device=gram.device)
    gamma = torch.linalg.solve(gram, (dG.transpose(1, 2) @ g[:, :, None]))
    return f - (dF @ gamma)[:, :, 0]


@torch.no_grad()
def invert_ddim_anderson(model, images: torch.Tensor, condition=None, *, steps: int = 50,
                         tolerance: float = 1e-4, max_iterations: int = 8, memory: int = 2,
                         warm_start: bool = True, info: dict | None = None) -> torch.Tensor:
    """DDIM inversion, each step's fixed point found by warm-started Anderson iterations.

    Parameters
    ----------
    model : DiffusionModel
    images : Tensor ``(n, C, H, W)`` in ``[0, 1]``
    condition : Tensor, optional
    steps : int
        ``S``, as :func:`~workbench.latents.diffusion.invert_ddim`.
    tolerance : float
        Stop an image's iterations at a step once ``max |F(x_t) - x_t| <= tolerance``.
    max_iterations : int
        At most this many UNet passes a step (after the first guess).
    memory : int
        Past iterates Anderson combines (0: plain fixed-point iterations).
    warm_start : bool
        First guess from the previous step's last noise (no pass) rather than ``eps(x_prev, t)``
        (with ``max_iterations=0`` the plain guess is kept: this is then plain DDIM inversion).
    info : dict, optional
        Receives ``"passes"``: the UNet passes per image the inversion took (mean).

    Returns
    -------
    Tensor ``(n, C, H, W)``: ``x_T`` in model space.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.diffusion import GaussianToyModel
    >>> from workbench.deepscm.ddim_inversion import invert_ddim_fixed_point
    >>> toy = GaussianToyModel(mean=0.5, std=0.2, image_shape=(1, 2, 2), num_steps=100)
    >>> x = torch.full((1, 1, 2, 2), 0.6)
    >>> teaching = invert_ddim_fixed_point(toy, x, steps=4, iterations=3)
    >>> bool(torch.equal(invert_ddim_anderson(toy, x, steps=4, tolerance=0, max_iterations=3, memory=0,
    ...                                       warm_start=False), teaching))
    True
    >>> invert_ddim_anderson(toy, x, memory=-1)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: memory (the iterates Anderson combines) must be a whole number >= 0, got -1.
    """
    _check(tolerance, max_iterations, memory)
    alpha_bar = model.schedule.alpha_bar.tolist()
    ts = ddim_timesteps(model.schedule.num_steps, steps)
    x = model.to_model(model.check_images(images))
    n = len(x)
    cond = model.condition_for(n, condition) if hasattr(model, "condition_for") else condition
    rows = lambda idx: None if cond is None else cond[idx]          # noqa: E731
    passes, eps_last = 0, None
    for i, t in enumerate(ts):
        a_prev, a_t = (alpha_bar[ts[i - 1]] if i > 0 else 1.0), alpha_bar[t]
        if warm_start and eps_last is not None and max_iterations > 0:     # (0 iterations: plain inversion)
            eps0 = eps_last
        else:
            eps0, passes = model.predict_noise(x, t, cond), passes + n
        x_t, eps_last = ddim_inverse_step(x, eps0, a_prev, a_t), eps0.clone()
        active = torch.arange(n, device=x.device)
        f_hist, g_hist = [], []                         # per active image, flattened
        for _ in range(max_iterations):
            eps = model.predict_noise(x_t[active], t, rows(active))
            passes += len(active)
            f = ddim_inverse_step(x[active], eps, a_prev, a_t).flatten(1)
            g = f - x_t[active].flatten(1)
            f_hist, g_hist = f_hist + [f], g_hist + [g]
            df = [b - a for a, b in zip(f_hist, f_hist[1:])][-memory:] if memory else []
            dg = [b - a for a, b in zip(g_hist, g_hist[1:])][-memory:] if memory else []
            x_t = x_t.index_copy(0, active, _anderson(f, g, df, dg).view_as(eps))
            eps_last = eps_last.index_copy(0, active, eps)
            going = g.abs().amax(1) > tolerance
            if not bool(going.any()):
                break
            active = active[going]
            f_hist, g_hist = [h[going] for h in f_hist[-memory - 1:]], [h[going] for h in g_hist[-memory - 1:]]
        x = x_t
    if info is not None:
        info["passes"] = passes / max(n, 1)
    return x
