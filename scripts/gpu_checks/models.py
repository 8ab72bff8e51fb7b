"""The models of ``workbench.latents.MODELS``: the VAE family, CausalVAE, the factor reader."""

from __future__ import annotations

import inspect

import torch

import workbench as wb
from workbench.latents import MODELS, build_model, train

from .core import compare, guarded, training_steps, twins


def _forward(model, x: torch.Tensor) -> torch.Tensor:
    """Everything a model computes from images without randomness, as one tensor."""
    if hasattr(model, "decode"):
        mean, logvar = model.encode(x)
        return torch.cat([mean, logvar, model.decode(mean).flatten(1)], 1)
    return model.read(x)


def _trains_unlabelled(model) -> bool:
    """Whether ``workbench.latents.train`` can train it on images alone: ``loss(x, generator=...)``."""
    params = list(inspect.signature(model.loss).parameters.values())[1:]
    return all(p.default is not inspect.Parameter.empty or p.name == "generator" for p in params)


def _one_kind(kind, cls, device, side, steps, images):
    config = {"kind": kind, "image_shape": [1, side, side]}
    if "latent_dim" in inspect.signature(cls).parameters:     # CausalVAE: one per factor
        config["latent_dim"] = 6
    wb.seed_everything(0)
    cpu, dev = twins(lambda d: build_model(config, device=d), device)
    on_device = images.to(device)
    what = "encode+decode" if hasattr(cpu, "decode") else "forward"
    rows = [compare("model", f"{kind} {what} (64 images)", lambda: _forward(cpu, images),
                    lambda: _forward(dev, on_device), device, 2e-3, repeats=3)]
    if _trains_unlabelled(cpu):                 # FactorReader's loss needs labels
        rows.append(training_steps(
            "model", f"{kind} {steps} training steps",
            lambda m: train(m, images, steps=steps, batch_size=32, progress=False), cpu, dev, device))
    return rows


def model_checks(device, quick: bool) -> list:
    """Encode and decode (or read) on both devices with one set of weights; training steps."""
    side, steps = (16, 3) if quick else (64, 20)
    images = (torch.rand(64, 1, side, side, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    rows = []
    for kind, cls in MODELS.items():
        rows += guarded("model", f"{kind} encode+decode", lambda: _one_kind(kind, cls, device, side, steps, images))
    return rows
