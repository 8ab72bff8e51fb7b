"""The deep SCM's image mechanisms (notebook 11): abduction, prediction, training steps.

Every :class:`~workbench.deepscm.ImageMechanism` that :mod:`workbench.deepscm` exports is
checked: those in :data:`SMALL` at small sizes with their training data, any other one
built with its defaults and checked without training (so a new mechanism is covered the
day it lands, and gets its own entry here when it needs one).
"""

from __future__ import annotations

import torch

import workbench as wb
from workbench.latents import train

from .core import compare, guarded, training_steps, twins

TOLERANCE = 1e-3        # counterfactual images in [0, 1], in full float32 (deep flows, DDIM chains)


def _cvae(cls, device):
    return cls(image_shape=(1, 16, 16), latent_dim=4, channels=8, hidden=32, device=device)


def _flow(cls, device):
    return cls((1, 16, 16), levels=2, steps=(2, 2), hidden=(8, 8), map_channels=(2, 2), device=device)


def _diffusion(cls, device):                     # workbench.deepscm.diffusion, where it has landed
    return cls(image_shape=(1, 16, 16), channels=4, steps=5, num_steps=50, device=device)


def _condition(parents):
    from workbench.deepscm import encode_parents

    return encode_parents(parents)


def _table(parents):
    from workbench.deepscm import IMAGE_PARENTS

    return torch.stack([parents[v] for v in IMAGE_PARENTS], 1)


# class name: (small builder, training data from (images, parents), or None: not trained)
SMALL = {
    "IntensityScaling": (lambda cls, device: cls(), None),
    "ConditionalVAE": (_cvae, lambda images, pa: (images, _table(pa))),
    "FlowImageMechanism": (_flow, lambda images, pa: (images, pa["digit"], pa["thickness"], pa["intensity"])),
    "DiffusionMechanism": (_diffusion, lambda images, pa: (images, _condition(pa))),
}


def image_mechanisms() -> dict:
    """``{class name: class}`` of every image mechanism :mod:`workbench.deepscm` exports."""
    from workbench import deepscm

    return {name: obj for name, obj in vars(deepscm).items() if isinstance(obj, type)
            and issubclass(obj, deepscm.ImageMechanism) and obj is not deepscm.ImageMechanism}


def _parents(n: int, g: torch.Generator) -> dict:
    return {"digit": torch.randint(0, 10, (n,), generator=g).float(),
            "thickness": 2.5 + 0.7 * torch.randn(n, generator=g),
            "intensity": 160.0 + 40.0 * torch.rand(n, generator=g)}


def _inputs(name, cls, n):
    """Images and two parent draws in the mechanism's own layout (digits', or the pendulum's)."""
    from workbench.deepscm.pendulum_parents import PENDULUM_VARIABLES, pendulum_parent_data

    shape = (1, 16, 16) if name in SMALL else tuple(getattr(cls(), "image_shape", (1, 32, 32)))
    g = torch.Generator().manual_seed(0)
    images = (torch.rand(n, *shape, generator=g) > 0.6).float() * 0.9
    if tuple(getattr(cls, "parents", ())) == PENDULUM_VARIABLES:
        factual, new = (pendulum_parent_data(n, seed=s) for s in (0, 1))
        return images, *({v: d[v] for v in PENDULUM_VARIABLES} for d in (factual, new))
    return images, _parents(n, g), _parents(n, g)


def _one(name, cls, device, n, steps):
    build, layout = SMALL.get(name, (lambda cls, device: cls(device=device), None))
    images, factual, new = _inputs(name, cls, n)
    wb.seed_everything(0)
    cpu, dev = twins(lambda d: build(cls, d), device)
    rows = [compare("deepscm", f"{name} counterfactual: abduct + predict ({n})",
                    lambda: cpu.counterfactual(images, factual, new),
                    lambda: dev.counterfactual(images.to(device), factual, new),
                    device, TOLERANCE, repeats=1, exact=True)]
    if layout is not None:
        data = layout(images, factual)
        rows.append(training_steps("deepscm", f"{name} {steps} training steps",
                                   lambda m: train(m, data, steps=steps, batch_size=16, progress=False),
                                   cpu, dev, device))
    return rows


def deepscm_checks(device, quick: bool) -> list:
    n, steps = (8, 2) if quick else (64, 20)
    rows = []
    for name, cls in sorted(image_mechanisms().items()):
        rows += guarded("deepscm", name, lambda: _one(name, cls, device, n, steps))
    return rows
