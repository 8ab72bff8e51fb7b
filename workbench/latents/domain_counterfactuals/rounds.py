"""The fitting schedule of a domain model: rounds of training, each on the best starts so far.

A fit is a list of :class:`FitRound`. The first round trains every start; each later
round keeps, per seed, the ``keep`` starts with the best *validation* likelihood of the
round before and trains them further at its own learning rate and kink temperature.
Adam starts afresh in every round, so a list of rounds is also a step-wise learning-rate
schedule.

Why the benchmark's schedule (:data:`BENCHMARK_ROUNDS`), measured on its hard seeds
(2 domains seed 4, 10 domains seeds 3 and 4, 5 domains seed 9; selection always on
validation likelihood): a start leaves a wrong basin only while the learning rate is
large, and refining at 3e-3 settles whatever basin a start is in; so the 8 best of 32
explored starts continue 4,000 steps at 3e-2 (10 domains seed 3: a start at error 11.0
moved to 0.20). Gradient steps cannot swap two latents or flip which side of a kink is
steep; every round after the first therefore also weighs each start's closed-form
latent refit (:mod:`~.latent_fit`), which makes those moves exactly (2 domains seed 4:
the start with the right counterfactuals had one varying latent's sign wrong and lost
on validation, 2.26 against 2.09, to a wrong one; its refit scores 2.04). More, shorter
starts did not help: 64 starts explored 500 or 1,000 steps on small batches found no
good one on 2 domains seed 4 (``benchmarks/REPORT.md``, section domain_counterfactuals).

Examples
--------
>>> [(r.steps, r.keep, r.lr) for r in two_rounds(explore_steps=2000, steps=3000, keep=4)]
[(2000, None, 0.03), (3000, 4, 0.003)]
>>> [r.keep for r in check_rounds(BENCHMARK_ROUNDS, restarts=32)]
[None, 8, 4, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchInputError

__all__ = ["FitRound", "two_rounds", "BENCHMARK_ROUNDS", "check_rounds"]


@dataclass(frozen=True)
class FitRound:
    """One round of a fit.

    Parameters
    ----------
    steps : int
        Optimiser steps of this round.
    lr : float
        Adam's learning rate (a fresh optimiser every round).
    keep : int or None
        How many starts per seed this round trains: the best of the previous round on
        validation likelihood. ``None``: all of them (the first round must say ``None``).
    temperatures : (float, float)
        The smoothed kink count's temperature at the round's first step and at
        ``anneal_steps`` (geometric in between, exact after).
    anneal_steps : int or None
        When the anneal ends; ``None``: at the round's last step.
    batch_size : int
        Samples per step, split evenly over the domains.
    refit_latents : bool
        Before picking the ``keep`` best, add to the previous round's starts a copy of each
        with its latent SCM in closed form given its ``g`` (the best ``k`` latents last:
        :func:`~.latent_fit.fit_latent_scm`); the kept ones are the best of both on validation.

    Examples
    --------
    >>> FitRound(steps=100, lr=1e-2).anneal_steps is None
    True
    """

    steps: int
    lr: float
    keep: int | None = None
    temperatures: tuple = (0.05, 0.005)
    anneal_steps: int | None = None
    batch_size: int = 500
    refit_latents: bool = False


def two_rounds(explore_steps: int = 2000, steps: int = 3000, explore_lr: float = 3e-2, lr: float = 3e-3,
               keep: int = 1, batch_size: int = 500) -> tuple[FitRound, FitRound]:
    """Exploration (every start, large steps, kinks smoothed from 0.5 to 0.05) and refinement
    (the ``keep`` best, small steps, 0.05 to 0.005 over its first half, exact after).

    Examples
    --------
    >>> two_rounds(steps=10)[1].anneal_steps
    5
    """
    return (FitRound(explore_steps, explore_lr, None, (0.5, 0.05), None, batch_size),
            FitRound(steps, lr, keep, (0.05, 0.005), steps // 2, batch_size))


#: the benchmark's schedule: explore 32 starts; continue the 8 best at the large step size
#: with the kinks kept smoothed at 0.05; refine the 4 best of those; polish the 2 best. Every
#: round after the first also weighs each start's closed-form latent refit (signs, last k).
BENCHMARK_ROUNDS = (FitRound(2000, 3e-2, None, (0.5, 0.05)),
                    FitRound(4000, 3e-2, 8, (0.05, 0.05), refit_latents=True),
                    FitRound(3000, 3e-3, 4, (0.05, 0.005), 1500, refit_latents=True),
                    FitRound(500, 1e-3, 2, (0.005, 0.005), 1, refit_latents=True))


def check_rounds(rounds, restarts: int) -> tuple[FitRound, ...]:
    """``rounds`` as a tuple, checked: at least one, the first keeps every start, later ones keep
    between 1 and the previous round's count, positive steps, learning rates and batches.

    Examples
    --------
    >>> check_rounds([FitRound(10, 1e-2, keep=3)], restarts=4)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: The first round trains every start: give it keep=None (got keep=3).
    """
    rounds = tuple(rounds)
    if not rounds or not all(isinstance(r, FitRound) for r in rounds):
        raise WorkbenchInputError("rounds must be a non-empty sequence of FitRound.")
    if rounds[0].keep is not None:
        raise WorkbenchInputError(
            f"The first round trains every start: give it keep=None (got keep={rounds[0].keep}).")
    alive = restarts
    for i, r in enumerate(rounds):
        if r.steps < 1 or r.lr <= 0 or r.batch_size < 1:
            raise WorkbenchInputError(f"Round {i}: steps, lr and batch_size must be positive, got {r}.")
        if i and not (isinstance(r.keep, int) and 1 <= r.keep <= alive):
            raise WorkbenchInputError(
                f"Round {i} keeps {r.keep!r} starts per seed; the round before has {alive}: "
                f"keep an integer from 1 to {alive}.")
        alive = r.keep if i else alive
    return rounds
