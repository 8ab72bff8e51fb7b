"""Exercise of notebook 07's domain-counterfactual section: a true counterfactual by hand.

Examples
--------
>>> from workbench.exercises import check
>>> from workbench.latents.domain_counterfactuals import LatentDomainSCM
>>> generator = LatentDomainSCM(2, seed=1)
>>> x, _, _ = generator.sample(1, seed=0)
>>> check("07", 4, x[1], generator=generator, x_obs=x[1])
Not yet: that is x itself (x' = x, "nothing changes"). Abduct the noise in domain 1, ...
>>> check("07", 4, generator.counterfactual(x[1:], 1, 0)[0], generator=generator, x_obs=x[1]).correct
True
"""

from __future__ import annotations

import torch

from workbench.exercises.registry import Wrong, register

__all__ = []


def _vector(answer, m: int) -> torch.Tensor:
    try:
        value = torch.as_tensor(answer, dtype=torch.float32).detach().reshape(-1)
    except (TypeError, ValueError, RuntimeError) as err:
        raise Wrong(f"cf_answer should be {m} numbers (a tensor of shape ({m},)), not "
                    f"{type(answer).__name__}.") from err
    if value.numel() != m:
        raise Wrong(f"cf_answer should hold {m} numbers (one per coordinate of x), got {value.numel()}.")
    if not torch.isfinite(value).all():
        raise Wrong("cf_answer holds NaN or infinite values.")
    return value


@register("07", 4, answers=("cf_answer",), context=("generator", "x_obs"),
          solution="z = generator.unobserve(x_obs[None])          # invert g: the latent of x\n"
                   "e = generator.noise_from_latent(z, 1)         # abduct the noise in domain 1\n"
                   "cf_answer = generator.observe_noise(e, 0)[0]  # domain 0's mechanisms, then g",
          blank="set cf_answer to x_obs's counterfactual in domain 0, a tensor of 6 numbers.")
def _domain_counterfactual(answer, generator, x_obs):
    x = torch.as_tensor(x_obs, dtype=torch.float32).reshape(1, -1)
    value = _vector(answer, x.shape[1])
    truth = generator.counterfactual(x, 1, 0)[0]
    z = generator.unobserve(x)
    near = lambda a, b: bool(torch.allclose(a, b, atol=1e-3, rtol=1e-3))  # noqa: E731
    if near(value, x[0]):
        raise Wrong('that is x itself (x\' = x, "nothing changes"). Abduct the noise in domain 1, '
                    "then push it through domain 0's mechanisms and g.")
    if near(value, generator.latent_from_noise(generator.noise_from_latent(z, 1), 0)[0]):
        raise Wrong("that is the counterfactual latent z'; map it to an observation with generator.observe.")
    if near(value, generator.noise_from_latent(z, 1)[0]):
        raise Wrong("that is the abducted noise e; now generate from it in domain 0.")
    if near(value, generator.observe_noise(generator.noise_from_latent(z, 0), 1)[0]):
        raise Wrong("the domains are swapped: x_obs was seen in domain 1 (abduct there) and "
                    "goes to domain 0.")
    if not near(value, truth):
        raise Wrong("invert g (generator.unobserve), abduct e in domain 1 (generator.noise_from_latent), "
                    "then generator.observe_noise(e, 0).")
    moved = float((truth - x[0]).square().mean())
    return f"the same noise in domain 0's mechanisms; it moved x by a mean square of {moved:.3f}."
