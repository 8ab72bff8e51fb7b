"""A conditional diffusion model as the image mechanism, with DDIM inversion as abduction.

The mechanism is ``image := DDIM-decode(x_T; digit, thickness, intensity)``: a
:class:`~workbench.latents.diffusion.model.DiffusionModel` whose UNet is conditioned on
:func:`~workbench.deepscm.mechanism.encode_parents` (12 numbers), trained with DDPM's loss
through the one training loop on images and their parents. The three steps:

1. **abduction**: deterministic DDIM inversion under the factual parents,
   ``x_T = invert_ddim(model, image, condition, steps=S)``: the image noise (the slant and
   whatever else the parents do not say); with ``iterations = k > 0`` each inversion step is
   refined by ``k`` fixed-point iterations (:mod:`~workbench.deepscm.ddim_inversion`), so that
   decoding undoes it more exactly;
2. **action**: new parents;
3. **prediction**: ``decode_ddim(model, x_T, new_condition, steps=S)``.

This is CausalDiffAE's recipe (Komanduri et al. 2024) with real DDIM inversion: their code
abducts by stochastic noising, so its null intervention does not return the image. DDIM
inversion is deterministic but only approximately the inverse of decoding (each inverse step
evaluates the noise at the less noisy end), so :attr:`DiffusionMechanism.exact` is False and
the error shrinks as ``S`` grows (and as the fixed-point ``iterations`` do). The pretrained
``ddim_digits`` defaults to ``S = 15`` with the Anderson solver (``solver="anderson"``: at most
12 warm-started iterations a step, stopped at the residual ``tolerance = 1e-3``), 81 UNet passes
a counterfactual where the teaching loop's ``S = 50, k = 4`` took 300 for a worse
composition; it meets issue 17's goals (its manifest entry's ``evaluation`` and
``benchmarks/REPORT.md`` hold the numbers).

With ``semantic_dim > 0`` a semantic encoder (as in a diffusion autoencoder, and in
CausalDiffAE) adds ``z_sem = Enc(image)`` to the condition; the noise is then the pair
:class:`SemanticNoise` ``(z_sem, x_T)`` and a counterfactual keeps both.

Examples
--------
>>> import torch
>>> mech = DiffusionMechanism(channels=4, num_steps=50, device="cpu").eval()
>>> pa = {"digit": torch.tensor([7.0]), "thickness": torch.tensor([2.5]),
...       "intensity": torch.tensor([160.0])}
>>> x = torch.rand(1, 1, 32, 32)
>>> x_T = mech.abduct(x, pa, steps=5)
>>> x_T.shape, mech.predict(x_T, pa, steps=5).shape
(torch.Size([1, 1, 32, 32]), torch.Size([1, 1, 32, 32]))
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import torch

from workbench.deepscm.ddim_anderson import invert_ddim_anderson
from workbench.deepscm.ddim_inversion import invert_ddim_fixed_point
from workbench.deepscm.mechanism import ImageMechanism, encode_parents
from workbench.errors import ShapeError, WorkbenchInputError
from workbench.latents.diffusion.fast_unet import FastDiffusion
from workbench.latents.diffusion.model import DiffusionModel
from workbench.latents.diffusion.samplers import decode_ddim
from workbench.latents.diffusion.unet import SemanticEncoder
from workbench.latents.pretrained import register_builder
from workbench.runtime import device as runtime_device

__all__ = ["DiffusionMechanism", "SemanticNoise", "CONDITION_DIM", "SOLVERS", "build_diffusion_mechanism",
           "check_steps"]

#: length of :func:`encode_parents`'s vector: 10 digit classes, thickness, intensity
CONDITION_DIM = 12

#: how each inversion step's fixed point is found: the teaching loop of ``iterations`` plain
#: iterations, or the warm-started Anderson iterations that stop at ``tolerance``
#: (:mod:`~workbench.deepscm.ddim_anderson`; ``iterations`` is then their most a step)
SOLVERS = ("fixed_point", "anderson")


class SemanticNoise(NamedTuple):
    """The image noise of a mechanism with a semantic encoder: ``z_sem`` and ``x_T``.

    Examples
    --------
    >>> import torch
    >>> noise = SemanticNoise(torch.zeros(2, 4), torch.zeros(2, 1, 32, 32))
    >>> noise.z_sem.shape, len(noise.x_T)
    (torch.Size([2, 4]), 2)
    """

    z_sem: torch.Tensor
    x_T: torch.Tensor


def check_steps(steps, num_steps: int) -> int:
    """``steps`` if it is a whole number of DDIM steps from 1 to ``num_steps``, else a typed error.

    Examples
    --------
    >>> check_steps(20, 1000)
    20
    >>> check_steps(0, 1000)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: steps must be a whole number of DDIM steps from 1 to 1000 (the model's T), got 0.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= num_steps:
        raise WorkbenchInputError(f"steps must be a whole number of DDIM steps from 1 to {num_steps} "
                                  f"(the model's T), got {steps!r}.")
    return steps


def _check_iterations(iterations) -> int:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise WorkbenchInputError(f"iterations (fixed-point refinements of each inversion step) must be a "
                                  f"whole number >= 0, got {iterations!r}.")
    return iterations


def _check_solver(solver, tolerance) -> tuple[str, float]:
    if solver not in SOLVERS:
        raise WorkbenchInputError(f"solver must be one of {SOLVERS}, got {solver!r}.")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
        raise WorkbenchInputError(f"tolerance must be a number >= 0 (model-space residual), got {tolerance!r}.")
    return solver, float(tolerance)


class DiffusionMechanism(ImageMechanism):
    """Conditional DDIM image mechanism: abduct by DDIM inversion, predict by DDIM decoding.

    Parameters
    ----------
    image_shape : (C, S, S)
    channels : int
        Width of the UNet's first level.
    semantic_dim : int
        0 (the default): the parents are the whole condition. ``> 0``: a semantic encoder's
        ``z_sem`` of this length is added to it (and to the noise).
    steps : int
        The default number of DDIM steps ``S`` of :meth:`abduct` and :meth:`predict`.
    iterations : int
        The default number of fixed-point refinements of each inversion step (0: plain DDIM
        inversion; each one costs another UNet pass a step); with ``solver="anderson"``, the
        most a step.
    solver : {"fixed_point", "anderson"}
        ``"fixed_point"``: the teaching loop (:mod:`~workbench.deepscm.ddim_inversion`);
        ``"anderson"``: warm-started Anderson iterations stopped at ``tolerance``
        (:mod:`~workbench.deepscm.ddim_anderson`), the same fixed point for fewer passes.
    tolerance : float
        With ``solver="anderson"``: an image stops iterating at a step once its largest
        residual (model space) is at most this.
    num_steps, schedule : the diffusion's ``T`` and noise schedule.
    fast : bool
        Run :meth:`abduct` and :meth:`predict` through
        :class:`~workbench.latents.diffusion.fast_unet.FastUNet` (the same noise prediction to
        float rounding, about 0.75x the time on a CPU thread; not part of :attr:`config`, the
        attribute can be set at any time). The soundness table sets it.
    device : optional

    Examples
    --------
    >>> import torch
    >>> mech = DiffusionMechanism(channels=4, semantic_dim=3, num_steps=50, steps=5, device="cpu")
    >>> condition = mech.condition({"digit": torch.tensor([1.0, 2.0]), "thickness": torch.ones(2),
    ...                             "intensity": torch.full((2,), 100.0)})
    >>> loss, terms = mech.loss(torch.rand(2, 1, 32, 32), condition, generator=torch.Generator().manual_seed(0))
    >>> sorted(terms), type(mech.abduct(torch.rand(2, 1, 32, 32), condition)).__name__
    (['loss'], 'SemanticNoise')
    """

    kind = "deepscm_ddim"
    exact = False
    #: the same inputs give the same counterfactuals (no sampling anywhere): the soundness table
    #: may answer an exact repeat from memory (:class:`~workbench.deepscm.table_workers.BatchRunner`)
    deterministic = True

    def __init__(self, image_shape=(1, 32, 32), channels: int = 16, semantic_dim: int = 0, steps: int = 20,
                 iterations: int = 0, num_steps: int = 1000, schedule: str = "linear", solver: str = "fixed_point",
                 tolerance: float = 1e-3, fast: bool = False, device=None):
        super().__init__()
        if isinstance(semantic_dim, bool) or not isinstance(semantic_dim, int) or semantic_dim < 0:
            raise WorkbenchInputError(f"semantic_dim must be a whole number >= 0, got {semantic_dim!r}.")
        self.semantic_dim = semantic_dim
        self.diffusion = DiffusionModel(image_shape, channels, CONDITION_DIM + semantic_dim,
                                        schedule=schedule, num_steps=num_steps, device="cpu")
        self.steps = check_steps(steps, self.diffusion.schedule.num_steps)
        self.iterations = _check_iterations(iterations)
        self.solver, self.tolerance = _check_solver(solver, tolerance)
        self.encoder = SemanticEncoder(self.diffusion.image_shape, semantic_dim) if semantic_dim else None
        self.kl_scale = 1.0                          # set by the shared training loop; unused
        self.fast, self._fast_diffusion = bool(fast), None
        self.to(runtime_device(device))

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_fast_diffusion"] = None              # a traced copy: rebuilt where it is needed
        return state

    def _noise_model(self):
        """The diffusion model the samplers run: itself, or (``fast``) its :class:`FastDiffusion`."""
        if not self.fast:
            return self.diffusion
        if self._fast_diffusion is None or self._fast_diffusion.model is not self.diffusion:
            self._fast_diffusion = FastDiffusion(self.diffusion)
        return self._fast_diffusion

    @property
    def image_shape(self) -> tuple:
        """``(C, H, W)`` of the images this mechanism draws."""
        return self.diffusion.image_shape

    @property
    def config(self) -> dict:
        """The settings that rebuild this mechanism (:func:`build_diffusion_mechanism`)."""
        d = self.diffusion
        return {"kind": self.kind, "image_shape": list(d.image_shape), "channels": d.channels,
                "semantic_dim": self.semantic_dim, "steps": self.steps, "iterations": self.iterations,
                "num_steps": d.schedule.num_steps, "schedule": d.schedule_name, "solver": self.solver,
                "tolerance": self.tolerance}

    def condition(self, parents) -> torch.Tensor:
        """The parents' condition vector ``(n, 12)`` on this device; a tensor passes through."""
        if torch.is_tensor(parents):
            if parents.dim() != 2 or parents.shape[1] != CONDITION_DIM:
                raise ShapeError(f"A condition tensor must have shape (n, {CONDITION_DIM}) "
                                 f"(encode_parents' output), got {tuple(parents.shape)}.")
            return parents.to(self.device, torch.float32)
        return encode_parents(parents, device=self.device)

    def _full_condition(self, condition: torch.Tensor, z_sem) -> torch.Tensor:
        return condition if z_sem is None else torch.cat([condition, z_sem], 1)

    def _steps(self, steps) -> int:
        return self.steps if steps is None else check_steps(steps, self.diffusion.schedule.num_steps)

    def _images(self, images, condition) -> torch.Tensor:
        images = self.diffusion.check_images(torch.as_tensor(images))
        if len(images) != len(condition):
            raise ShapeError(f"{len(images)} images but parents for {len(condition)}: give one value "
                             "of each parent per image.")
        return images

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The semantic code ``z_sem`` of ``[0, 1]`` images (needs ``semantic_dim > 0``)."""
        if self.encoder is None:
            raise WorkbenchInputError("This mechanism has no semantic encoder (semantic_dim=0).")
        return self.encoder(self.diffusion.to_model(self.diffusion.check_images(images)))

    def loss(self, images: torch.Tensor, condition: torch.Tensor, generator=None):
        """DDPM's loss on ``(images, encode_parents(parents))`` pairs, as the training loop passes them."""
        condition = self.condition(condition)
        images = self._images(images, condition)
        z_sem = self.encode(images) if self.encoder is not None else None
        return self.diffusion.loss(images, generator=generator,
                                   condition=self._full_condition(condition, z_sem))

    @torch.no_grad()
    def abduct(self, images: torch.Tensor, parents: Mapping[str, torch.Tensor], steps: int | None = None,
               iterations: int | None = None):
        """The image noise: ``x_T``, deterministic DDIM inversion under the parents in ``steps`` steps,
        each refined by ``iterations`` fixed-point iterations (None: the mechanism's defaults; with
        ``solver="anderson"`` at most that many, stopped at ``tolerance``);
        with a semantic encoder, :class:`SemanticNoise` ``(z_sem, x_T)``."""
        steps, condition = self._steps(steps), self.condition(parents)
        iterations = self.iterations if iterations is None else _check_iterations(iterations)
        images = self._images(images, condition)
        z_sem = self.encode(images) if self.encoder is not None else None
        condition = self._full_condition(condition, z_sem)
        self.solver, self.tolerance = _check_solver(self.solver, self.tolerance)
        if self.solver == "anderson":
            x_T = invert_ddim_anderson(self._noise_model(), images, condition, steps=steps,
                                       tolerance=self.tolerance, max_iterations=iterations)
        else:
            x_T = invert_ddim_fixed_point(self._noise_model(), images, condition, steps=steps,
                                          iterations=iterations)
        return x_T if z_sem is None else SemanticNoise(z_sem, x_T)

    @torch.no_grad()
    def predict(self, noise, parents: Mapping[str, torch.Tensor], steps: int | None = None) -> torch.Tensor:
        """Images in ``[0, 1]``: deterministic DDIM decoding of the noise under the parents."""
        steps, condition = self._steps(steps), self.condition(parents)
        z_sem, x_T = (None, noise) if self.encoder is None else self._semantic_noise(noise)
        x_T = torch.as_tensor(x_T)
        if x_T.dim() != 4 or tuple(x_T.shape[1:]) != self.image_shape or len(x_T) != len(condition):
            raise ShapeError(f"The noise x_T must have shape ({len(condition)}, "
                             f"{', '.join(map(str, self.image_shape))}) (one per parent row), got {tuple(x_T.shape)}.")
        return decode_ddim(self._noise_model(), x_T.to(self.device), self._full_condition(condition, z_sem),
                           steps=steps)

    def _semantic_noise(self, noise):
        if not isinstance(noise, tuple) or len(noise) != 2:
            raise WorkbenchInputError("This mechanism has a semantic encoder: its noise is "
                                      "SemanticNoise(z_sem, x_T), as abduct returns it.")
        z_sem, x_T = noise
        return torch.as_tensor(z_sem, dtype=torch.float32, device=self.device), x_T

    @torch.no_grad()
    def counterfactual(self, images, parents, new_parents, steps: int | None = None,
                       iterations: int | None = None) -> torch.Tensor:
        """Abduct under ``parents``, predict under ``new_parents``, both with ``steps`` DDIM steps."""
        images = torch.as_tensor(images).to(self.device)
        noise = self.abduct(images, parents, steps, iterations)
        return self.predict(noise, new_parents, steps).clamp(0.0, 1.0)


def build_diffusion_mechanism(config: dict, device=None) -> DiffusionMechanism:
    """A fresh :class:`DiffusionMechanism` from its ``config`` (the builder ``load_pretrained`` uses).

    Examples
    --------
    >>> mech = DiffusionMechanism(channels=4, num_steps=50, steps=5, device="cpu")
    >>> build_diffusion_mechanism(mech.config).config == mech.config
    True
    """
    config = dict(config)
    if config.pop("kind", DiffusionMechanism.kind) != DiffusionMechanism.kind:
        raise WorkbenchInputError(f"Not a {DiffusionMechanism.kind!r} configuration: {config}.")
    try:
        return DiffusionMechanism(**config, device=device)
    except TypeError as exc:
        raise WorkbenchInputError(f"Bad settings for a {DiffusionMechanism.kind!r} mechanism: {exc}.") from exc


register_builder(DiffusionMechanism.kind, build_diffusion_mechanism)
