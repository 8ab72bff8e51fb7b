"""Pendulum counterfactuals against the exact ones: does do(light) move the shadow, not the pendulum?

Our renderer knows the true counterfactual of every pendulum: the same ``U_l, U_p`` (we drew
them), ``do(...)``, the equations solved and rendered again (:func:`true_counterfactual`). A
generated counterfactual is then scored where it matters (:func:`region_scores`):

* the pendulum: the rod and ball pixels (the renderer's labels 2 and 3, found by their exact
  colours in the true renders, :func:`pendulum_mask`), which ``do(phi)`` must leave alone;
* the shadow strip (:func:`shadow_strip`) and the sun, which ``do(phi)`` moves;
* pixel L1 (0-255) to the exact counterfactual beside the factual image's L1 to it (the cost
  of changing nothing), and the shadow read back from the image (:func:`measure_shadow`).

:func:`evaluate_pendulum` runs ``do(phi)`` and the control ``do(theta)`` (the pendulum and
the shadow both move) on held-out pendulums; :func:`evaluate_parents` scores the learned
shadow mechanisms' counterfactual variables against the true ones.

Examples
--------
>>> import torch
>>> values = held_out_pendulums(4, seed=0)
>>> true_images, after = true_counterfactual(values, {"phi": torch.full((4,), 2.0)})
>>> bool(torch.equal(pendulum_mask(true_images), pendulum_mask(render_pendulum(values, 32))))   # it stays put
True
"""

from __future__ import annotations

from typing import Mapping

import torch

from workbench.datasets.pendulum import BALL, ROD_COLOUR, SHADOW, SHADOW_STRIP, SUN, WORLD_X, WORLD_Y, Pendulum
from workbench.datasets.pendulum import render_pendulum
from workbench.datasets.raster import pixel_grid
from workbench.deepscm.pendulum_parents import PENDULUM_VARIABLES, SHADOWS, MIN_LENGTH, pendulum_parent_data
from workbench.metrics.soundness import pixel_l1
from workbench.metrics.soundness.generators import check_images

__all__ = ["held_out_pendulums", "true_counterfactual", "colour_mask", "pendulum_mask", "shadow_strip",
           "measure_shadow", "region_scores", "evaluate_pendulum", "evaluate_parents"]

SIZE, TEST_SEED = 32, 2026


def held_out_pendulums(n: int = 500, seed: int = TEST_SEED) -> dict[str, torch.Tensor]:
    """``n`` held-out draws of the four variables and their noise ``U_l, U_p`` (see
    :func:`~workbench.deepscm.pendulum_parents.pendulum_parent_data`).

    Examples
    --------
    >>> held_out_pendulums(3)["theta"].shape
    torch.Size([3])
    """
    return pendulum_parent_data(n, seed)


def true_counterfactual(values: Mapping, interventions: Mapping, size: int = SIZE):
    """The exact counterfactual ``(images, variables)``: the unit's own ``U_l, U_p``, ``do``, rendered.

    Examples
    --------
    >>> import torch
    >>> v = held_out_pendulums(2, seed=0)
    >>> images, after = true_counterfactual(v, {"theta": torch.zeros(2)})
    >>> images.shape, after["theta"].tolist()
    (torch.Size([2, 3, 32, 32]), [0.0, 0.0])
    """
    scm = Pendulum(size=size).scm
    noise = {"theta": values["theta"], "phi": values["phi"], "shadow_length": values["U_l"],
             "shadow_position": values["U_p"]}
    return scm.counterfactual(noise, dict(interventions))


def colour_mask(images: torch.Tensor, colour, tolerance: float = 1e-3) -> torch.Tensor:
    """``(n, H, W)``: the pixels of exactly this RGB colour (the renderer's palette).

    Examples
    --------
    >>> import torch
    >>> colour_mask(torch.ones(1, 3, 2, 2), (1.0, 1.0, 1.0)).all().item()      # the white sky
    True
    """
    target = torch.tensor(colour, dtype=images.dtype).view(1, 3, 1, 1)
    return ((images - target).abs() <= tolerance).all(1)


def pendulum_mask(images: torch.Tensor) -> torch.Tensor:
    """``(n, H, W)``: the rod and ball pixels of exact renders (labels 2 and 3).

    Examples
    --------
    >>> v = held_out_pendulums(2, seed=0)
    >>> pendulum_mask(render_pendulum(v, 32)).flatten(1).sum(1).tolist()      # a rod and a ball
    [19, 16]
    """
    return colour_mask(images, ROD_COLOUR) | colour_mask(images, BALL)


def shadow_strip(size: int = SIZE) -> torch.Tensor:
    """``(H, W)``: the ground strip's rows, where the shadow is drawn.

    Examples
    --------
    >>> shadow_strip(32).any(1).nonzero().flatten().tolist()
    [29, 30]
    """
    xs, ys = pixel_grid(size, WORLD_X, WORLD_Y)
    return ((ys[0] >= SHADOW_STRIP[0]) & (ys[0] <= SHADOW_STRIP[1])).expand(size, size)


def measure_shadow(images: torch.Tensor, tolerance: float = 0.15) -> dict[str, torch.Tensor]:
    """The shadow read back from images: ``length`` and ``position`` (world units) of the grey
    pixels in the strip (each channel within ``tolerance`` of the shadow's grey); the length is
    the mean count per strip row times the pixel width (0 when no pixel is grey).

    Examples
    --------
    >>> import torch
    >>> v = {"theta": torch.zeros(1), "phi": torch.ones(1), "shadow_length": torch.tensor([6.0]),
    ...      "shadow_position": torch.tensor([8.0])}
    >>> {k: round(float(t[0]), 1) for k, t in measure_shadow(render_pendulum(v, 32)).items()}   # 8 pixels of 0.69
    {'length': 5.5, 'position': 7.9}
    """
    size = images.shape[-1]
    strip = shadow_strip(size)
    grey = colour_mask(images, SHADOW, tolerance) & strip
    width = (WORLD_X[1] - WORLD_X[0]) / size
    xs = pixel_grid(size, WORLD_X, WORLD_Y)[0][0]
    count = grey.flatten(1).sum(1).float()
    rows = strip.any(1).sum()
    position = torch.where(count > 0, (grey * xs).flatten(1).sum(1) / count.clamp_min(1), torch.nan)
    return {"length": count / rows * width, "position": position}


def _region(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean |a - b| (0-255) over each image's masked pixels, all channels."""
    mask = mask.expand(len(a), *mask.shape[-2:]).unsqueeze(1).float()
    return 255.0 * ((a - b).abs() * mask).flatten(1).sum(1) / (3 * mask.flatten(1).sum(1)).clamp_min(1)


def region_scores(factual: torch.Tensor, generated: torch.Tensor, truth: torch.Tensor,
                  reconstruction: torch.Tensor | None = None) -> dict[str, float]:
    """Where a counterfactual changed the image, against where the truth did (means over images).

    ``pixel_l1`` / ``factual_l1``: L1 (0-255) of the generated / the factual image to the true
    counterfactual; ``{region}_change`` and ``{region}_change_true``: the mean change from the
    factual image in the pendulum (rod and ball of the factual or the true counterfactual),
    the shadow strip and the sun; ``{region}_l1``: the generated image's error there. Given the
    model's ``reconstruction`` of the factual image (its null-intervention counterfactual),
    ``{region}_action`` is the mean change from it: what the action alone did, without the
    model's reconstruction error (the truth's is ``{region}_change_true``).

    Examples
    --------
    >>> import torch
    >>> v = held_out_pendulums(3, seed=1)
    >>> x, (truth, _) = render_pendulum(v, 32), true_counterfactual(v, {"phi": torch.full((3,), 1.2)})
    >>> s = region_scores(x, truth, truth)                   # the exact counterfactual itself
    >>> s["pixel_l1"], s["pendulum_change_true"], s["shadow_change"] > 0
    (0.0, 0.0, True)
    """
    factual = check_images(factual, "factual")
    generated, truth = check_images(generated, "generated", like=factual), check_images(truth, "truth", like=factual)
    if reconstruction is not None:
        reconstruction = check_images(reconstruction, "reconstruction", like=factual)
    regions = {"pendulum": pendulum_mask(factual) | pendulum_mask(truth),
               "shadow": shadow_strip(factual.shape[-1]),
               "sun": colour_mask(factual, SUN) | colour_mask(truth, SUN)}
    out = {"pixel_l1": float(pixel_l1(generated, truth).mean()), "factual_l1": float(pixel_l1(factual, truth).mean())}
    for name, mask in regions.items():
        out[f"{name}_change"] = float(_region(generated, factual, mask).mean())
        out[f"{name}_change_true"] = float(_region(truth, factual, mask).mean())
        out[f"{name}_l1"] = float(_region(generated, truth, mask).mean())
        if reconstruction is not None:
            out[f"{name}_action"] = float(_region(generated, reconstruction, mask).mean())
    return out


def _shadow_errors(after: Mapping, true_after: Mapping, on_floor: torch.Tensor) -> dict[str, float]:
    out = {}
    for v in SHADOWS:
        error = (after[v] - true_after[v]).abs()
        out[f"{v}_mae"] = float(error.mean())
        out[f"{v}_mae_off_floor"] = float(error[~on_floor].mean())
        out[f"{v}_mae_on_floor"] = float(error[on_floor].mean()) if on_floor.any() else 0.0
    return out


def _targets(values: Mapping, seed: int) -> dict[str, torch.Tensor]:
    other = pendulum_parent_data(len(values["theta"]), seed + 1)
    return {"phi": other["phi"], "theta": other["theta"]}


def evaluate_parents(flows, n: int = 2000, seed: int = TEST_SEED) -> dict:
    """The learned shadow mechanisms' counterfactual variables against the true ones, for
    ``do(phi)`` and ``do(theta)`` to fresh draws, and the null intervention's largest change.

    Examples
    --------
    >>> from workbench.deepscm.pendulum_parents import PendulumParentFlows
    >>> r = evaluate_parents(PendulumParentFlows.new(flow="maf", transforms=1, hidden=(8,)), n=50)
    >>> sorted(r)[:2], r["on_floor_fraction"]
    (['do_phi', 'do_theta'], 0.48)
    """
    from workbench.scm import counterfactual_by_hand

    values, scm = held_out_pendulums(n, seed), flows.scm()
    units = {v: values[v] for v in PENDULUM_VARIABLES}
    on_floor = values["shadow_length"] <= MIN_LENGTH
    out = {"n": n, "seed": seed, "on_floor_fraction": round(float(on_floor.float().mean()), 4)}
    with torch.no_grad():
        for name, target in _targets(values, seed).items():
            after = counterfactual_by_hand(scm, units, {name: target}).counterfactual
            errors = _shadow_errors(after, true_counterfactual(values, {name: target}, 8)[1], on_floor)
            out[f"do_{name}"] = {k: round(x, 4) for k, x in errors.items()}
        null = counterfactual_by_hand(scm, units, {}).counterfactual
    out["null_max_abs_change"] = float(max((null[v] - units[v]).abs().max() for v in PENDULUM_VARIABLES))
    return out


def evaluate_pendulum(mechanism, parents=None, n: int = 500, seed: int = TEST_SEED) -> dict:
    """``do(phi)`` and ``do(theta)`` on ``n`` held-out pendulums (targets: fresh draws), against the truth.

    For each intervention and each set of parent mechanisms (the true equations, and the learned
    ``parents`` when given): :func:`region_scores` (with the null intervention's image as the
    reconstruction), the shadow variables' errors, the shadow read back from the image against
    the one read from the true render, and how far theta moved; ``reconstruction_l1`` is the
    null intervention's pixel L1 to the factual image.

    Examples
    --------
    >>> from workbench.deepscm.pendulum_image import PendulumCVAE
    >>> r = evaluate_pendulum(PendulumCVAE(channels=8, hidden=16), n=4)
    >>> sorted(r)[:3], r["do_phi_exact_parents"]["theta_max_abs_change"]
    (['do_phi_exact_parents', 'do_theta_exact_parents', 'n'], 0.0)
    """
    from workbench.deepscm.pendulum import PendulumDeepSCM

    values = held_out_pendulums(n, seed)
    units = {v: values[v] for v in PENDULUM_VARIABLES}
    images, on_floor = render_pendulum(values, SIZE), values["shadow_length"] <= MIN_LENGTH
    versions = {"exact_parents": PendulumDeepSCM(mechanism)}
    if parents is not None:
        versions["learned_parents"] = PendulumDeepSCM(mechanism, parents)
    out = {"n": n, "seed": seed, "reconstruction_l1": round(float(
        pixel_l1(versions["exact_parents"](images, units, {}), images).mean()), 4)}
    for name, target in _targets(values, seed).items():
        truth, true_after = true_counterfactual(values, {name: target})
        read_true = measure_shadow(truth)
        for label, scm in versions.items():
            cf = scm.counterfactual_by_hand(images, units, {name: target})
            read = measure_shadow(cf.images)
            scores = {**region_scores(images, cf.images, truth, scm(images, units, {})), **_shadow_errors(cf.parents, true_after, on_floor),
                      "theta_max_abs_change": float((cf.parents["theta"] - values["theta"]).abs().max())
                      if name == "phi" else float((cf.parents["theta"] - target).abs().max()),
                      "read_length_mae": float((read["length"] - read_true["length"]).abs().mean()),
                      "read_position_mae": float((read["position"] - read_true["position"]).abs().nanmean()),
                      "read_no_shadow": float(read["position"].isnan().float().mean())}
            out[f"do_{name}_{label}"] = {k: round(x, 4) for k, x in scores.items()}
    return out
