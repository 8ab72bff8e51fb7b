"""Invertible latent domain models (ILD): the sparse canonical model and the dense baseline.

Each model maps a domain's noise to an observation in two invertible steps, written in
column form as in the paper::

    z = f_d(e) = (I - L_d)^-1 S_d e + b_d       L_d strictly lower triangular, S_d diagonal
    x = g(z)   = W LeakyReLU(z) + c             one W, c for every domain

so abduction is exact, ``e = S_d^-1 (I - L_d)(g^-1(x) - b_d)``, and the likelihood is
exact by the change of variables. A domain counterfactual keeps ``e`` and swaps
``f_d`` for ``f_d'``. The *sparse canonical* model (``kind="sparse"``) lets only the last
``k`` mechanisms in topological order (rows of ``L``, ``S``, ``b``) depend on the domain;
the first ``m - k`` are shared, so a counterfactual can change only what the last ``k``
variables cause. The *dense* model (``kind="dense"``) lets every mechanism vary.

Every tensor carries a leading *replica* axis: ``replicas`` independent models (one
per seed) trained side by side in one optimiser, each on its own data, each with its
own loss term (Adam is elementwise, so this is exactly ``replicas`` separate runs).
Methods take ``x`` of shape ``(replicas, n, m)``, or ``(n, m)`` when ``replicas == 1``.

Examples
--------
>>> model = DomainModel(n_domains=2, latent_dim=3, k=1, seed=0)
>>> x = torch.randn(5, 3)
>>> same = model.counterfactual(x, torch.zeros(5, dtype=torch.long), 0)
>>> bool(torch.allclose(same, x, atol=1e-5))           # no domain change: x back
True
>>> model.log_prob(x, torch.zeros(5, dtype=torch.long)).shape
torch.Size([5])
"""

from __future__ import annotations

import math

import torch

from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.domain_counterfactuals.checks import check_domain_index, check_domains, check_matrix
from workbench.latents.domain_counterfactuals.generator import leaky_relu, leaky_relu_inverse
from workbench.runtime import device as runtime_device

__all__ = ["DomainModel", "KINDS", "build_domain_model"]

KINDS = ("sparse", "dense")
_LOG_2PI = math.log(2 * math.pi)


class DomainModel(torch.nn.Module):
    """An ILD model with ``n_domains`` domains over ``latent_dim`` variables.

    Parameters
    ----------
    n_domains, latent_dim : int
    k : int
        How many of the last mechanisms may vary by domain (``kind="sparse"``).
    kind : {"sparse", "dense"}
    replicas : int
        Independent copies trained side by side (one per seed).
    slope : float
        LeakyReLU slope of ``g``.
    seed : int
        Seeds the initialisation: ``W = I``, ``c = 0``, every other parameter N(0, 1)
        (the authors' initialisation).
    positive_scales : bool
        ``S_d = exp(s_d)`` (default). With ``False``, the authors' raw ``S_d`` whose sign
        may differ between domains: the likelihood cannot see such a flip (the noise is
        symmetric), but it reverses the noise's effect in a counterfactual.

    Examples
    --------
    >>> model = DomainModel(n_domains=3, latent_dim=4, k=2)
    >>> model.varies.tolist()                      # which mechanisms may change by domain
    [False, False, True, True]
    """

    def __init__(self, n_domains: int, latent_dim: int = 6, k: int = 2, kind: str = "sparse",
                 replicas: int = 1, slope: float = 0.5, positive_scales: bool = True, seed: int = 0,
                 device=None):
        super().__init__()
        if kind not in KINDS:
            raise UnknownVariableError(str(kind), KINDS, what="domain model kind")
        for name, value, low in (("n_domains", n_domains, 1), ("latent_dim", latent_dim, 2),
                                 ("replicas", replicas, 1), ("k", k, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise WorkbenchInputError(f"{name} must be an integer >= {low}, got {value!r}.")
        if kind == "sparse" and k >= latent_dim:
            raise WorkbenchInputError(f"k must be below latent_dim ({latent_dim}), got {k}: "
                                      "with k = latent_dim use kind='dense'.")
        self.n_domains, self.latent_dim, self.k, self.kind = n_domains, latent_dim, k, kind
        self.replicas, self.slope, self.seed = replicas, float(slope), seed
        self.positive_scales = bool(positive_scales)
        self.kink_temperature = 0.0
        r, n, m = replicas, n_domains, latent_dim
        gen = torch.Generator().manual_seed(seed)
        normal = lambda *shape: torch.nn.Parameter(torch.randn(*shape, generator=gen))  # noqa: E731
        self.mixing = torch.nn.Parameter(torch.eye(m).repeat(r, 1, 1))          # W: (R, m, m)
        self.offset = torch.nn.Parameter(torch.zeros(r, m))                     # c: (R, m)
        self.shared_weights, self.domain_weights = normal(r, m, m), normal(r, n, m, m)
        if positive_scales:     # S = exp(s), s = 0 at the start: the noise keeps its sign
            self.shared_scales = torch.nn.Parameter(torch.zeros(r, m))
            self.domain_scales = torch.nn.Parameter(torch.zeros(r, n, m))
        else:                   # the authors' raw S ~ N(0, 1): its sign may differ by domain
            self.shared_scales, self.domain_scales = normal(r, m), normal(r, n, m)
        self.shared_biases, self.domain_biases = normal(r, m), normal(r, n, m)
        varies = torch.ones(m, dtype=torch.bool) if kind == "dense" else torch.arange(m) >= m - k
        self.register_buffer("varies", varies)
        self.register_buffer("lower", torch.tril(torch.ones(m, m), diagonal=-1))
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this model (JSON-able)."""
        return {"kind": f"domain_{self.kind}", "n_domains": self.n_domains,
                "latent_dim": self.latent_dim, "k": self.k, "replicas": self.replicas,
                "slope": self.slope, "positive_scales": self.positive_scales, "seed": self.seed}

    @property
    def device(self) -> torch.device:
        """Where the weights live."""
        return self.mixing.device

    # -- the mechanisms ---------------------------------------------------------------
    def mechanisms(self):
        """Per-domain ``(L, S, b)`` of shapes ``(R, D, m, m)``, ``(R, D, m)``, ``(R, D, m)``.

        Rows of non-varying variables come from the shared parameters, so they are
        identical in every domain.
        """
        rows = self.varies.view(1, 1, -1)
        weights = torch.where(rows.unsqueeze(-1), self.domain_weights,
                              self.shared_weights.unsqueeze(1)) * self.lower
        scales = torch.where(rows, self.domain_scales, self.shared_scales.unsqueeze(1))
        scales = scales.exp() if self.positive_scales else scales
        biases = torch.where(rows, self.domain_biases, self.shared_biases.unsqueeze(1))
        return weights, scales, biases

    def _abduction_matrices(self):
        """``M_d = S_d^-1 (I - L_d)`` (so ``e = M_d (z - b_d)``) and ``log|det M_d|``."""
        weights, scales, biases = self.mechanisms()
        eye = torch.eye(self.latent_dim, device=self.device)
        return (eye - weights) / scales.unsqueeze(-1), -scales.abs().log().sum(-1), biases

    # -- g and its inverse ------------------------------------------------------------
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``x = W LeakyReLU(z) + c`` for ``z`` of shape ``(R, ..., m)``."""
        flat = leaky_relu(z, self.slope).reshape(self.replicas, -1, self.latent_dim)
        x = flat @ self.mixing.transpose(1, 2) + self.offset.unsqueeze(1)
        return x.reshape(z.shape)

    def encode(self, x: torch.Tensor):
        """``z = g^-1(x)`` and ``log|det dz/dx|`` per row, for ``x`` of shape ``(R, ..., m)``."""
        flat = x.reshape(self.replicas, -1, self.latent_dim) - self.offset.unsqueeze(1)
        u = torch.linalg.solve(self.mixing, flat.transpose(1, 2)).transpose(1, 2).reshape(x.shape)
        _, logabsdet = torch.linalg.slogdet(self.mixing)
        if self.kink_temperature:   # a smooth count (training only): gradients see the kinks
            negative = torch.sigmoid(-u / self.kink_temperature).sum(-1)
        else:
            negative = (u <= 0).sum(-1)
        logdet = -logabsdet.view(-1, *([1] * (x.ndim - 2))) - negative * math.log(self.slope)
        return leaky_relu_inverse(u, self.slope), logdet

    # -- likelihood and counterfactuals -----------------------------------------------
    def _log_prob(self, x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(x | d)`` for batched ``x (R, n, m)``, ``d (R, n)``."""
        z, logdet_g = self.encode(x)
        abduct, logdet_f, biases = self._abduction_matrices()
        noise = torch.einsum("rnij,rnj->rni", self._pick(abduct, d), z - self._pick(biases, d))
        log_base = -0.5 * (noise.square().sum(-1) + self.latent_dim * _LOG_2PI)
        return log_base + self._pick(logdet_f, d) + logdet_g

    def log_prob_by_domain(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x | d)`` for ``x`` of shape ``(R, D, n, m)`` holding domain ``d`` in row ``d``.

        The same numbers as :meth:`log_prob`, without gathering a matrix per sample
        (the fast path the training loop uses; a test pins the two together).
        """
        z, logdet_g = self.encode(x)
        abduct, logdet_f, biases = self._abduction_matrices()
        noise = torch.einsum("rdij,rdnj->rdni", abduct, z - biases.unsqueeze(2))
        log_base = -0.5 * (noise.square().sum(-1) + self.latent_dim * _LOG_2PI)
        return log_base + logdet_f.unsqueeze(-1) + logdet_g

    def _pick(self, per_domain: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        """Row ``d[r, i]`` of ``per_domain[r]`` for every replica ``r`` and row ``i``."""
        return per_domain[torch.arange(self.replicas, device=self.device).unsqueeze(1), d]

    def log_prob(self, x, domains) -> torch.Tensor:
        """Exact log-density of each row of ``x`` in its domain; shape ``(R, n)`` or ``(n,)``."""
        x, d, single = self._inputs(x, domains)
        out = self._log_prob(x, d)
        return out[0] if single else out

    def counterfactual(self, x, domains, target) -> torch.Tensor:
        """Each row of ``x`` (seen in ``domains``) as it would be in domain ``target``."""
        x, d, single = self._inputs(x, domains)
        t = self._domain_rows(target, x.shape[1]).expand_as(d)
        z, _ = self.encode(x)
        abduct, _, biases = self._abduction_matrices()
        weights, scales, _ = self.mechanisms()
        noise = torch.einsum("rnij,rnj->rni", self._pick(abduct, d), z - self._pick(biases, d))
        eye = torch.eye(self.latent_dim, device=self.device)
        forward = torch.linalg.solve(eye - weights, torch.diag_embed(scales))   # (I - L)^-1 S
        z_new = torch.einsum("rnij,rnj->rni", self._pick(forward, t), noise) + self._pick(biases, t)
        out = self.decode(z_new)
        return out[0] if single else out

    # -- input handling ---------------------------------------------------------------
    def _domain_rows(self, target, n: int) -> torch.Tensor:
        return torch.full((1, 1), check_domain_index(target, self.n_domains),
                          dtype=torch.long, device=self.device)

    def _inputs(self, x, domains):
        x = torch.as_tensor(x, dtype=torch.float32)
        single = x.ndim == 2
        if single:
            if self.replicas != 1:
                raise WorkbenchInputError(
                    f"This model has {self.replicas} replicas: pass x of shape "
                    f"({self.replicas}, n, {self.latent_dim}), or select one with .replica(i).")
            x = x.unsqueeze(0)
        if x.ndim != 3 or x.shape[0] != self.replicas:
            from workbench.errors import ShapeError
            raise ShapeError(f"x must have shape (n, {self.latent_dim}) or ({self.replicas}, n, "
                             f"{self.latent_dim}), got {tuple(x.shape)}.")
        rows = [check_matrix(xi, self.latent_dim, "x") for xi in x]
        doms = torch.as_tensor(domains) if not isinstance(domains, int) else domains
        if isinstance(doms, torch.Tensor) and doms.ndim == 2:
            d = torch.stack([check_domains(di, x.shape[1], self.n_domains) for di in doms])
        else:
            d = check_domains(doms, x.shape[1], self.n_domains).expand(self.replicas, -1)
        return torch.stack(rows).to(self.device), d.to(self.device), single


def build_domain_model(config: dict, device=None) -> DomainModel:
    """A fresh :class:`DomainModel` from its ``config`` (as saved with the weights).

    Examples
    --------
    >>> model = DomainModel(3, latent_dim=4, k=1, kind="dense")
    >>> build_domain_model(model.config).config == model.config
    True
    """
    config = dict(config)
    kind = str(config.pop("kind", ""))
    if not kind.startswith("domain_"):
        raise UnknownVariableError(kind, [f"domain_{k}" for k in KINDS], what="domain model kind")
    try:
        return DomainModel(**config, kind=kind.removeprefix("domain_"), device=device)
    except TypeError as exc:
        raise WorkbenchInputError(f"Bad settings for a {kind!r} model: {exc}.") from exc
