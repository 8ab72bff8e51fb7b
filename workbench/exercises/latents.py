"""Exercises of notebook 06 (VAE latents); checkers take the notebook's model and images.

Examples
--------
>>> import workbench.datasets as wd, workbench.latents as wl
>>> from workbench.exercises import check
>>> tcvae = wl.load_pretrained("beta_tcvae_sprites", device="cpu")
>>> held_out, _ = wd.Sprites().sample(200, generator=7)
>>> check("06", 1, [1], tcvae=tcvae, held_out=held_out)
Not yet: latent 1 is active (the variance of its mean is ...
"""

from __future__ import annotations

import torch

from workbench.exercises._answers import number
from workbench.exercises.registry import Wrong, register

__all__ = []


@register("06", 1, answers=("my_passive",), context=("tcvae", "held_out"),
          solution="means, _ = wl.encode_batched(tcvae, held_out)\n"
                   "my_passive = [j for j in range(means.shape[1]) if means[:, j].var() <= 0.01]",
          blank="set my_passive to a sorted list of latent indices, e.g. [0, 3].")
def _passive_latents(answer, *, tcvae, held_out):
    from workbench.latents import latent_activity

    if not (isinstance(answer, (list, tuple)) and all(isinstance(j, int) for j in answer)):
        raise Wrong(f"my_passive should be a list of latent indices (ints), not {answer!r}.")
    activity = latent_activity(tcvae, held_out)
    expected = activity.passive.nonzero().flatten().tolist()
    for j in answer:
        if not 0 <= j < tcvae.latent_dim:
            raise Wrong(f"the model has latents 0 .. {tcvae.latent_dim - 1}; {j} is not one.")
        if bool(activity.active[j]):
            raise Wrong(f"latent {j} is active (the variance of its mean is "
                        f"{float(activity.mean_variance[j]):.3f} > 0.01).")
    missing = sorted(set(expected) - set(answer))
    if missing:
        raise Wrong(f"latent {missing[0]} is passive too: the variance of its mean is "
                    f"{float(activity.mean_variance[missing[0]]):.4f}.")
    if list(answer) != expected:
        raise Wrong("the right latents, but give them as a sorted list.")
    return f"the passive latents are {expected}."


def _position_shift(beta_vae) -> torch.Tensor:
    """How far each latent's mean moves, on average, when ``pos_x`` goes from 0 to 1."""
    from workbench.datasets import Sprites

    sprites = Sprites()
    noise = sprites.scm.sample_noise(200, generator=8)
    left, _ = sprites.scm.counterfactual(noise, {"pos_x": 0.0})
    right, _ = sprites.scm.counterfactual(noise, {"pos_x": 1.0})
    device = next(beta_vae.parameters()).device
    with torch.no_grad():
        shift = beta_vae.encode(right.to(device))[0] - beta_vae.encode(left.to(device))[0]
    return shift.abs().mean(0).cpu()


@register("06", 2, answers=("pos_latent",), context=("beta_vae",),
          solution="n = sprites.scm.sample_noise(200, generator=8)\n"
                   'left, _ = sprites.scm.counterfactual(n, {"pos_x": 0.0})\n'
                   'right, _ = sprites.scm.counterfactual(n, {"pos_x": 1.0})\n'
                   "shift = beta_vae.encode(right.to(device))[0] - beta_vae.encode(left.to(device))[0]\n"
                   "pos_latent = int(shift.abs().mean(0).argmax())",
          blank="set pos_latent to the index of one latent.")
def _position_latent(answer, *, beta_vae):
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise Wrong(f"pos_latent should be one latent index (an int), not {answer!r}.")
    if not 0 <= answer < beta_vae.latent_dim:
        raise Wrong(f"the model has latents 0 .. {beta_vae.latent_dim - 1}.")
    shift = _position_shift(beta_vae)
    best = int(shift.argmax())
    if answer != best:
        raise Wrong(f"latent {answer}'s mean moves by {float(shift[answer]):.2f} on average when "
                    "pos_x goes from 0 to 1; another latent moves more. Encode both "
                    "counterfactual batches and compare every latent.")
    return f"latent {best} moves most ({float(shift[best]):.2f} on average) with the x position."


@register("06", 3, answers=("mean_std", "sampled_std"), context=("tcvae", "held_out"),
          solution="means, samples = wl.mean_and_sampled(tcvae, held_out, torch.Generator().manual_seed(0))\n"
                   "passive = wl.latent_activity(tcvae, held_out).passive\n"
                   "mean_std = float(means[:, passive].std(0).mean())\n"
                   "sampled_std = float(samples[:, passive].std(0).mean())",
          blank="set mean_std and sampled_std to two numbers.")
def _mean_vs_sampled(mean_std, sampled_std, *, tcvae, held_out):
    from workbench.latents import encode_batched, latent_activity

    mean_std, sampled_std = number(mean_std, "mean_std"), number(sampled_std, "sampled_std")
    activity = latent_activity(tcvae, held_out)
    passive = activity.passive
    if not bool(passive.any()):
        raise Wrong("this model has no passive latent, so there is nothing to compare.")
    means, _ = encode_batched(tcvae, held_out)
    true_mean_std = float(means[:, passive].std(0).mean())
    sigma = float(activity.posterior_variance[passive].sqrt().mean())
    if abs(mean_std - sigma) < 0.1 and abs(sampled_std - true_mean_std) < 0.02:
        raise Wrong("the two are swapped: the mean of a passive latent hardly moves; "
                    "the sampled value carries the posterior's noise.")
    if abs(mean_std - true_mean_std) > 0.02:
        raise Wrong(f"the standard deviation of the passive latents' means is not {mean_std:.3f}; "
                    "take means[:, passive].std(0) and average it over the passive latents.")
    if abs(sampled_std - sigma) > 0.1:
        raise Wrong(f"a sampled passive latent varies with the posterior's own sigma, about "
                    f"{sigma:.2f} on average, not {sampled_std:.2f}.")
    return (f"passive latents: mean representation std {true_mean_std:.3f}, sampled "
            f"{sampled_std:.2f}, the posterior's own sigma.")
