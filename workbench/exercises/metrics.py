"""Exercises of notebook 09 (disentanglement metrics).

Examples
--------
>>> from workbench import metrics
>>> from workbench.exercises import check
>>> z, v = metrics.constructed_codes("mixed", n_points=500, seed=0)
>>> check("09", 1, z.clone(), z=z, v=v)
Not yet: changed is z itself: permute its columns, then rescale and shift them.
"""

from __future__ import annotations

import math

import torch

from workbench.exercises._answers import choose
from workbench.exercises.registry import Wrong, register

__all__ = ["SCALES"]

SCALES = (2.0, 0.5, 4.0, 1.0, 8.0)


def _tensor(x, what: str, shape: tuple[int, int]) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise Wrong(f"{what} should be a torch tensor, not {type(x).__name__}.")
    if tuple(x.shape) != shape:
        raise Wrong(f"{what} should have shape {shape}, not {tuple(x.shape)}.")
    return x.double()


@register("09", 1, answers=("changed",), context=("z", "v"),
          solution="changed = z[:, [4, 2, 0, 3, 1]] * torch.tensor([2.0, 0.5, 4.0, 1.0, 8.0], "
                   "dtype=torch.float64) + 3.0",
          blank="build changed from z: permute its columns, multiply by (2, 0.5, 4, 1, 8), add 3.")
def _permuted_and_rescaled(changed, *, z, v):
    from workbench.metrics import mig

    changed, z = _tensor(changed, "changed", tuple(z.shape)), z.double()
    if torch.allclose(changed, z):
        raise Wrong("changed is z itself: permute its columns, then rescale and shift them.")
    corr = torch.corrcoef(torch.cat([changed, z], 1).T)[: z.shape[1], z.shape[1]:]
    source = corr.abs().argmax(1)
    if sorted(source.tolist()) != list(range(z.shape[1])) or corr.abs().max(1).values.min() < 1 - 1e-9:
        raise Wrong("each column of changed should be one column of z, rescaled and shifted "
                    "(no mixing, every column used once).")
    if source.tolist() == list(range(z.shape[1])):
        raise Wrong("the columns are still in their original order: permute them too.")
    for i, j in enumerate(source.tolist()):
        scale = float(changed[:, i].std() / z[:, j].std()) * float(torch.sign(corr[i, j]))
        shift = float((changed[:, i] - scale * z[:, j]).mean())
        if abs(scale - SCALES[i]) > 1e-6 or abs(shift - 3.0) > 1e-6:
            raise Wrong(f"column {i} is z[:, {j}] times {scale:g} plus {shift:g}; the exercise asks "
                        f"for times {SCALES[i]:g} plus 3 (multiply after permuting).")
    before, after = mig(z, v).score, mig(changed, v).score
    if abs(before - after) > 1e-12:
        raise Wrong(f"MIG moved from {before:.6f} to {after:.6f}; check the transformation.")
    return f"MIG did not move ({after:.4f})."


@register("09", 2, answers=("z_dup", "drops"), context=("z", "v"),
          solution="z_dup = torch.cat([z, z[:, :1] + 0.01 * torch.randn(len(z), 1, dtype=torch.float64)], 1)\n"
                   'drops = "mig"',
          blank='build z_dup and set drops to "mig" or "modularity".')
def _duplicated_factor(z_dup, drops, *, z, v):
    from workbench.metrics import mig, modularity

    z_dup, z = _tensor(z_dup, "z_dup", (z.shape[0], z.shape[1] + 1)), z.double()
    if not torch.equal(z_dup[:, : z.shape[1]], z):
        raise Wrong("keep the disentangled code as the first five columns and append one.")
    noise = float((z_dup[:, -1] - z[:, 0]).std())
    if not 0.005 < noise < 0.02:
        raise Wrong(f"the new column should be z[:, 0] plus noise of standard deviation 0.01; "
                    f"its difference from z[:, 0] has standard deviation {noise:.4f}.")
    choice = choose(drops, {"mig": "MIG drops", "modularity": "Modularity drops"}, right="mig",
                    hints={"modularity": "each latent still serves one factor, so Modularity "
                                         "stays; which metric needs a *gap* between latents?"})
    before, after = mig(z, v).score, mig(z_dup, v).score
    mod = modularity(z_dup, v).score
    return f"{choice}: MIG {before:.3f} -> {after:.3f}, modularity stays at {mod:.3f}."


@register("09", 3, answers=("pair",), context=("rho",),
          solution="a, b = torch.randn(2, 100_000, generator=torch.Generator().manual_seed(1), "
                   "dtype=torch.float64)\n"
                   "pair = torch.stack([a, rho * a + math.sqrt(1 - rho**2) * b], 1)",
          blank="set pair to a tensor of shape (100000, 2).")
def _correlated_pair(pair, *, rho):
    from workbench.metrics import gaussian_total_correlation

    pair = _tensor(pair, "pair", (100_000, 2))
    r = float(torch.corrcoef(pair.T)[0, 1])
    if abs(r - rho) > 0.01:
        raise Wrong(f"the two columns have correlation {r:.3f}, not {rho}: take b = rho a + "
                    "sqrt(1 - rho^2) e with a, e independent standard normals.")
    estimate = gaussian_total_correlation(pair).score
    closed = -0.5 * math.log(1 - rho**2)
    if abs(estimate - closed) > 0.01:
        raise Wrong(f"the estimate {estimate:.4f} is far from the closed form {closed:.4f}.")
    return f"estimate {estimate:.4f}, closed form {closed:.4f}."
