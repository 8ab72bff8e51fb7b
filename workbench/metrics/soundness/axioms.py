"""Composition, reversibility and commutativity: the axioms a counterfactual generator must obey.

Galles & Pearl's axioms, as tests by Monteiro et al. (ICLR 2023, code
``biomedia-mira/counterfactual_axiomatic_soundness``, ``identifiability_tests.py``) and
Melistas et al. (NeurIPS 2024, ``gulnazaki/counterfactual-benchmark``,
``evaluation/metrics/composition.py``). Every distance is :func:`.pixel_l1`: per image, the
mean absolute pixel difference in grey levels (0-255); a score is its mean over images
(the per-image values and their standard deviation are in ``details``).

Examples
--------
>>> import torch
>>> identity = lambda images, parents, interventions: images
>>> x, pa = torch.rand(4, 1, 8, 8), {"t": torch.rand(4)}
>>> float(composition(identity, x, pa)), float(reversibility(identity, x, pa, {"t": 0.5}))
(0.0, 0.0)
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from workbench.metrics.errors import MetricInputError
from workbench.metrics.result import MetricResult
from workbench.metrics.soundness.generators import (
    ParentsAfter, apply_interventions, check_images, check_interventions, check_parents,
    pixel_l1, run_generator,
)

__all__ = ["composition", "reversibility", "commutativity"]


def _inputs(images, parents):
    images = check_images(images)
    return images, check_parents(parents, len(images))


def _distances(images, sequence, steps):
    """``distance_k`` (mean over images) for each step, plus per-image values."""
    per_image = {f"distance_{k}": pixel_l1(images, sequence[k]) for k in steps}
    scores = {k: float(v.mean()) for k, v in per_image.items()}
    stds = {k: float(v.std(unbiased=False)) for k, v in per_image.items()}
    return scores, {"per_image": per_image, "std": stds}


def composition(generator, images, parents, cycles: Sequence[int] = (1, 10)) -> MetricResult:
    """Drift under the null intervention, applied again and again: 0 for a sound generator.

    Each cycle feeds the last output back with ``do(pa = pa)`` (every parent set to its own
    factual value, Monteiro et al.'s ``counterfactual_fn(image, parents, parents)``); the
    distance after ``k`` cycles is :func:`.pixel_l1` to the factual image. Published settings
    (both codes): cycles 1 and 10; the score is the last cycle's.

    Parameters
    ----------
    generator : CounterfactualGenerator
    images : Tensor (n, C, H, W) in [0, 1]
    parents : dict of Tensor (n,)
    cycles : sequence of int
        Cycle counts at which to report the distance (``scores["distance_k"]``).

    Examples
    --------
    >>> import torch
    >>> shift = lambda images, parents, interventions: (images + 1 / 255).clamp(0, 1)
    >>> r = composition(shift, torch.zeros(2, 1, 4, 4), {"t": torch.ones(2)})
    >>> r.scores
    {'distance_1': 1.0, 'distance_10': 10.0}
    """
    images, parents = _inputs(images, parents)
    cycles = tuple(int(c) for c in cycles)
    if not cycles or min(cycles) < 1:
        raise MetricInputError(f"cycles must be positive whole numbers, got {cycles}.")
    sequence = [images]
    for _ in range(max(cycles)):
        sequence.append(run_generator(generator, sequence[-1], parents, parents))
    scores, details = _distances(images, sequence, cycles)
    return MetricResult("composition", scores[f"distance_{cycles[-1]}"], choices={"cycles": cycles},
                        published={"cycles": (1, 10)}, scores=scores, details=details)


def reversibility(generator, images, parents, interventions, repeats: int = 5,
                  parents_after: ParentsAfter = apply_interventions) -> MetricResult:
    """Drift after intervening and undoing it: ``do(pa*)`` then ``do(pa)``, ``repeats`` times.

    As Monteiro et al.'s ``reversibility_test`` (``cycle_length=2, num_cycles=5``): the cycle
    visits the intervened values, then the factual ones; the same cycle repeats; each step
    intervenes on the previous step's output with the previous step's parents
    (``parents_after``). ``scores["distance_k"]`` is :func:`.pixel_l1` to the factual image
    after ``k`` steps, for one cycle (``k = len(cycle)``) and all of them; the score is the last.

    Parameters
    ----------
    interventions : dict, or a sequence of dicts
        ``do(pa*)``; a sequence ``[do_1, ..., do_m]`` makes a longer cycle (``cycle_length
        = m + 1``), each step's parents set back to the factual ones at its end.
    repeats : int
        Number of cycles (published: 5).
    parents_after : callable
        The counterfactual's parents (default: the intervened values, the rest unchanged).

    Examples
    --------
    >>> import torch
    >>> forgetful = lambda images, parents, interventions: images * 0.5   # loses half each step
    >>> r = reversibility(forgetful, torch.ones(3, 1, 2, 2), {"t": torch.ones(3)}, {"t": 2.0}, repeats=1)
    >>> r.scores, r.choices
    ({'distance_2': 191.25}, {'cycle_length': 2, 'repeats': 1})
    """
    images, parents = _inputs(images, parents)
    steps = [interventions] if isinstance(interventions, Mapping) else list(interventions)
    steps = [check_interventions(s, parents) for s in steps]
    if not steps or not all(steps):
        raise MetricInputError("reversibility needs a non-empty intervention, e.g. {'thickness': 3.0}.")
    if int(repeats) < 1:
        raise MetricInputError(f"repeats must be a positive whole number, got {repeats}.")
    intervened = sorted({name for s in steps for name in s})
    cycle = steps + [{name: parents[name] for name in intervened}]     # ... then back
    sequence, current = [images], parents
    for do in cycle * int(repeats):
        sequence.append(run_generator(generator, sequence[-1], current, do))
        current = parents_after(current, do)
    reported = sorted({len(cycle), len(cycle) * int(repeats)})
    scores, details = _distances(images, sequence, reported)
    return MetricResult("reversibility", scores[f"distance_{reported[-1]}"],
                        choices={"cycle_length": len(cycle), "repeats": int(repeats)},
                        published={"cycle_length": 2, "repeats": 5}, scores=scores, details=details)


def commutativity(generator, images, parents, first, second,
                  parents_after: ParentsAfter = apply_interventions) -> MetricResult:
    """Distance between ``do(first)`` then ``do(second)`` and the reverse order: 0 if they commute.

    Monteiro et al.'s ``commutativity_test``: both orders start from the factual image, each
    step intervenes on the previous output with the previous parents; the score is the mean
    :func:`.pixel_l1` between the two final images. Interventions on different parents commute
    for a sound generator (both orders reach the same world).

    Examples
    --------
    >>> import torch
    >>> def last_wins(images, parents, interventions):   # paints the last do's value: order matters
    ...     value = next(iter(interventions.values()))
    ...     return value.view(-1, 1, 1, 1).expand_as(images).clone()
    >>> pa = {"a": torch.zeros(2), "b": torch.zeros(2)}
    >>> float(commutativity(last_wins, torch.zeros(2, 1, 2, 2), pa, {"a": 1.0}, {"b": 0.0}))
    255.0
    """
    images, parents = _inputs(images, parents)
    first, second = check_interventions(first, parents), check_interventions(second, parents)
    if not first or not second:
        raise MetricInputError("commutativity needs two non-empty interventions.")
    finals = []
    for order in ((first, second), (second, first)):
        x, current = images, parents
        for do in order:
            x = run_generator(generator, x, current, do)
            current = parents_after(current, do)
        finals.append(x)
    per_image = pixel_l1(*finals)
    return MetricResult("commutativity", float(per_image.mean()),
                        choices={"first": sorted(first), "second": sorted(second)},
                        scores={"distance": float(per_image.mean())},
                        details={"per_image": per_image, "std": float(per_image.std(unbiased=False))})
