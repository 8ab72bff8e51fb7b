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
abduction itself (additive-noise models); all three agree.

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

from dataclasses import dataclass
from collections.abc import Mapping

import pyro
import torch
from chirho.counterfactual.handlers import MultiWorldCounterfactual, TwinWorldCounterfactual
from chirho.indexed.ops import IndexSet, gather
from chirho.interventional.handlers import do as chirho_do
from chirho.observational.handlers import condition as chirho_condition

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.scm.interventions import all_finite, check_interventions
from workbench.scm.mechanisms import AdditiveNoise
from workbench.scm.model import SCM, noise_site
from workbench.runtime import device as default_device

__all__ = ["AbductedNoise", "CounterfactualResult", "abduct", "counterfactual", "counterfactual_by_hand",
           "complete_units"]


@dataclass(frozen=True)
class CounterfactualResult:
    """Factual values, counterfactual values and the abducted noise, per variable.

    Each tensor has shape ``(n,)`` (or ``(n_samples, n)`` when ``n_samples > 1``);
    the noise of a discrete variable has a trailing axis of its categories.
    ``noise`` is a mapping ``{"U_v": u_v}``; for fully observed additive-noise
    units it is an :class:`AbductedNoise`, which abducts each entry when first read.
    """

    factual: dict
    counterfactual: dict
    noise: Mapping

    def effect(self, variable: str) -> torch.Tensor:
        """Counterfactual minus factual value of ``variable``, unit by unit."""
        return self.counterfactual[variable].float() - self.factual[variable].float()


def _check_factual(scm: SCM, factual: Mapping) -> tuple[dict, int]:
    if not isinstance(factual, Mapping) or not factual:
        raise WorkbenchInputError("factual must be a non-empty mapping {variable: values}.")
    out, n = {}, None
    for v, x in factual.items():
        if v not in scm.mechanisms:
            raise UnknownVariableError(v, scm.variables)
        t = torch.as_tensor(x, device=default_device())
        t = t.reshape(1) if t.dim() == 0 else t
        if t.dim() != 1:
            raise ShapeError(f"factual[{v!r}] has shape {tuple(t.shape)}; give a 1-D tensor, one value per unit.")
        if n is not None and t.shape[0] != n:
            raise ShapeError(f"factual[{v!r}] has {t.shape[0]} units but another variable has {n}.")
        n = t.shape[0]
        if not all_finite(t):
            raise NonFiniteValueError(f"factual[{v!r}] contains NaN or infinity; drop or fix those units.")
        out[v] = t
    if scm.interventions:
        raise WorkbenchInputError(
            "Ask counterfactuals of the unintervened model and pass the intervention as do=...; "
            f"this model already has do({dict(scm.interventions)})."
        )
    return out, n


def complete_units(scm: SCM, factual: Mapping, n_samples: int = 1, *,
                   particles: int = 2000) -> dict[str, torch.Tensor]:
    """Fill in unobserved variables of each unit by importance resampling.

    Returns ``{variable: tensor (n_samples * n,)}`` (sample-major: unit ``i`` of
    sample ``s`` is at ``s * n + i``). Variables given in ``factual`` are copied;
    the others are drawn from their posterior given the unit's observed values,
    approximately, from ``particles`` prior draws per unit.
    """
    factual, n = _check_factual(scm, factual)
    return _complete(scm, factual, n, n_samples, particles)


def _complete(scm: SCM, factual: dict, n: int, n_samples: int, particles: int) -> dict[str, torch.Tensor]:
    """:func:`complete_units` on already checked ``factual`` data of ``n`` units."""
    missing = [v for v in scm.variables if v not in factual]
    if not missing:
        return {v: x.repeat(n_samples) if n_samples > 1 else x for v, x in factual.items()}
    data = {v: x.repeat(particles) for v, x in factual.items()}
    with torch.no_grad():
        tr = pyro.poutine.trace(pyro.poutine.condition(scm.model, data=data)).get_trace(
            particles * n, explicit_noise=False)
    for v in factual:
        if tr.nodes[v]["infer"].get("_deterministic"):
            raise WorkbenchInputError(f"Cannot condition on {v!r}: its mechanism has no density; "
                                      "observe every variable or give it an invertible mechanism.")
    logw = sum(tr.nodes[v]["fn"].log_prob(tr.nodes[v]["value"]) for v in factual).reshape(particles, n)
    if not torch.isfinite(logw).any(0).all():
        raise WorkbenchInputError("Some factual units have probability zero under the model.")
    idx = torch.multinomial(torch.softmax(logw, 0).T, n_samples, replacement=True).T  # (S, n)
    units = torch.arange(n, device=idx.device).expand(n_samples, n)
    out = {v: x.repeat(n_samples) for v, x in factual.items()}
    for v in missing:
        out[v] = tr.nodes[v]["value"].expand(particles * n).reshape(particles, n)[idx, units].reshape(-1)
    return out


def abduct(scm: SCM, units: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Step 1: the noise of every variable, given complete units (all variables).

    Exact for invertible mechanisms; one posterior sample per unit for
    :class:`~workbench.scm.DiscreteCPT` (repeat units to get more).
    """
    noise = {}
    with torch.no_grad():
        for v in scm.variables:
            mech = scm.mechanisms[v]
            noise[noise_site(v)] = mech.abduct_columns(units[v], [units[p] for p in mech.parents])
    return noise


class AbductedNoise(Mapping):
    """The abducted noise ``{"U_v": u_v}`` of complete units, computed when first read.

    A counterfactual query needs the noise of the variables an intervention reaches
    only (and for additive mechanisms not even that, see :func:`_additive_worlds`);
    each entry is abducted on first access and then kept.
    """

    def __init__(self, scm: SCM, units: Mapping[str, torch.Tensor], n_samples: int = 1, n: int | None = None):
        self._scm, self._units, self._done = scm, units, {}
        self._samples, self._n = n_samples, n

    def __getitem__(self, site: str) -> torch.Tensor:
        if site not in self._done:
            v = site[2:] if site.startswith("U_") else None
            if v not in self._scm.mechanisms:
                raise KeyError(site)
            mech = self._scm.mechanisms[v]
            with torch.no_grad():
                u = mech.abduct_columns(self._units[v], [self._units[p] for p in mech.parents])
            self._done[site] = u if self._n is None else _shape(u, self._samples, self._n)
        return self._done[site]

    def __iter__(self):
        return (noise_site(v) for v in self._scm.variables)

    def __len__(self) -> int:
        return len(self._scm.variables)

    def __repr__(self) -> str:
        return f"AbductedNoise({', '.join(self)})"


def _all_additive(scm: SCM) -> bool:
    return all(isinstance(m, AdditiveNoise) for m in scm.mechanisms.values())


def _additive_worlds(scm: SCM, units: Mapping, acts: Mapping) -> tuple[dict, dict]:
    """Factual and counterfactual worlds of fully observed additive-noise units.

    The factual world is the data. In topological order, a variable that is not
    intervened on and has no changed parent keeps its factual value (its noise and
    parents are the same in both worlds); otherwise its counterfactual value is
    ``f(cf parents) + (value - f(factual parents))``, abduction and prediction at once
    (:meth:`AdditiveNoise.counterfactual_columns`), then the intervention is applied.
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
        elif a is not None and not callable(a):  # hard do: the natural value is not needed
            cf[v] = a.expand_as(fact[v])
        else:
            natural = fact[v]
            if changed:
                changes = ([difference(p) if cf[p] is not fact[p] else None for p in mech.parents]
                           if mech.reads_changes else None)
                natural = mech.counterfactual_columns(fact[v], [fact[p] for p in mech.parents],
                                                      [cf[p] for p in mech.parents], changes)
            cf[v] = natural if a is None else a(natural)
    return fact, cf


def _shape(t: torch.Tensor, n_samples: int, n: int) -> torch.Tensor:
    t = t.reshape(n_samples, n) if t.numel() == n_samples * n else t.reshape(n_samples, n, -1)
    return t[0] if n_samples == 1 else t


def counterfactual(scm: SCM, factual: Mapping, do: Mapping, *, n_samples: int = 1,
                   worlds: str = "multi", method: str = "abduct",
                   particles: int = 2000) -> CounterfactualResult:
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

    Notes
    -----
    With ``method="abduct"`` and no Pyro handler active, nobody watches the sample
    sites, so the two worlds are computed without handlers, with the same values as
    ChiRho's worlds (to float rounding). Fully observed additive-noise units take the
    shortest route: the factual world is the data, and only the variables an
    intervention reaches are recomputed, each as ``f(cf parents) + (value - f(factual
    parents))``; the noise is abducted when read. Other models abduct every noise,
    run the factual world from it, then rerun only the variables an intervention reaches.
    """
    if worlds not in ("multi", "twin"):
        raise WorkbenchInputError(f"worlds must be 'multi' or 'twin', got {worlds!r}.")
    if method not in ("abduct", "chirho"):
        raise WorkbenchInputError(f"method must be 'abduct' or 'chirho', got {method!r}.")
    checked, n = _check_factual(scm, factual)
    acts = check_interventions(do, scm.mechanisms, default_device())
    if not acts:
        raise WorkbenchInputError("do is empty: name at least one intervention, e.g. do={'x': 0.0}.")
    units = _complete(scm, checked, n, n_samples, particles)
    m = n_samples * n
    acts = {v: (a.expand(n).repeat(n_samples) if isinstance(a, torch.Tensor) else a) for v, a in acts.items()}
    shape = lambda d: {v: _shape(x.expand(*x.shape[:-1], m), n_samples, n) for v, x in d.items()}  # noqa: E731
    bare = method == "abduct" and not pyro.poutine.runtime._PYRO_STACK
    if bare and len(checked) == len(scm.variables) and _all_additive(scm):
        # Every variable observed, every mechanism additive: abduction and prediction in one
        # step per variable an intervention reaches; the rest keep their factual values.
        with torch.no_grad():
            fact, cf = _additive_worlds(scm, units, acts)
        return CounterfactualResult(shape(fact), shape(cf), AbductedNoise(scm, units, n_samples, n))
    noise = abduct(scm, units)
    if bare:
        # Nobody is watching the sites: compute the same two worlds without handlers. The
        # factual world is the program with the abducted noise; the counterfactual world
        # reruns only the variables an intervention reaches, with the same noise.
        with torch.no_grad():
            u = {v: noise[noise_site(v)] for v in scm.variables}
            fact = scm._direct(m, {}, u)
            cf = scm._direct(m, acts, u, reuse=fact)
        return CounterfactualResult(shape(fact), shape(cf),
                                    {k: _shape(x, n_samples, n) for k, x in noise.items()})
    Handler = MultiWorldCounterfactual if worlds == "multi" else TwinWorldCounterfactual
    with torch.no_grad(), pyro.validation_enabled(False), Handler(first_available_dim=-2):
        if method == "abduct":
            with pyro.poutine.condition(data=noise), chirho_do(actions=acts):
                values = scm.model(m)
        else:
            if any(not scm.mechanisms[v].invertible for v in scm.variables) or len(checked) < len(scm.variables):
                raise WorkbenchInputError("method='chirho' needs every variable observed and additive "
                                          "(invertible) mechanisms; use method='abduct'.")
            with chirho_condition(data=units), chirho_do(actions=acts):
                values = scm.model(m, explicit_noise=False)
        names = list(acts) if worlds == "multi" else ["__fresh_split__"]

        def world(x, i):  # values upstream of every intervention have no world dimension
            return gather(x, IndexSet(**{k: {i} for k in names})) if x.dim() > 1 else x

        fact = {v: world(x, 0) for v, x in values.items()}
        cf = {v: world(x, 1) for v, x in values.items()}
    return CounterfactualResult(shape(fact), shape(cf),
                                {k: _shape(u, n_samples, n) for k, u in noise.items()})


def counterfactual_by_hand(scm: SCM, factual: Mapping, do: Mapping) -> CounterfactualResult:
    """The three steps in plain torch, no Pyro: the teaching path.

    Every variable must be observed and every mechanism invertible in its noise.
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
    noise = {v: scm.mechanisms[v].abduct_columns(units[v], [units[p] for p in scm.mechanisms[v].parents])
             for v in scm.variables}
    # 2. action and 3. prediction: recompute in topological order with the same noise
    cf: dict[str, torch.Tensor] = {}
    for v in scm.variables:
        mech = scm.mechanisms[v]
        natural = mech.call_columns([cf[p] for p in mech.parents], noise[v])
        a = acts.get(v)
        cf[v] = natural if a is None else (a(natural) if callable(a) else a.expand(n))
    return CounterfactualResult(dict(units), cf, {noise_site(v): u for v, u in noise.items()})
