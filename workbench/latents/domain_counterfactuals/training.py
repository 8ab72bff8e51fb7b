"""Fitting domain models by maximum likelihood with the workbench's one training loop.

Gradient ascent on this likelihood stalls easily: the LeakyReLU in ``g`` puts a jump
into the density of ``x`` along each kink, and the exact log-determinant (a *count* of
negative coordinates) has no gradient, so nothing pulls the kinks into place; started
from ``W = I`` most runs settle about one nat short of the truth, with the wrong
latents and poor counterfactuals. Five remedies, none of which looks at the truth:

1. **A smoothed count while training.** ``sigmoid(-u / T)`` replaces ``1[u < 0]``
   in the log-determinant, with ``T`` annealed geometrically and then set to 0 (exact).
2. **Starts scaled to the data** (``init="whitened"``): ``W = chol(cov x) Q`` with ``Q``
   random orthogonal (one ``Q = I``) and ``c = mean x``, so every start sees whitened
   data with its kinks through the data's centre (on the 5-domain benchmark: mean error
   0.17 against 2.44 from ``W = Q``, ``c = 0``, the same 8 starts).
3. **Restarts in rounds.** ``restarts`` such starts per seed; after a short exploration
   the ``keep`` with the best *validation* likelihood are trained further, possibly over
   several rounds (:mod:`~.rounds`: a long one at the large learning rate lets starts leave
   a wrong basin), and the best of the last round (again on validation) is returned.
4. **The discrete moves in closed form** (``FitRound(refit_latents=True)``): beside each
   start, its latent SCM refitted exactly given ``g`` with the best signs of ``W``'s
   columns and the best last ``k`` latents (:mod:`~.latent_fit`), moves no gradient makes.
5. **Selection on validation.** Every ``check_every`` steps the validation negative
   log-likelihood is measured and the best weights kept (the authors pick their
   checkpoint the same way).

:class:`DomainFit` holds the model, the anneal and the best weights as one module, so
:func:`workbench.latents.training.train` checkpoints all of it and resumes bit for bit.

Examples
--------
>>> from workbench.latents.domain_counterfactuals.data import simulate
>>> data = simulate(2, seeds=[0], n_train=200, n_val=50, n_test=5)
>>> model = fit_domain_model(data, kind="sparse", restarts=2, explore_steps=4, steps=4,
...                          batch_size=20, progress=False)
>>> model.replicas, model.kind
(1, 'sparse')
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.domain_counterfactuals.latent_fit import fit_latent_scm
from workbench.latents.domain_counterfactuals.models import DomainModel
from workbench.latents.domain_counterfactuals.rounds import check_rounds, two_rounds
from workbench.latents.training import train

__all__ = ["DomainFit", "fit_domain_model", "INITS"]

#: where the starts of the mixing matrix begin (see :class:`DomainFit`)
INITS = ("identity", "whitened", "mixed")


class DomainFit(torch.nn.Module):
    """``seeds x restarts`` domain models, their annealed loss and their best weights.

    Parameters
    ----------
    n_domains, kind, k, latent_dim : as for :class:`DomainModel`
    seeds, restarts : int
        Replica ``r`` belongs to seed ``r // restarts``.
    validation : Tensor ``(seeds, D, n, m)``
        Held-out data for the selection.
    temperatures : (float, float)
        The smoothed count's temperature at the first step and at ``anneal_steps``;
        exact (0) afterwards.
    init : {"identity", "whitened", "mixed"}
        Where the starts' ``W`` and ``c`` begin (see the module docstring); ``train_x``
        (the training tensor) is needed for the last two.
    start : DomainModel, optional
        Weights to start from (``seeds * restarts`` replicas, seed by seed).

    Examples
    --------
    >>> fit = DomainFit(2, torch.randn(1, 2, 8, 6), restarts=3, anneal_steps=10)
    >>> fit.model.replicas, fit.temperature(0), fit.temperature(10)
    (3, 0.5, 0.0)
    """

    kind = "domain_fit"

    def __init__(self, n_domains: int, validation: torch.Tensor, *, kind: str = "sparse", k: int = 2,
                 latent_dim: int = 6, seeds: int = 1, restarts: int = 1, check_every: int = 100,
                 anneal_steps: int = 1000, temperatures=(0.5, 0.01), init_seed: int = 0,
                 start: DomainModel | None = None, init: str = "identity", train_x=None, device=None):
        super().__init__()
        if init not in INITS:
            raise UnknownVariableError(str(init), INITS, what="start of the mixing matrix")
        if init != "identity" and start is None and train_x is None:
            raise WorkbenchInputError(f"init={init!r} scales the starts to the data: pass train_x.")
        self.seeds, self.restarts, self.check_every = seeds, restarts, check_every
        self.anneal_steps, self.temperatures = anneal_steps, tuple(float(t) for t in temperatures)
        self.model = DomainModel(n_domains, latent_dim, k, kind, replicas=seeds * restarts,
                                 seed=init_seed, device=device)
        self._started_from = "given weights" if start is not None else "random"
        with torch.no_grad():
            if start is not None:
                self.model.load_state_dict(start.state_dict())
            gen = torch.Generator().manual_seed(init_seed + 1)
            for r in range(self.model.replicas):
                if r % restarts and start is None:
                    q, _ = torch.linalg.qr(torch.randn(latent_dim, latent_dim, generator=gen))
                    self.model.mixing[r] = q.to(self.device)
            if start is None and init != "identity":
                self._whiten(train_x, init)
        self.validation = validation.to(self.device)
        self.data_shape = (seeds, n_domains, latent_dim)      # rows of the training tensor
        self.register_buffer("seen", torch.zeros((), dtype=torch.long, device=self.device))
        self.register_buffer("best_nll", torch.full((self.model.replicas,), math.inf, device=self.device))
        for name, p in self.model.named_parameters():
            self.register_buffer(self._best(name), p.detach().clone())

    def _whiten(self, train_x: torch.Tensor, init: str) -> None:
        """Start from the seed's data: ``W = chol(cov x) Q`` and ``c = mean x`` (``"whitened"``;
        ``"mixed"``: every other start only, the rest stay ``W = Q``, ``c = 0``)."""
        for s in range(self.seeds):
            rows = train_x[:20_000, s].reshape(-1, train_x.shape[-1]).double()
            mean, cov = rows.mean(0), torch.cov(rows.T)
            chol = torch.linalg.cholesky(cov).float().to(self.device)
            step = 2 if init == "mixed" else 1
            block = slice(s * self.restarts, (s + 1) * self.restarts, step)
            self.model.mixing[block] = chol @ self.model.mixing[block]
            self.model.offset[block] = mean.float().to(self.device)

    @staticmethod
    def _best(name: str) -> str:
        return "best_" + name.replace(".", "_")

    @property
    def config(self) -> dict:
        """The fit's settings and its model's configuration (JSON-able; checked on resume)."""
        return {"kind": self.kind, "model": self.model.config, "seeds": self.seeds,
                "restarts": self.restarts, "check_every": self.check_every,
                "anneal_steps": self.anneal_steps, "temperatures": list(self.temperatures),
                "start": self._started_from}

    @property
    def device(self) -> torch.device:
        """Where the weights live."""
        return self.model.device

    def temperature(self, step: int) -> float:
        """The smoothed count's temperature at ``step`` (0 means the exact count)."""
        if step >= self.anneal_steps:
            return 0.0
        first, last = self.temperatures
        return first * (last / first) ** (step / self.anneal_steps)

    def loss(self, batch: torch.Tensor, generator=None):
        """Negative mean log-likelihood summed over replicas, for ``batch (B, S, D, m)``."""
        if int(self.seen) % self.check_every == 0:
            self.track()
        x = batch.permute(1, 2, 0, 3).repeat_interleave(self.restarts, dim=0)
        self.model.kink_temperature = self.temperature(int(self.seen))
        try:
            nll = -self.model.log_prob_by_domain(x).mean(dim=(1, 2))
        finally:
            self.model.kink_temperature = 0.0
        self.seen += 1
        loss = nll.sum()
        return loss, {"loss": float(loss.detach()) / self.model.replicas}

    @torch.no_grad()
    def validation_nll(self) -> torch.Tensor:
        """Exact validation negative log-likelihood of every replica, ``(seeds * restarts,)``."""
        x = self.validation.repeat_interleave(self.restarts, dim=0)
        return -self.model.log_prob_by_domain(x).mean(dim=(1, 2))

    @torch.no_grad()
    def track(self) -> None:
        """Keep the current weights of every replica whose validation likelihood improved."""
        nll = self.validation_nll()
        better = torch.nan_to_num(nll, nan=math.inf) < self.best_nll
        self.best_nll[better] = nll[better]
        for name, p in self.model.named_parameters():
            getattr(self, self._best(name))[better] = p[better]

    @torch.no_grad()
    def best_model(self, keep: int = 1) -> DomainModel:
        """Per seed, the ``keep`` restarts with the best validation likelihood, each at its best
        step (``seeds * keep`` replicas, seed by seed, best first)."""
        self.track()
        pick = self.best_nll.view(self.seeds, self.restarts).argsort(dim=1)[:, :keep]
        rows = (torch.arange(self.seeds, device=self.device)[:, None] * self.restarts + pick).reshape(-1)
        config = {k: v for k, v in self.model.config.items() if k != "kind"}
        best = DomainModel(**{**config, "kind": self.model.kind, "replicas": self.seeds * keep},
                           device=self.device)
        best.load_state_dict({name: getattr(self, self._best(name))[rows]
                              for name, _ in self.model.named_parameters()} | {
                             name: b for name, b in best.named_buffers()})
        best.validation_nll = self.best_nll[rows].clone()
        return best.eval()


def fit_domain_model(data, *, kind: str = "sparse", k: int = 2, restarts: int = 8,
                     explore_steps: int = 2000, steps: int = 3000, batch_size: int = 500,
                     explore_lr: float = 3e-2, lr: float = 3e-3, seed: int = 0, init: str = "whitened",
                     keep: int = 1, rounds=None, checkpoint_dir=None,
                     progress: bool = True, device=None) -> DomainModel:
    """Fit one domain model per seed of ``data``; returns a model with one replica per seed.

    The fit is a list of ``rounds`` (:class:`~.rounds.FitRound`): the first trains all
    ``restarts`` starts per seed (``init`` as for :class:`DomainFit`: ``"identity"``, the
    authors' ``W = I``, ``c = 0`` and random orthogonal ``W``; ``"whitened"``, scaled to
    the data; ``"mixed"``, half of each), every later one the ``keep`` best of the round
    before on validation likelihood; the best on validation of the last round is returned.
    Without ``rounds``, two (:func:`~.rounds.two_rounds`): exploration, ``explore_steps``
    at the large learning rate ``explore_lr`` (it moves the kinks further; on the 2-domain
    benchmark 3e-2 left 8 of 10 seeds near the truth, 3e-3 only 4) with the smoothed count
    annealed from 0.5 to 0.05, then refinement of the ``keep`` best, ``steps`` at ``lr``,
    annealed from 0.05 to 0.005 over its first half, exact after. Minibatches hold
    ``batch_size // D`` samples of every domain. ``checkpoint_dir`` (optional) holds one
    checkpoint per round; a stopped fit resumes where it was.

    Examples
    --------
    >>> from workbench.latents.domain_counterfactuals import simulate
    >>> data = simulate(2, seeds=[0], latent_dim=3, n_train=40, n_val=10, n_test=2)
    >>> model = fit_domain_model(data, restarts=2, explore_steps=3, steps=3, batch_size=20, progress=False)
    >>> model.config["replicas"], model.validation_nll.shape   # the best start of each seed
    (1, torch.Size([1]))
    >>> model.counterfactual(data.test_x[0, 0], 0, 1).shape   # domain 0 -> domain 1
    torch.Size([2, 3])
    >>> from workbench.latents.domain_counterfactuals import FitRound
    >>> three = [FitRound(3, 3e-2, batch_size=20), FitRound(3, 3e-2, keep=2, batch_size=20),
    ...          FitRound(3, 3e-3, keep=1, batch_size=20)]
    >>> fit_domain_model(data, restarts=3, rounds=three, progress=False).replicas
    1
    """
    rounds = check_rounds(two_rounds(explore_steps, steps, explore_lr, lr, keep, batch_size)
                          if rounds is None else rounds, restarts)
    seeds, n_domains, latent_dim = len(data.scms), data.n_domains, data.scms[0].latent_dim
    common = {"kind": kind, "k": k, "latent_dim": latent_dim, "seeds": seeds, "device": device,
              "init_seed": seed}
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    fit = None
    for i, step in enumerate(rounds):
        start = {"init": init, "train_x": data.train} if fit is None else {"start": _kept(fit, step, data, common)}
        fit = DomainFit(n_domains, data.validation, restarts=step.keep or restarts,
                        anneal_steps=step.anneal_steps or step.steps, temperatures=step.temperatures,
                        **start, **common)
        train(fit, data.train, steps=step.steps, batch_size=max(1, step.batch_size // n_domains), lr=step.lr,
              seed=seed + i, checkpoint_dir=None if folder is None else folder / f"round{i}",
              progress=progress)
    return fit.best_model()


def _kept(fit: DomainFit, step, data, common: dict) -> DomainModel:
    """The starts of a round: the previous round's ``step.keep`` best on validation, chosen among
    its starts and (``step.refit_latents``) their closed-form latent refits."""
    if not step.refit_latents:
        return fit.best_model(step.keep)
    everyone = fit.best_model(fit.restarts)
    refits = fit_latent_scm(everyone, data.train, restarts=fit.restarts)
    both = DomainModel(**{**{k: v for k, v in everyone.config.items() if k != "kind"}, "kind": everyone.kind,
                          "replicas": 2 * everyone.replicas}, device=everyone.device)
    pairs = (everyone.state_dict(), refits.state_dict())
    both.load_state_dict({name: torch.cat([p[name].view(fit.seeds, fit.restarts, *p[name].shape[1:])
                                           for p in pairs], 1).flatten(0, 1)
                          for name, _ in everyone.named_parameters()} | dict(both.named_buffers()))
    pick = DomainFit(both.n_domains, data.validation, restarts=2 * fit.restarts, start=both, **common)
    return pick.best_model(step.keep)
