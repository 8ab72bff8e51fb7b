"""A mechanism from any callable ``v := f(pa, u)``, with exact or approximate abduction.

The fourth kind of mechanism (beside :mod:`workbench.scm.mechanisms`): no density, so a
model cannot be conditioned on it, and abduction is exact only when an ``inverse`` is
given; otherwise it is approximate (prior particles weighted by how well they reproduce
the value, one resampled, then Newton steps onto the value).

Examples
--------
>>> import torch, pyro.distributions as dist
>>> m = FunctionMechanism(["x"], lambda pa, u: pa[..., 0] + u ** 3, dist.Normal(0.0, 1.0))
>>> m.has_density, m.invertible
(False, False)
"""

from __future__ import annotations

from typing import Callable, Sequence

import pyro.distributions as dist
import torch

from workbench.errors import WorkbenchInputError
from workbench.scm.mechanisms import Mechanism

__all__ = ["FunctionMechanism"]


class FunctionMechanism(Mechanism):
    """Any user callable ``v := f(pa, u)`` with noise ``u ~ noise``.

    Give ``inverse(value, pa) -> u`` to make abduction exact. Without it, abduction
    is *approximate*: ``particles`` noise draws from the prior are weighted by how
    well they reproduce the observed value (a Gaussian kernel of width
    ``bandwidth``, or an exact match for a discrete ``f``) and one is resampled,
    which picks among the noises that could explain the value (for a non-injective
    ``f``, in proportion to their prior mass); for a continuous ``f`` a few Newton
    steps then move it onto the observed value exactly.

    Examples
    --------
    >>> import torch, pyro.distributions as dist
    >>> m = FunctionMechanism(["x"], lambda pa, u: pa[..., 0] * torch.exp(u),
    ...                       dist.Normal(0.0, 1.0), inverse=lambda v, pa: torch.log(v / pa[..., 0]))
    >>> m.abduct(m(torch.tensor([[2.0]]), torch.tensor([0.5])), torch.tensor([[2.0]]))
    tensor([0.5000])
    >>> approx = FunctionMechanism(["x"], lambda pa, u: pa[..., 0] + u ** 3, dist.Normal(0.0, 1.0))
    >>> u = approx.abduct(torch.tensor([1.125]), torch.tensor([[1.0]]))   # exact answer 0.5
    >>> bool(abs(u - 0.5) < 0.1)
    True
    """

    def __init__(self, parents: Sequence[str], f: Callable, noise: dist.Distribution,
                 inverse: Callable | None = None, cardinality: int | None = None, *,
                 particles: int = 4096, bandwidth: float = 0.01):
        self.parents = tuple(parents)
        self.f, self._noise, self.inverse = f, noise, inverse
        self.invertible = inverse is not None
        self.cardinality = cardinality
        if not (float(bandwidth) > 0) or int(particles) < 1:
            raise WorkbenchInputError("bandwidth must be positive and particles at least 1.")
        self.particles, self.bandwidth = int(particles), float(bandwidth)

    def noise(self):
        """The noise distribution given at construction."""
        return self._noise

    def __call__(self, pa, u):
        return self.f(pa.to(torch.get_default_dtype()) if self.cardinality is None else pa, u)

    def abduct(self, value, pa):
        """The noise of ``value``: ``inverse(value, pa)`` if given, else approximate (see the class)."""
        if self.inverse is not None:
            return self.inverse(value, pa.to(torch.get_default_dtype()))
        chunk = max(1, 4_000_000 // self.particles)  # bound memory: P x chunk values at once
        if value.shape[0] > chunk:
            return torch.cat([self.abduct(value[i:i + chunk], pa[i:i + chunk])
                              for i in range(0, value.shape[0], chunk)])
        u = self._noise.sample((self.particles, *value.shape))          # (P, n, *event)
        out = self(pa.unsqueeze(0).expand(self.particles, *pa.shape), u)  # (P, n)
        if self.cardinality is not None:
            logw = torch.where(out == value, 0.0, -float("inf"))
        else:
            logw = -0.5 * ((out - value) / self.bandwidth) ** 2
        if not torch.isfinite(logw).any(0).all():
            raise WorkbenchInputError(
                f"No noise among {self.particles} prior draws reproduces some observed values; "
                "raise `particles` or `bandwidth`, or give the mechanism an `inverse`.")
        pick = torch.distributions.Categorical(logits=logw.T).sample()  # one draw per unit
        u = u[pick, torch.arange(value.shape[0], device=value.device)]
        if self.cardinality is None:
            u = self._refine(u, value, pa)
        return u

    def _refine(self, u, value, pa, steps: int = 20):
        """Newton steps on each unit's noise so that ``f(pa, u)`` meets the observed value.

        Prior draws rarely reach far tails; this moves the chosen draw onto the value.
        A callable autograd cannot differentiate in ``u`` (a step such as ``(u > 0).float()``)
        has no slope to follow, so its chosen draw stands as it is. Units still missing by
        more than five bandwidths raise an error.
        """
        if u.dim() != 1:
            return u
        pa = pa.to(torch.get_default_dtype())
        for _ in range(steps):
            with torch.enable_grad():
                x = u.detach().requires_grad_(True)
                gap = self(pa, x) - value
                if not gap.requires_grad:
                    break
                (slope,) = torch.autograd.grad(gap.sum(), x)
            ok = slope.abs() > 1e-6
            u = torch.where(ok, x.detach() - gap.detach() / torch.where(ok, slope, 1.0), x.detach())
        miss = (self(pa, u) - value).abs()
        if not torch.isfinite(miss).all() or (miss > 5 * self.bandwidth).any():
            raise WorkbenchInputError(
                f"Approximate abduction missed some observed values by up to {float(miss.max()):.3g}; "
                "give the mechanism an `inverse`, or raise `particles` or `bandwidth`.")
        return u
