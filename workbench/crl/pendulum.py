"""The pendulum experiment: a CausalVAE trained with factor labels, and its interventions checked.

Training data are draws from the pendulum's SCM (``noise_std = 0.5`` on both shadow
variables, so the shadow is not a deterministic function of the angles and the graph
is testable), rendered at 32 x 32: as many as CausalVAE's 7,308 images. The four
factors are the four concepts, in causal order (``theta, phi, shadow_length,
shadow_position``).

Checking an intervention needs no human eye. For a unit whose exogenous noise we drew,
the ground truth of ``do(phi = v)`` is the SCM's counterfactual render with the same
noise; the model's answer is encode, abduct, act, decode. A :class:`FactorReader`
trained on ground-truth renders reads all four factors off both images.

Examples
--------
>>> images, labels, noise = training_set(n=8, seed=0)
>>> images.shape, images.dtype, labels.shape
(torch.Size([8, 3, 32, 32]), torch.uint8, torch.Size([8, 4]))
>>> labelled_rows(10, 0.3, seed=0).sum().item()
3
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch

from workbench.datasets import Pendulum
from workbench.errors import WorkbenchInputError
from workbench.latents import CausalVAE, FactorReader, train

__all__ = ["FACTORS", "TRUE_GRAPH", "training_set", "labelled_rows", "train_causal_vae",
           "train_factor_reader", "InterventionCheck", "check_intervention", "graph_matches",
           "factor_ranges", "compare_unit", "fit_scm_prior", "training_labels"]

FACTORS = ("theta", "phi", "shadow_length", "shadow_position")
TRUE_GRAPH = nx.DiGraph([("theta", "shadow_length"), ("phi", "shadow_length"),
                         ("theta", "shadow_position"), ("phi", "shadow_position")])
SIZE, NOISE_STD = 32, 0.5


def dataset(size: int = SIZE) -> Pendulum:
    """The pendulum at ``size`` pixels with the training noise.

    Examples
    --------
    >>> ds = dataset()
    >>> ds.image_shape, ds.noise_std
    ((3, 32, 32), 0.5)
    >>> dataset(size=64).image_shape
    (3, 64, 64)
    """
    return Pendulum(noise_std=NOISE_STD, size=size)


def _stack(values: dict) -> torch.Tensor:
    return torch.stack([values[name] for name in FACTORS], dim=1)


def training_set(n: int = 7308, seed: int = 0, size: int = SIZE):
    """``(images uint8 (n, 3, size, size), factors (n, 4), noise dict)`` drawn from the SCM.

    The factor columns follow :data:`FACTORS`; the noise dict holds each unit's
    exogenous noise, from which the SCM's counterfactuals are computed.

    Examples
    --------
    >>> images, factors, noise = training_set(n=16, seed=0)
    >>> images.shape, images.dtype, factors.shape, sorted(noise) == sorted(FACTORS)
    (torch.Size([16, 3, 32, 32]), torch.uint8, torch.Size([16, 4]), True)
    >>> torch.equal(training_set(n=16, seed=0)[1], factors)          # seeded: the same draw
    True
    """
    ds = dataset(size)
    noise = ds.scm.sample_noise(n, generator=seed)
    values = ds.scm.solve(noise)
    images = (ds.scm.render(values) * 255).round().to(torch.uint8)
    return images, _stack(values), noise


def training_labels(n: int = 7308, seed: int = 0) -> torch.Tensor:
    """The factors ``(n, 4)`` of :func:`training_set`, without rendering the images.

    Examples
    --------
    >>> torch.equal(training_labels(n=16, seed=3), training_set(n=16, seed=3)[1])
    True
    """
    return _stack(dataset().scm.solve(dataset().scm.sample_noise(n, generator=seed)))


def labelled_rows(n: int, fraction: float, seed: int = 0) -> torch.Tensor:
    """A boolean mask with ``round(fraction * n)`` labelled rows (DEAR's weak supervision).

    Raises
    ------
    WorkbenchInputError
        If ``fraction`` is not in ``[0, 1]``.

    Examples
    --------
    >>> mask = labelled_rows(100, 0.25, seed=0)
    >>> mask.dtype, int(mask.sum())
    (torch.bool, 25)
    >>> labelled_rows(10, 1.5)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: fraction of labelled images must lie in [0, 1], got 1.5.
    """
    if not 0.0 <= fraction <= 1.0:
        raise WorkbenchInputError(f"fraction of labelled images must lie in [0, 1], got {fraction!r}.")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[torch.as_tensor(np.random.default_rng(seed).permutation(n)[:round(fraction * n)])] = True
    return mask


def train_causal_vae(seed: int = 0, steps: int = 5000, *, fraction: float = 1.0, structure="order",
                     checkpoint_dir=None, progress: bool = False, n: int = 7308):
    """A CausalVAE on the pendulum, trained by :func:`workbench.latents.train` from ``seed``.

    Parameters
    ----------
    seed
        Seed of the weights, the batches and which rows are labelled.
    steps, n
        Optimiser steps and training images (the paper's 7,308 by default).
    fraction
        Share of the images whose factor labels the model sees.
    structure
        The prior's edge structure (see :class:`workbench.latents.LatentSCM`).
    checkpoint_dir, progress
        Passed on to the training loop (checkpoints every 500 steps).

    Returns
    -------
    (CausalVAE, TrainResult)

    Examples
    --------
    A few steps on a few images (the committed weights took 5000 on 7308):

    >>> model, result = train_causal_vae(steps=3, n=64)
    >>> result.step, tuple(model.factor_names) == FACTORS
    (3, True)
    >>> sorted(result.history[-1])[:3]
    ['acyclicity', 'kl', 'loss']
    """
    images, labels, _ = training_set(n, seed=0)
    torch.manual_seed(seed)
    model = CausalVAE((3, SIZE, SIZE), factor_names=FACTORS, structure=structure,
                      factor_mean=labels.mean(0).tolist(), factor_std=labels.std(0).tolist(), device="cpu")
    data = (images, labels, labelled_rows(n, fraction, seed))
    result = train(model, data, steps=steps, batch_size=64, lr=1e-3, seed=seed, kl_warmup=1000,
                   checkpoint_dir=checkpoint_dir, checkpoint_every=500, progress=progress)
    return model, result


def train_factor_reader(steps: int = 2000, *, checkpoint_dir=None, progress: bool = False, n: int = 7308):
    """A :class:`FactorReader` for the four pendulum factors, from fresh SCM draws (seed 1).

    Returns
    -------
    (FactorReader, TrainResult)

    Examples
    --------
    >>> reader, result = train_factor_reader(steps=3, n=64)
    >>> images, _, _ = training_set(n=5)
    >>> result.step, reader.read(images).shape
    (3, torch.Size([5, 4]))
    """
    images, labels, _ = training_set(n, seed=1)
    torch.manual_seed(1)
    reader = FactorReader((3, SIZE, SIZE), FACTORS, labels.mean(0).tolist(), labels.std(0).tolist(),
                          device="cpu")
    result = train(reader, (images, labels), steps=steps, batch_size=64, lr=1e-3, seed=1,
                   checkpoint_dir=checkpoint_dir, checkpoint_every=500, progress=progress)
    return reader, result


@dataclass(frozen=True)
class InterventionCheck:
    """One intervention on many units: what moved in the model's images and in the truth.

    ``moved`` and ``error`` are fractions of each factor's range over the training
    data, per factor name: ``moved`` is the mean absolute change the reader sees
    between the model's image before and after; ``error`` is the mean absolute gap
    between the reader on the model's counterfactual and the true counterfactual factor.
    ``true_moved`` is ``moved`` for the SCM's own images.

    Examples
    --------
    >>> check = InterventionCheck("phi", 2.0, moved={"phi": 0.3}, true_moved={"phi": 0.31},
    ...                           error={"phi": 0.01})
    >>> check.error["phi"] < check.moved["phi"]           # the error is small beside the effect
    True
    """

    target: str
    value: float
    moved: dict
    true_moved: dict
    error: dict


def check_intervention(model, reader, target: str, value: float, *, n: int = 256, seed: int = 7,
                       size: int = SIZE) -> InterventionCheck:
    """Compare ``do(target = value)`` in ``model`` with the SCM's counterfactual for ``n`` units.

    Raises
    ------
    UnknownVariableError
        If ``target`` is not one of :data:`FACTORS`.
    InterventionRangeError
        If ``value`` is outside the factor's range (see :func:`factor_ranges`).

    Examples
    --------
    The committed CausalVAE moves the light's angle and both shadow factors, not the
    pendulum's angle, as the SCM does:

    >>> from workbench.latents import load_pretrained
    >>> model = load_pretrained("causal_vae_pendulum", device="cpu")
    >>> reader = load_pretrained("factor_reader_pendulum", device="cpu")
    >>> check = check_intervention(model, reader, "phi", 2.0, n=32)
    >>> check.true_moved["theta"], check.true_moved["phi"] > 0.2
    (0.0, True)
    >>> check.moved["theta"] < 0.05, check.error["phi"] < 0.05
    (True, True)
    >>> check_intervention(model, reader, "colour", 1.0)
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: ...
    """
    ds = dataset(size)
    if target not in FACTORS:
        from workbench.errors import UnknownVariableError
        raise UnknownVariableError(target, FACTORS, what="factor")
    noise = ds.scm.sample_noise(n, generator=seed)
    world = ds.scm.solve(noise)
    images = ds.scm.render(world)
    _, twin = ds.scm.counterfactual(noise, {target: value})
    generated_before = model.reconstruct(images)
    generated_after = model.intervene(images, {target: value})
    train_labels = training_labels(seed=0)
    span = (train_labels.max(0).values - train_labels.min(0).values)
    read_before, read_after = reader.read(generated_before), reader.read(generated_after)
    truth_before, truth_after = _stack(world), _stack(twin)

    def per_factor(values):
        return {name: float(values[k] / span[k]) for k, name in enumerate(FACTORS)}

    return InterventionCheck(
        target, float(value),
        moved=per_factor((read_after - read_before).abs().mean(0)),
        true_moved=per_factor((truth_after - truth_before).abs().mean(0)),
        error=per_factor((read_after - truth_after).abs().mean(0)))


def factor_ranges() -> dict:
    """``{factor: (min, max)}`` over the training draws (where interventions make sense).

    Examples
    --------
    >>> low, high = factor_ranges()["phi"]
    >>> round(low, 3), round(high, 3)
    (0.942, 2.309)
    """
    labels = training_labels(seed=0)
    return {name: (float(labels[:, k].min()), float(labels[:, k].max())) for k, name in enumerate(FACTORS)}


@torch.no_grad()
def compare_unit(model, reader, unit: int, target: str, value: float, *, seed: int = 11) -> dict:
    """One unit under ``do(target = value)``: the model's image, the true render, their factors.

    Returns ``{"factual", "generated", "truth"}`` images ``(3, S, S)`` and
    ``{"read_generated", "true_values", "factual_values"}``, each ``{factor: float}``.

    Examples
    --------
    >>> from workbench.latents import load_pretrained
    >>> model = load_pretrained("causal_vae_pendulum", device="cpu")
    >>> reader = load_pretrained("factor_reader_pendulum", device="cpu")
    >>> unit = compare_unit(model, reader, 0, "phi", 2.0)
    >>> unit["generated"].shape, unit["true_values"]["phi"]
    (torch.Size([3, 32, 32]), 2.0)
    >>> unit["true_values"]["theta"] == unit["factual_values"]["theta"]     # not a descendant
    True
    >>> abs(unit["read_generated"]["phi"] - 2.0) < 0.1
    True
    """
    ds = dataset()
    noise = ds.scm.sample_noise(unit + 1, generator=seed)
    noise = {name: values[unit:unit + 1] for name, values in noise.items()}
    world = ds.scm.solve(noise)
    factual = ds.scm.render(world)
    truth_image, twin = ds.scm.counterfactual(noise, {target: value})
    generated = model.intervene(factual, {target: value})
    read = reader.read(generated)[0]
    return {"factual": factual[0], "generated": generated[0], "truth": truth_image[0],
            "read_generated": {name: float(read[k]) for k, name in enumerate(FACTORS)},
            "true_values": {name: float(twin[name][0]) for name in FACTORS},
            "factual_values": {name: float(world[name][0]) for name in FACTORS}}


def fit_scm_prior(structure="learn", *, steps: int = 1500, seed: int = 0, batch_size: int = 256,
                  lr: float = 3e-3, sparsity: float = 0.04, acyclicity: float = 10.0):
    """The SCM prior alone, fitted to the standardised factor labels (no images).

    This is the part of the CausalVAE objective that teaches the graph; fitting it alone
    shows, cheaply, which graph the labels support. The sparsity penalty ramps in over
    the first third of the steps, as in the VAE's warm-up.

    Examples
    --------
    A short fit in the causal order raises the labels' likelihood; its edges only run
    forward in :data:`FACTORS`:

    >>> labels = training_labels()
    >>> u = (labels - labels.mean(0)) / labels.std(0)
    >>> prior = fit_scm_prior("order", steps=50)
    >>> from workbench.latents import LatentSCM
    >>> _ = torch.manual_seed(0)
    >>> untrained = LatentSCM(4, structure="order", hidden=32)
    >>> with torch.no_grad():
    ...     bool(prior.log_prob(u).mean() > untrained.log_prob(u).mean())
    True
    >>> bool((torch.tril(prior.adjacency) == 0).all())
    True
    """
    from workbench.latents import LatentSCM

    labels = training_labels(seed=0)
    u = (labels - labels.mean(0)) / labels.std(0)
    torch.manual_seed(seed)
    prior = LatentSCM(len(FACTORS), structure=structure, hidden=32)
    optimizer = torch.optim.Adam(prior.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        batch = u[torch.as_tensor(rng.integers(0, len(u), batch_size))]
        h = prior.acyclicity()
        ramp = min(1.0, 3 * (step + 1) / steps)
        loss = (-prior.log_prob(batch).mean() + ramp * (acyclicity * (h + h * h)
                                                       + sparsity * prior.adjacency.abs().sum()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return prior


def graph_matches(model, threshold: float = 0.1) -> bool:
    """Whether the model's learned graph is exactly the pendulum's 4-edge graph.

    Examples
    --------
    >>> from workbench.latents import load_pretrained
    >>> graph_matches(load_pretrained("causal_vae_pendulum", device="cpu"))
    True
    >>> sorted(TRUE_GRAPH.predecessors("shadow_length"))
    ['phi', 'theta']
    """
    learned = model.graph(threshold)
    return set(learned.edges) == set(TRUE_GRAPH.edges)
