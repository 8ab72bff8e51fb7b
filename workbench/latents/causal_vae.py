"""A VAE whose latents follow a structural causal model (CausalVAE / DEAR style).

Yang et al. (CausalVAE, CVPR 2021) and Shen et al. (DEAR, JMLR 2022) give a VAE a
prior that is an SCM over ``k`` concept latents, and tie each concept to a labelled
factor of variation. Ours, in one objective (to minimise, per image):

* reconstruction ``-log p(x | z)`` (Bernoulli pixels), with ``z ~ q(z | x)``;
* ``beta`` times a one-sample estimate of ``KL(q(z | x) || p_SCM(z))``, where
  ``p_SCM`` is the :class:`~workbench.latents.scm_prior.LatentSCM` prior;
* supervision: for the labelled images, ``supervision * ||mean(x) - u||^2`` with ``u``
  the standardised factors (concept ``j`` *is* factor ``j``), and the SCM's negative
  log-density of ``u``, which is what teaches the prior its graph and mechanisms;
* ``acyclicity * (h(A) + h(A)^2)`` (NOTEARS) and ``sparsity * sum |A|``.

The KL and the two structure penalties ramp in together during the training loop's
``kl_warmup``: a sparsity penalty at full strength from step one prunes edges before
their mechanisms have learned anything useful.

Weak supervision (DEAR): pass a boolean ``labelled`` per image; only those rows enter
the supervision terms. Interventions act on concepts: encode, abduct the noise, set
``do(z_i = c)``, let the SCM recompute the descendants, decode
(:meth:`CausalVAE.intervene`). Concepts are in standardised units; ``factor_mean`` and
``factor_std`` convert to and from the factors' own units.

Examples
--------
>>> import torch
>>> model = CausalVAE((3, 32, 32), factor_names=["a", "b"], structure="order", device="cpu")
>>> x, u = torch.rand(4, 3, 32, 32), torch.randn(4, 2)
>>> loss, terms = model.loss(x, u, generator=torch.Generator().manual_seed(0))
>>> sorted(terms)
['acyclicity', 'kl', 'loss', 'prior_nll', 'reconstruction', 'supervision']
>>> model.intervene(x, {"a": 0.5}).shape
torch.Size([4, 3, 32, 32])
"""

from __future__ import annotations

import math

import torch

from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents.objectives import bernoulli_log_likelihood, gaussian_log_density
from workbench.latents.scm_prior import LatentSCM
from workbench.latents.vae import MODELS, VAE

__all__ = ["CausalVAE"]


class CausalVAE(VAE):
    """VAE with a :class:`LatentSCM` prior over one scalar concept per named factor.

    Parameters
    ----------
    image_shape : (C, S, S)
    factor_names : list of str
        One concept per factor, in this order.
    structure : "learn", "order" or a 0/1 array
        Which edges the prior may have (see :mod:`workbench.latents.scm_prior`).
    mechanism : "mlp" or "linear"
    beta, supervision, acyclicity, sparsity : float
        Weights of the objective's terms (see the module docstring).
    factor_mean, factor_std : list of float, optional
        The factors' means and standard deviations (concepts are ``(u - mean) / std``).

    Raises
    ------
    WorkbenchInputError
        If the names repeat, or the means and stds do not fit them.

    Examples
    --------
    Concepts are standardised factors; ``do(name = value)`` takes the factor's own units:

    >>> model = CausalVAE((3, 32, 32), factor_names=["theta", "phi"], structure="order",
    ...                   factor_mean=[0.0, 1.5], factor_std=[0.5, 0.25], device="cpu")
    >>> model.to_concepts(torch.tensor([[0.5, 1.0]])).tolist()
    [[1.0, -2.0]]
    >>> model.concept_index("phi"), model.config["structure"]
    (1, 'order')
    >>> concepts = model.intervene_concepts(torch.rand(3, 3, 32, 32), {"phi": 2.0})
    >>> model.to_factors(concepts)[:, 1].tolist()              # phi held at 2.0
    [2.0, 2.0, 2.0]
    >>> model.concept_index("psi")
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: ...
    """

    kind = "causal_vae"

    def __init__(self, image_shape=(3, 32, 32), factor_names=("theta", "phi"), structure="learn",
                 mechanism: str = "mlp", beta: float = 1.0, supervision: float = 10.0,
                 acyclicity: float = 10.0, sparsity: float = 0.04, hidden: int = 32, factor_mean=None,
                 factor_std=None, device=None):
        names = [str(n) for n in factor_names]
        if isinstance(factor_names, str) or not names or len(set(names)) != len(names):
            raise WorkbenchInputError(f"factor_names must be distinct names, got {factor_names!r}.")
        super().__init__(image_shape, len(names), beta, device=device)
        self.factor_names = names
        self.structure = structure if isinstance(structure, str) else [[int(v) for v in row] for row in structure]
        self.mechanism = mechanism
        self.supervision, self.acyclicity_weight, self.sparsity = float(supervision), float(acyclicity), float(sparsity)
        k = len(names)
        self.factor_mean = [float(v) for v in (factor_mean if factor_mean is not None else [0.0] * k)]
        self.factor_std = [float(v) for v in (factor_std if factor_std is not None else [1.0] * k)]
        if len(self.factor_mean) != k or len(self.factor_std) != k or min(self.factor_std) <= 0:
            raise WorkbenchInputError(f"factor_mean and factor_std need {k} values each, stds positive.")
        self.hidden = int(hidden)
        self.prior = LatentSCM(k, structure=structure, mechanism=mechanism, hidden=self.hidden).to(self.device)

    @property
    def config(self) -> dict:
        """The constructor arguments (and ``kind``), as saved beside the weights."""
        return {"kind": self.kind, "image_shape": list(self.image_shape), "factor_names": self.factor_names,
                "structure": self.structure, "mechanism": self.mechanism, "beta": self.beta,
                "supervision": self.supervision, "acyclicity": self.acyclicity_weight,
                "sparsity": self.sparsity, "hidden": self.hidden, "factor_mean": self.factor_mean, "factor_std": self.factor_std}

    # ----- units ----------------------------------------------------------------
    def to_concepts(self, factors: torch.Tensor) -> torch.Tensor:
        """Standardise factor values ``(n, k)`` into concept units."""
        mean = torch.tensor(self.factor_mean, device=self.device)
        factors = torch.as_tensor(factors, dtype=torch.float32, device=self.device)
        if factors.dim() != 2 or factors.shape[1] != len(self.factor_names):
            raise ShapeError(f"factors must be (n, {len(self.factor_names)}) with columns {self.factor_names}, "
                             f"got shape {tuple(factors.shape)}.")
        return (factors - mean) / torch.tensor(self.factor_std, device=self.device)

    def to_factors(self, concepts: torch.Tensor) -> torch.Tensor:
        """Concepts ``(n, k)`` back in the factors' own units."""
        return concepts * torch.tensor(self.factor_std, device=self.device) + torch.tensor(
            self.factor_mean, device=self.device)

    def concept_index(self, name) -> int:
        """The position of concept ``name``, or an :class:`UnknownVariableError`."""
        if name in self.factor_names:
            return self.factor_names.index(name)
        raise UnknownVariableError(str(name), self.factor_names, what="concept")

    # ----- the objective ----------------------------------------------------------
    def loss(self, x: torch.Tensor, labels: torch.Tensor | None = None, labelled: torch.Tensor | None = None,
             generator=None):
        """Negative objective averaged over the batch, and its terms as floats.

        ``labels`` are factor values in the factors' own units, ``(n, k)``;
        ``labelled`` (bool, ``(n,)``) marks the rows whose labels may be used.
        """
        x = self._check_images(x.float() / 255 if x.dtype == torch.uint8 else x)
        mean, logvar = self.encode(x)
        z = self.sample_posterior(mean, logvar, generator)
        reconstruction = -bernoulli_log_likelihood(self.decode_logits(z), x).mean()
        kl = (gaussian_log_density(z, mean, logvar).sum(1) - self.prior.log_prob(z)).mean()
        zero = torch.zeros((), device=self.device)
        supervision, prior_nll = zero, zero
        if labels is not None:
            if labels.shape != mean.shape:
                raise ShapeError(f"labels must have shape {tuple(mean.shape)}, got {tuple(labels.shape)}.")
            weight = (torch.ones(len(x), device=self.device) if labelled is None
                      else labelled.to(self.device, torch.float32))
            count = weight.sum().clamp_min(1.0)
            u = self.to_concepts(labels)
            supervision = (weight * ((mean - u) ** 2).sum(1)).sum() / count
            prior_nll = -(weight * self.prior.log_prob(u)).sum() / count
        h = self.prior.acyclicity()
        structure = self.acyclicity_weight * (h + h * h) + self.sparsity * self.prior.adjacency.abs().sum()
        loss = (reconstruction + self.supervision * supervision + prior_nll
                + self.kl_scale * (self.beta * kl + structure))
        terms = {"loss": loss, "reconstruction": reconstruction, "kl": kl, "supervision": supervision,
                 "prior_nll": prior_nll, "acyclicity": h}
        return loss, {k: float(v.detach()) for k, v in terms.items()}

    # ----- interventions ----------------------------------------------------------
    def _interventions(self, interventions: dict) -> dict:
        out = {}
        for name, value in interventions.items():
            index = self.concept_index(name)
            try:
                number = math.nan if isinstance(value, (bool, str)) else float(value)
            except (TypeError, ValueError, RuntimeError):
                number = math.nan
            if not math.isfinite(number):
                raise WorkbenchInputError(f"do({name} = ...) must be one finite number in {name}'s own units, "
                                          f"got {value!r}.")
            out[index] = number
        return out

    @torch.no_grad()
    def intervene_concepts(self, x: torch.Tensor, interventions: dict) -> torch.Tensor:
        """Concepts of ``x`` after ``do(name = value)`` (values in the factors' units)."""
        x = x.float() / 255 if x.dtype == torch.uint8 else torch.as_tensor(x)
        if x.numel() and (float(x.min()) < -0.5 or float(x.max()) > 1.5):
            raise WorkbenchInputError(f"Images must be in [0, 1], got values from {float(x.min()):g} to "
                                      f"{float(x.max()):g}; divide 0-255 float images by 255.")
        units = {i: (v - self.factor_mean[i]) / self.factor_std[i]
                 for i, v in self._interventions(interventions).items()}
        return self.prior.counterfactual(self.encode(x)[0], units)

    @torch.no_grad()
    def intervene(self, x: torch.Tensor, interventions: dict) -> torch.Tensor:
        """Images of ``x``'s units under ``do(name = value)``: encode, abduct, act, decode."""
        return self.decode(self.intervene_concepts(x, interventions))

    @torch.no_grad()
    def generate(self, n: int, interventions: dict | None = None, generator=None) -> torch.Tensor:
        """``n`` images from the SCM prior, optionally under ``do`` interventions."""
        units = {i: (v - self.factor_mean[i]) / self.factor_std[i]
                 for i, v in self._interventions(interventions or {}).items()}
        return self.decode(self.prior.sample(n, generator=generator, interventions=units))

    def graph(self, threshold: float = 0.1):
        """The prior's learned graph over the factor names (see :meth:`LatentSCM.graph`)."""
        return self.prior.graph(threshold, self.factor_names)


MODELS[CausalVAE.kind] = CausalVAE
