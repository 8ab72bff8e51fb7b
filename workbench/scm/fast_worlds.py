"""Sampling and counterfactual worlds without Pyro: the bare routes, built from :mod:`~workbench.scm.fast`.

When no Pyro handler is active (:func:`runs_bare`), nobody could see or change a site,
so :meth:`SCM.sample <workbench.scm.SCM.sample>` and :func:`~workbench.scm.counterfactual`
compute the same values as the Pyro program (and ChiRho's worlds) directly:

* :func:`run_direct`: the explicit-noise program in topological order, the same noise
  draws in the same order, interventions applied with ChiRho's ``intervene``;
* :func:`additive_worlds`: the two worlds of fully observed additive-noise units, where
  only the variables an intervention reaches are recomputed;
* :class:`AbductedNoise`: the abducted noise of such units, computed when first read.

``tests/test_scm_fastpath.py`` checks each against the handler route from the same seed.

Examples
--------
>>> from workbench.scm import random_linear_scm
>>> m = random_linear_scm(4, seed=0)
>>> runs_bare(m)                                   # no handler is active here
True
>>> sorted(run_direct(m, 3, {}))
['x0', 'x1', 'x2', 'x3']
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from chirho.interventional.ops import intervene
from pyro.distributions.torch_distribution import TorchDistributionMixin
from pyro.poutine.runtime import am_i_wrapped

from workbench.scm.fast import (
    abduct_columns, call_columns, counterfactual_columns, draw_noise, reads_changes, sample_columns,
)
from workbench.scm.mechanisms import AdditiveNoise
from workbench.scm.sites import noise_site

__all__ = ["runs_bare", "run_direct", "abduct_all", "additive_worlds", "all_additive", "AbductedNoise",
           "by_sample"]


def _is_hard(action) -> bool:
    """A hard do: ChiRho's ``intervene(natural, action)`` returns the action itself, so the
    bare routes need not compute the natural value (its noise is still drawn)."""
    return action is not None and not callable(action)


def runs_bare(scm) -> bool:
    """Whether ``scm`` may run without Pyro: no handler is active (``am_i_wrapped()`` is
    false) and every noise is a scalar Pyro distribution (drawn by hand as the plate would).

    Examples
    --------
    >>> import pyro
    >>> from workbench.scm import backdoor_example
    >>> with pyro.poutine.block():
    ...     runs_bare(backdoor_example())
    False
    """
    if am_i_wrapped():
        return False
    noises = (m.noise() for m in scm.mechanisms.values())
    return all(isinstance(u, TorchDistributionMixin) and u.batch_shape == () for u in noises)


def run_direct(scm, n: int, acts: Mapping, noise: Mapping | None = None,
               reuse: Mapping | None = None) -> dict[str, torch.Tensor]:
    """The explicit-noise program of ``scm`` without Pyro: the same values, draws and order.

    Noise is drawn as the plate would (:func:`~workbench.scm.fast.draw_noise`), or taken
    from ``noise`` (``{variable: u}``); an intervened variable gets ChiRho's
    ``intervene(natural value, action)``. With ``reuse`` (the values of another run with
    the same noise), variables that no action reaches are copied from it instead.

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
    >>> u = {"x": torch.tensor([1.0]), "y": torch.tensor([0.5])}
    >>> run_direct(m, 1, {"x": torch.tensor([0.0])}, noise=u)["y"]
    tensor([0.5000])
    """
    values: dict[str, torch.Tensor] = {}
    touched: set = set()
    for v in scm.variables:
        mech = scm.mechanisms[v]
        if reuse is not None:
            if v not in acts and touched.isdisjoint(mech.parents):
                values[v] = reuse[v]
                continue
            touched.add(v)
        a = acts.get(v)
        if _is_hard(a):
            if noise is None:  # drawn, as the program draws it, so that later draws stay the same
                draw_noise(mech.noise(), n)
            values[v] = a.expand(n) if a.dim() == 0 else a
            continue
        columns = [values[p] for p in mech.parents]
        natural = sample_columns(mech, columns, n) if noise is None else call_columns(mech, columns, noise[v])
        values[v] = natural if a is None else intervene(natural, a)
    return values


def abduct_all(scm, units: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``{noise_site(v): u_v}`` of complete units, every mechanism abducted on columns.

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
    >>> abduct_all(m, {"x": torch.tensor([1.0]), "y": torch.tensor([2.5])})["U_y"]
    tensor([0.5000])
    """
    with torch.no_grad():
        return {noise_site(v): abduct_columns(scm.mechanisms[v], units[v],
                                              [units[p] for p in scm.mechanisms[v].parents])
                for v in scm.variables}


def by_sample(t: torch.Tensor, n_samples: int, n: int) -> torch.Tensor:
    """``(n_samples * n, ...)`` as ``(n_samples, n, ...)``, or ``(n, ...)`` for one sample.

    Examples
    --------
    >>> by_sample(torch.arange(6), 2, 3)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    t = t.reshape(n_samples, n) if t.numel() == n_samples * n else t.reshape(n_samples, n, -1)
    return t[0] if n_samples == 1 else t


class AbductedNoise(Mapping):
    """The abducted noise ``{"U_v": u_v}`` of complete units, computed when first read.

    A counterfactual query needs the noise of the variables an intervention reaches
    only (and for additive mechanisms not even that, see :func:`additive_worlds`);
    each entry is abducted on first access and then kept.

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
    >>> noise = AbductedNoise(m, {"x": torch.tensor([1.0]), "y": torch.tensor([2.5])})
    >>> list(noise), noise["U_y"]
    (['U_x', 'U_y'], tensor([0.5000]))
    """

    def __init__(self, scm, units: Mapping[str, torch.Tensor], n_samples: int = 1, n: int | None = None):
        self._scm, self._units, self._done = scm, units, {}
        self._samples, self._n = n_samples, n
        self._variable = {noise_site(v): v for v in scm.variables}

    def __getitem__(self, site: str) -> torch.Tensor:
        if site not in self._done:
            v = self._variable[site]  # a KeyError for a site that is not a noise site
            mech = self._scm.mechanisms[v]
            with torch.no_grad():
                u = abduct_columns(mech, self._units[v], [self._units[p] for p in mech.parents])
            self._done[site] = u if self._n is None else by_sample(u, self._samples, self._n)
        return self._done[site]

    def __iter__(self):
        return iter(self._variable)

    def __len__(self) -> int:
        return len(self._variable)

    def __repr__(self) -> str:
        return f"AbductedNoise({', '.join(self)})"


def all_additive(scm) -> bool:
    """Whether every mechanism of ``scm`` is additive noise, or registers its own one-step
    :func:`~workbench.scm.fast.counterfactual_columns` kernel (an invertible mechanism of
    another area, such as a flow), so that :func:`additive_worlds` applies.

    Examples
    --------
    >>> from workbench.scm import random_linear_scm, asia
    >>> all_additive(random_linear_scm(3, seed=0)), all_additive(asia())
    (True, False)
    """
    kernels = counterfactual_columns.registry
    return all(isinstance(m, AdditiveNoise) or any(k in kernels for k in type(m).__mro__[:-1])
               for m in scm.mechanisms.values())


def additive_worlds(scm, units: Mapping, acts: Mapping) -> tuple[dict, dict]:
    """Factual and counterfactual worlds of fully observed additive-noise units.

    The factual world is the data. In topological order, a variable that is not
    intervened on and has no changed parent keeps its factual value (its noise and
    parents are the same in both worlds); otherwise its counterfactual value is
    ``f(cf parents) + (value - f(factual parents))``, abduction and prediction at once
    (:func:`~workbench.scm.fast.counterfactual_columns`), then ChiRho's ``intervene``.

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, LinearGaussian, Shift
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, bias=1.0)})
    >>> fact, cf = additive_worlds(m, {"x": torch.tensor([1.0]), "y": torch.tensor([3.5])},
    ...                            {"x": Shift(-1.0)})
    >>> cf["x"], cf["y"]
    (tensor([0.]), tensor([1.5000]))
    """
    dtype = torch.get_default_dtype()
    fact = {v: units[v].to(dtype) for v in scm.variables}
    cf: dict[str, torch.Tensor] = {}
    differences: dict[str, torch.Tensor] = {}  # cf - factual, made once per variable when asked

    def difference(p):
        if p not in differences:
            differences[p] = cf[p] - fact[p]
        return differences[p]

    for v in scm.variables:
        mech, a = scm.mechanisms[v], acts.get(v)
        changed = any(cf[p] is not fact[p] for p in mech.parents)
        if a is None and not changed:
            cf[v] = fact[v]
        elif _is_hard(a):
            cf[v] = a.expand_as(fact[v])
        else:
            natural = fact[v]
            if changed:
                changes = ([difference(p) if cf[p] is not fact[p] else None for p in mech.parents]
                           if reads_changes(mech) else None)
                natural = counterfactual_columns(mech, fact[v], [fact[p] for p in mech.parents],
                                                 [cf[p] for p in mech.parents], changes)
            cf[v] = natural if a is None else intervene(natural, a)
    return fact, cf
