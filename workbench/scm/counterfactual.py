"""Counterfactuals by abduction, action and prediction.

"Had this unit's ``x`` been 0, what would its ``y`` have been?" is answered in
three steps (Pearl):

1. **Abduction**: find the noise ``u`` that explains the unit's observed values
   (exact for mechanisms invertible in their noise; a posterior sample for
   Gumbel-max discrete tables; and when some variables, such as a hidden
   confounder, are not observed, an approximate posterior by importance resampling).
2. **Action**: intervene, ``do(x = 0)``.
3. **Prediction**: run the intervened model with the same noise.

:func:`counterfactual` does steps 2-3 with ChiRho: the explicit-noise program runs
under ``MultiWorldCounterfactual`` (or ``TwinWorldCounterfactual``) with the noise
sites conditioned on the abducted noise, so factual and counterfactual worlds are
computed side by side and share their noise. :func:`counterfactual_by_hand` writes
the three steps out in plain torch, and ``method="chirho"`` lets ChiRho do the
abduction itself (additive-noise models); all three agree. With no Pyro handler
active, the same worlds are computed without Pyro (:mod:`workbench.scm.fast_worlds`).

Examples
--------
>>> import torch
>>> from workbench.scm import SCM, LinearGaussian
>>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, bias=1.0)})
>>> unit = {"x": torch.tensor([1.0]), "y": torch.tensor([3.5])}   # so u_y = 0.5
>>> r = counterfactual(m, unit, {"x": 0.0})
>>> r.counterfactual["y"], r.noise["U_y"]
(tensor([1.5000]), tensor([0.5000]))
>>> counterfactual_by_hand(m, unit, {"x": 0.0}).counterfactual["y"]
tensor([1.5000])
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from collections.abc import Mapping

import pyro
import torch
from chirho.counterfactual.handlers import MultiWorldCounterfactual, TwinWorldCounterfactual
from chirho.indexed.ops import IndexSet, gather
from chirho.interventional.handlers import do as chirho_do
from chirho.interventional.ops import intervene
from chirho.observational.handlers import condition as chirho_condition
from pyro.poutine.runtime import am_i_wrapped

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.runtime import device as default_device
from workbench.scm import fast_worlds
from workbench.scm.fast_worlds import by_sample
from workbench.scm.budget import check_memory
from workbench.scm.interventions import all_finite, as_values, check_category, check_interventions
from workbench.scm.sites import noise_site
from workbench.scm.weighting import likelihood_weighting

__all__ = ["CounterfactualResult", "abduct", "counterfactual", "counterfactual_by_hand", "complete_units", "world_handler"]


@dataclass(frozen=True)
class CounterfactualResult:
    """Factual values, counterfactual values and the abducted noise, per variable.

    Each tensor has shape ``(n,)`` (or ``(n_samples, n)`` when ``n_samples > 1``);
    the noise of a discrete variable has a trailing axis of its categories.
    ``noise`` is a mapping ``{"U_v": u_v}``; for fully observed additive-noise
    units it is an :class:`~workbench.scm.fast_worlds.AbductedNoise`, which abducts
    each entry when first read. ``exact`` says whether abduction was exact (every
    variable observed, every mechanism invertible): then one sample says it all.

    Examples
    --------
    >>> r = CounterfactualResult({"y": torch.tensor([1.0])}, {"y": torch.tensor([3.0])}, {})
    >>> r.effect("y")
    tensor([2.])
    """

    factual: dict
    counterfactual: dict
    noise: Mapping
    exact: bool = True

    def effect(self, variable: str) -> torch.Tensor:
        """Counterfactual minus factual value of ``variable``, unit by unit."""
        return self.counterfactual[variable].float() - self.factual[variable].float()


def _check_factual(scm, factual: Mapping) -> tuple[dict, int]:
    if not isinstance(factual, Mapping) or not factual:
        raise WorkbenchInputError("factual must be a non-empty mapping {variable: values}.")
    out, n = {}, None
    for v, x in factual.items():
        if v not in scm.mechanisms:
            raise UnknownVariableError(v, scm.variables)
        t = as_values(f"factual[{v!r}]", x, default_device())
        t = t.reshape(1) if t.dim() == 0 else t
        if t.dim() != 1:
            raise ShapeError(f"factual[{v!r}] has shape {tuple(t.shape)}; give a 1-D tensor, one value per unit.")
        if n is not None and t.shape[0] != n:
            raise ShapeError(f"factual[{v!r}] has {t.shape[0]} units but another variable has {n}.")
        n = t.shape[0]
        if not all_finite(t):
            raise NonFiniteValueError(f"factual[{v!r}] contains NaN or infinity; drop or fix those units.")
        if scm.mechanisms[v].cardinality is not None:
            t = check_category(f"factual[{v!r}]", t, scm.mechanisms[v])
        out[v] = t
    if scm.interventions:
        raise WorkbenchInputError(
            "Ask counterfactuals of the unintervened model and pass the intervention as do=...; "
            f"this model already has do({dict(scm.interventions)})."
        )
    return out, n


def complete_units(scm, factual: Mapping, n_samples: int = 1, *,
                   particles: int = 2000) -> dict[str, torch.Tensor]:
    """Fill in unobserved variables of each unit by importance resampling.

    Returns ``{variable: tensor (n_samples * n,)}`` (sample-major: unit ``i`` of
    sample ``s`` is at ``s * n + i``). Variables given in ``factual`` are copied;
    the others are drawn from their posterior given the unit's observed values,
    approximately, from ``particles`` prior draws per unit
    (:func:`~workbench.scm.weighting.likelihood_weighting`).

    Examples
    --------
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 1.0})})
    >>> filled = complete_units(m, {"y": torch.tensor([2.0])}, n_samples=500, particles=500)
    >>> filled["x"].shape, abs(float(filled["x"].mean()) - 1.0) < 0.2   # E[x | y = 2] = 1
    (torch.Size([500]), True)
    """
    factual, n = _check_factual(scm, factual)
    return _complete(scm, factual, n, n_samples, particles)


def _complete(scm, factual: dict, n: int, n_samples: int, particles: int) -> dict[str, torch.Tensor]:
    """:func:`complete_units` on already checked ``factual`` data of ``n`` units."""
    missing = [v for v in scm.variables if v not in factual]
    if not missing:
        return {v: x.repeat(n_samples) if n_samples > 1 else x for v, x in factual.items()}
    draws, logw = likelihood_weighting(scm, {v: x.repeat(particles) for v, x in factual.items()},
                                       particles * n)
    logw = logw.reshape(particles, n)
    if not torch.isfinite(logw).any(0).all():
        raise WorkbenchInputError("Some factual units have probability zero under the model.")
    idx = torch.multinomial(torch.softmax(logw, 0).T, n_samples, replacement=True).T  # (S, n)
    units = torch.arange(n, device=idx.device).expand(n_samples, n)
    out = {v: x.repeat(n_samples) for v, x in factual.items()}
    for v in missing:
        out[v] = draws[v].reshape(particles, n)[idx, units].reshape(-1)
    return out


def abduct(scm, units: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Step 1: the noise of every variable, given complete units (all variables).

    Exact for invertible mechanisms; one posterior sample per unit for
    :class:`~workbench.scm.DiscreteCPT` (repeat units to get more). Each noise is
    ``mechanism.abduct(value, parents)``.

    Examples
    --------
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
    >>> abduct(m, {"x": torch.tensor([1.0]), "y": torch.tensor([2.5])})
    {'U_x': tensor([1.]), 'U_y': tensor([0.5000])}
    """
    noise = {}
    with torch.no_grad():
        for v in scm.variables:
            mech = scm.mechanisms[v]
            noise[noise_site(v)] = mech.abduct(units[v], _parents(units, mech, units[v].shape[0]))
    return noise


def _parents(values: Mapping[str, torch.Tensor], mech, n: int) -> torch.Tensor:
    """The parents' values stacked into ``pa``, ``(n, n_parents)``."""
    if not mech.parents:
        return torch.zeros(n, 0, device=default_device())
    return torch.stack([values[p].to(torch.get_default_dtype()) for p in mech.parents], dim=-1)


def counterfactual(scm, factual: Mapping, do: Mapping, *, n_samples: int = 1,
                   worlds: str = "multi", method: str = "abduct",
                   particles: int = 2000, sample_only_if_needed: bool = False) -> CounterfactualResult:
    """Unit-level counterfactuals: each unit's values had ``do`` been applied.

    Parameters
    ----------
    scm : SCM
        An unintervened model.
    factual : mapping of str to 1-D tensors
        The observed units. Unobserved variables (e.g. latent ones) are filled in
        approximately by :func:`complete_units`.
    do : mapping
        The intervention (same forms as :meth:`SCM.do`).
    n_samples : int
        Posterior samples per unit; use more than 1 when abduction is not exact
        (discrete tables, unobserved variables) and average over axis 0.
    worlds : {"multi", "twin"}
        ChiRho's ``MultiWorldCounterfactual`` or ``TwinWorldCounterfactual``.
    method : {"abduct", "chirho"}
        ``"abduct"``: our abduction, then ChiRho's worlds on the explicit-noise
        program. ``"chirho"``: ChiRho conditions the density form and abducts
        additive noise itself (every variable observed, additive mechanisms only).
    particles : int
        Prior draws per unit when filling in unobserved variables.
    sample_only_if_needed : bool
        Draw ``n_samples`` only when abduction is not exact; when it is (every
        variable observed, every mechanism invertible) draw one, as ``n_samples=1``.

    Notes
    -----
    A router over four routes that give the same values (to float rounding). Inside
    a Pyro handler: :func:`_chirho_worlds` (``method="abduct"``) or
    :func:`_chirho_abducts` (``method="chirho"``). With ``method="abduct"`` and no
    handler active, nobody watches the sites: fully observed additive-noise units take
    :func:`_bare_additive` (only the variables an intervention reaches are recomputed,
    each as ``f(cf parents) + (value - f(factual parents))``; the noise is abducted when
    read), other models :func:`_bare` (abduct every noise, run the factual world from
    it, then rerun only what the intervention reaches).

    Examples
    --------
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, bias=1.0)})
    >>> unit = {"x": torch.tensor([1.0]), "y": torch.tensor([3.5])}
    >>> counterfactual(m, unit, {"x": 0.0}, worlds="twin").counterfactual["y"]
    tensor([1.5000])
    """
    for name, value in (("n_samples", n_samples), ("particles", particles)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise WorkbenchInputError(f"{name} must be a positive integer, got {value!r}.")
    if worlds not in ("multi", "twin"):
        raise WorkbenchInputError(f"worlds must be 'multi' or 'twin', got {worlds!r}.")
    if method not in ("abduct", "chirho"):
        raise WorkbenchInputError(f"method must be 'abduct' or 'chirho', got {method!r}.")
    checked, n = _check_factual(scm, factual)
    acts = check_interventions(do, scm.mechanisms, default_device())
    if not acts:
        raise WorkbenchInputError("do is empty: name at least one intervention, e.g. do={'x': 0.0}.")
    observed_all = len(checked) == len(scm.variables)
    exact = observed_all and all(m.invertible for m in scm.mechanisms.values())
    if sample_only_if_needed and exact:
        n_samples = 1
    if method == "chirho" and not exact:
        raise WorkbenchInputError("method='chirho' needs every variable observed and additive "
                                  "(invertible) mechanisms; use method='abduct'.")
    check_memory(scm, n * max(2 * n_samples, 0 if observed_all else particles),
                 f"counterfactual of {n} units with n_samples={n_samples}")
    units = _complete(scm, checked, n, n_samples, particles)
    acts = {v: (a.expand(n).repeat(n_samples) if isinstance(a, torch.Tensor) else a) for v, a in acts.items()}
    if method == "chirho":
        route = _chirho_abducts
    elif am_i_wrapped():
        route = _chirho_worlds
    elif observed_all and fast_worlds.all_additive(scm):
        route = _bare_additive
    else:
        route = _bare
    fact, cf, noise = route(scm, units, acts, n_samples, n, worlds)
    m = n_samples * n
    fact, cf = ({v: by_sample(x.expand(*x.shape[:-1], m), n_samples, n) for v, x in d.items()}
                for d in (fact, cf))
    return CounterfactualResult(fact, cf, noise, exact)


def _shaped(noise: Mapping, n_samples: int, n: int) -> dict:
    return {k: by_sample(u, n_samples, n) for k, u in noise.items()}


def _bare_additive(scm, units, acts, n_samples, n, worlds):
    """Fully observed additive-noise units, no handler: abduction and prediction in one
    step per variable an intervention reaches; the rest keep their factual values."""
    with torch.no_grad():
        fact, cf = fast_worlds.additive_worlds(scm, units, acts)
    return fact, cf, fast_worlds.AbductedNoise(scm, units, n_samples, n)


def _bare(scm, units, acts, n_samples, n, worlds):
    """No handler: the factual world is the program run on the abducted noise; the
    counterfactual world reruns only the variables an intervention reaches, same noise."""
    noise = fast_worlds.abduct_all(scm, units)
    with torch.no_grad():
        u = {v: noise[noise_site(v)] for v in scm.variables}
        fact = fast_worlds.run_direct(scm, n_samples * n, {}, u)
        cf = fast_worlds.run_direct(scm, n_samples * n, acts, u, reuse=fact)
    return fact, cf, _shaped(noise, n_samples, n)


def _chirho_worlds(scm, units, acts, n_samples, n, worlds):
    """Our abduction, then ChiRho's worlds on the explicit-noise program, noise sites
    conditioned on the abducted noise."""
    noise = abduct(scm, units)
    with world_handler(worlds):
        with pyro.poutine.condition(data=noise), chirho_do(actions=acts):
            values = scm.model(n_samples * n)
        fact, cf = _split_worlds(values, acts, worlds)
    return fact, cf, _shaped(noise, n_samples, n)


def _chirho_abducts(scm, units, acts, n_samples, n, worlds):
    """ChiRho conditions the density form on the units and abducts additive noise itself."""
    with world_handler(worlds):
        with chirho_condition(data=units), chirho_do(actions=acts):
            values = scm.model(n_samples * n, explicit_noise=False)
        fact, cf = _split_worlds(values, acts, worlds)
    return fact, cf, _shaped(abduct(scm, units), n_samples, n)


@contextmanager
def world_handler(worlds: str):
    """``torch.no_grad``, Pyro validation off, and ChiRho's multi- or twin-world handler.

    ``worlds="multi"`` gives one world per intervention (:class:`MultiWorldCounterfactual`),
    anything else the twin world (:class:`TwinWorldCounterfactual`).

    Examples
    --------
    >>> import torch
    >>> with world_handler("twin"):
    ...     torch.is_grad_enabled()
    False
    """
    handler = MultiWorldCounterfactual if worlds == "multi" else TwinWorldCounterfactual
    with torch.no_grad(), pyro.validation_enabled(False), handler(first_available_dim=-2):
        yield


def _split_worlds(values: Mapping, acts: Mapping, worlds: str) -> tuple[dict, dict]:
    """The factual (index 0) and counterfactual (index 1) world of every value, read
    inside the world handler. Values upstream of every intervention have no world
    dimension and are shared."""
    names = list(acts) if worlds == "multi" else ["__fresh_split__"]

    def world(x, i):
        return gather(x, IndexSet(**{k: {i} for k in names})) if x.dim() > 1 else x

    return {v: world(x, 0) for v, x in values.items()}, {v: world(x, 1) for v, x in values.items()}


def counterfactual_by_hand(scm, factual: Mapping, do: Mapping) -> CounterfactualResult:
    """The three steps in plain torch, no Pyro: the teaching path.

    Every variable must be observed and every mechanism invertible in its noise. Each
    step calls only the mechanisms' teaching methods: ``abduct``, then ``mech(pa, u)``
    and ChiRho's ``intervene``.

    Examples
    --------
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, bias=1.0)})
    >>> counterfactual_by_hand(m, {"x": torch.tensor([1.0]), "y": torch.tensor([3.5])},
    ...                        {"x": 0.0}).counterfactual["y"]
    tensor([1.5000])
    """
    units, n = _check_factual(scm, factual)
    acts = check_interventions(do, scm.mechanisms, default_device())
    if len(units) < len(scm.variables):
        missing = sorted(set(scm.variables) - set(units))
        raise WorkbenchInputError(f"The by-hand path needs every variable observed; missing {missing}.")
    not_invertible = [v for v in scm.variables if not scm.mechanisms[v].invertible]
    if not_invertible:
        raise WorkbenchInputError(f"The by-hand path needs mechanisms invertible in their noise; "
                                  f"{not_invertible} are not. Use counterfactual(..., n_samples=...).")
    # 1. abduction: u_v = f_v^{-1}(x_v; parents)
    noise = {v: scm.mechanisms[v].abduct(units[v], _parents(units, scm.mechanisms[v], n)) for v in scm.variables}
    # 2. action and 3. prediction: recompute in topological order with the same noise
    cf: dict[str, torch.Tensor] = {}
    for v in scm.variables:
        mech = scm.mechanisms[v]
        natural = mech(_parents(cf, mech, n), noise[v])
        cf[v] = intervene(natural, acts.get(v)).expand(n)
    return CounterfactualResult(dict(units), cf, {noise_site(v): u for v, u in noise.items()})
