"""Diffusion models: DDPM and the diffusion autoencoder; training, the DDIM sampler, DDIM inversion."""

from __future__ import annotations

import torch

import workbench as wb
from workbench.latents import train
from workbench.latents.diffusion import DIFFUSION_MODELS, build_diffusion, invert_ddim, sample_ddim
from workbench.latents.diffusion.fast_unet import FastUNet
from workbench.latents.diffusion.schedule import q_sample

from .core import compare, guarded, training_steps, twins

NETWORK_TOLERANCE = 2e-3    # one UNet call, TF32 convolutions allowed (as for the VAEs)
CHAIN_TOLERANCE = 1e-3      # a sampler or an inversion: many calls, compared in full float32


def _config(kind: str, side: int) -> dict:
    config = {"kind": kind, "image_shape": [1, side, side], "channels": 8, "num_steps": 100}
    if kind == "diffusion_autoencoder":
        config["semantic_dim"] = 4
    return config


def _one_kind(kind, device, side, steps, ddim_steps, n):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 1, side, side, generator=g)
    wb.seed_everything(0)
    cpu, dev = twins(lambda d: build_diffusion(_config(kind, side), device=d), device)
    t = torch.randint(0, 100, (n,), generator=g)
    noise = torch.randn(images.shape, generator=g)
    x_T = torch.randn(images.shape, generator=g)

    def condition(model, x):                    # z_sem of the images for the autoencoder, else None
        return model.semantic_condition(x)

    def eps(model, x, t, noise):                # the training loss's network call, same draws
        x0 = model.to_model(x)
        return model.unet(q_sample(model.schedule, x0, t, noise), t, condition(model, x))

    on = {k: v.to(device) for k, v in {"x": images, "t": t, "noise": noise, "x_T": x_T}.items()}
    rows = [compare("diffusion", f"{kind} training forward (eps of {n} images)",
                    lambda: eps(cpu, images, t, noise),
                    lambda: eps(dev, on["x"], on["t"], on["noise"]), device, NETWORK_TOLERANCE)]
    rows.append(compare("diffusion", f"{kind} DDIM sampler ({ddim_steps} steps)",
                        lambda: sample_ddim(cpu, x_T=x_T, steps=ddim_steps, condition=condition(cpu, images)),
                        lambda: sample_ddim(dev, x_T=on["x_T"], steps=ddim_steps,
                                            condition=condition(dev, on["x"])),
                        device, CHAIN_TOLERANCE, repeats=1, exact=True))
    rows.append(compare("diffusion", f"{kind} DDIM inversion ({ddim_steps} steps)",
                        lambda: invert_ddim(cpu, images, condition(cpu, images), steps=ddim_steps),
                        lambda: invert_ddim(dev, on["x"], condition(dev, on["x"]), steps=ddim_steps),
                        device, CHAIN_TOLERANCE, repeats=1, exact=True))
    if kind == "ddpm":      # the speed path of the DDIM counterfactuals: traced, frozen, channels-last
        fast = FastUNet(dev.unet)
        rows.append(compare("diffusion", f"FastUNet forward on the device vs the teaching UNet on the CPU "
                            f"({n} images)",
                            lambda: cpu.unet(q_sample(cpu.schedule, cpu.to_model(images), t, noise), t),
                            lambda: fast(q_sample(dev.schedule, dev.to_model(on["x"]), on["t"], on["noise"]),
                                         on["t"]),
                            device, NETWORK_TOLERANCE))
    rows.append(training_steps("diffusion", f"{kind} {steps} training steps",
                               lambda m: train(m, images, steps=steps, batch_size=16, progress=False),
                               cpu, dev, device))
    return rows


def diffusion_checks(device, quick: bool) -> list:
    side, steps, ddim_steps, n = (16, 3, 5, 16) if quick else (32, 20, 50, 64)
    rows = []
    for kind in DIFFUSION_MODELS:
        rows += guarded("diffusion", kind, lambda: _one_kind(kind, device, side, steps, ddim_steps, n))
    return rows
