"""The structural causal model: a graph, one mechanism and one noise per variable.

An :class:`SCM` is built from a mapping ``{variable: mechanism}``; each mechanism
names its parents, so the graph follows from the mechanisms and is checked for
cycles. The model runs as a Pyro program (:meth:`SCM.model`), vectorised over
units with ``pyro.plate("units", n)``::

    for v in topological order:
        U_v = pyro.sample("U_v", noise_v)            # exogenous noise
        v   = pyro.deterministic("v", f_v(pa_v, U_v))  # the mechanism

Interventions are ChiRho's ``do`` handler around that program, so no site is
renamed, and every method returns plain tensors or a *new* model: an SCM is never
mutated. When no Pyro handler is active, :meth:`SCM.sample` computes the same values
without Pyro (:mod:`workbench.scm.fast_worlds`).

Examples
--------
>>> import torch
>>> from workbench.scm import SCM, LinearGaussian
>>> m = SCM({"x": LinearGaussian(noise_scale=1.0),
...          "y": LinearGaussian({"x": 2.0}, bias=1.0, noise_scale=0.5)})
>>> m.variables
['x', 'y']
>>> s = m.do(x=3.0).sample(20000, seed=0)
>>> round(float(s["y"].mean()), 1), round(float(s["y"].std()), 1)
(7.0, 0.5)
>>> m.do(X=1.0)
Traceback (most recent call last):
...
workbench.errors.UnknownVariableError: Unknown variable 'X'. ...
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping

import networkx as nx
import pyro
import torch
from chirho.interventional.handlers import do as chirho_do

from workbench.errors import (
    NonFiniteValueError, ShapeError, UnknownVariableError, WorkbenchInputError,
)
from workbench.graphs import ADMG, dag, topological_order
from workbench.graphs.projection import latent_projection
from workbench.runtime import device as default_device
from workbench.scm import fast_worlds
from workbench.scm.counterfactual import counterfactual
from workbench.scm.budget import check_memory
from workbench.scm.interventions import all_finite, as_values, check_category, check_interventions
from workbench.scm.mechanisms import Mechanism
from workbench.scm.sites import UNITS, noise_site
from workbench.scm.weighting import likelihood_weighting

__all__ = ["SCM", "noise_site", "parent_tensor", "ParentTableError"]


class ParentTableError(WorkbenchInputError):
    """A probability table whose axes do not match its parents (a continuous parent, a missing row).

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, DiscreteCPT, LinearGaussian
    >>> SCM({"x": LinearGaussian(), "y": DiscreteCPT(["x"], torch.full((2, 2), 0.5))})
    Traceback (most recent call last):
    ...
    workbench.scm.model.ParentTableError: The table of 'y' has a row per category of its parent 'x', but 'x' is continuous ...
    """


def parent_tensor(values: Mapping[str, torch.Tensor], mech: Mechanism, n: int, dev) -> torch.Tensor:
    """Stack the parents' values into ``(..., n_parents)`` (broadcasting world dims).

    The one place a Pyro program turns ``values[parent]`` into the ``pa`` a mechanism takes,
    ``mech(pa, u)``; a root gets an empty ``(n, 0)`` tensor.

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import LinearGaussian
    >>> mech = LinearGaussian({"a": 1.0, "b": 2.0})
    >>> parent_tensor({"a": torch.zeros(3), "b": torch.ones(3)}, mech, 3, "cpu")[0]
    tensor([0., 1.])
    >>> parent_tensor({}, LinearGaussian({}), 3, "cpu").shape
    torch.Size([3, 0])
    """
    if not mech.parents:
        return torch.zeros(n, 0, device=dev)
    cols = torch.broadcast_tensors(*[values[p].to(torch.get_default_dtype()) for p in mech.parents])
    return torch.stack(cols, dim=-1)


def _check_tables(mechanisms: Mapping[str, Mechanism]) -> None:
    """A table's axes must match its parents: each parent discrete, with one row per category."""
    for v, m in mechanisms.items():
        rows = getattr(m, "parent_cardinalities", None)
        if rows is None:
            continue
        for p, k in zip(m.parents, rows):
            parent = mechanisms[p]
            if parent.cardinality is None:
                raise ParentTableError(
                    f"The table of {v!r} has a row per category of its parent {p!r}, but {p!r} is "
                    f"continuous ({type(parent).__name__}); its values would be read as row numbers. "
                    f"Make {p!r} discrete (a DiscreteCPT, or a FunctionMechanism with cardinality=k).")
            if parent.cardinality != k:
                raise ParentTableError(
                    f"The table of {v!r} has {k} rows for its parent {p!r}, which has "
                    f"{parent.cardinality} categories; give one row per category "
                    f"(axis {m.parents.index(p)} of the table must have size {parent.cardinality}).")


def _check_units(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise WorkbenchInputError(f"The number of units must be a positive integer, got {n!r}.")
    return n


class SCM:
    """A structural causal model.

    Parameters
    ----------
    mechanisms : mapping of str to Mechanism
        One mechanism per variable; parents are named by the mechanisms.
    latent : iterable of str, optional
        Variables that are part of the generating model but hidden from
        :meth:`sample` unless ``include_latent=True`` (e.g. a hidden confounder).
    interventions : mapping, optional
        Interventions applied by the program (use :meth:`do` rather than this).

    Examples
    --------
    >>> from workbench.scm import LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})}, name="pair")
    >>> m, m.variables
    (SCM('pair': 2 variables), ['x', 'y'])
    >>> m.do(x=1.0).sample(3, seed=0)["x"]
    tensor([1., 1., 1.])
    """

    def __init__(self, mechanisms: Mapping[str, Mechanism], *, latent: Iterable[str] = (),
                 interventions: Mapping | None = None, observations: Mapping | None = None,
                 name: str = "scm"):
        if not isinstance(mechanisms, Mapping) or not mechanisms:
            raise WorkbenchInputError("An SCM needs a non-empty mapping {variable: mechanism}.")
        for v, m in mechanisms.items():
            if not isinstance(m, Mechanism):
                raise WorkbenchInputError(
                    f"The mechanism of {v!r} is a {type(m).__name__}, not a workbench Mechanism "
                    "(LinearGaussian, AdditiveNoise, DiscreteCPT or FunctionMechanism)."
                )
            for p in m.parents:
                if p not in mechanisms:
                    raise UnknownVariableError(p, list(mechanisms), what="parent")
            if noise_site(v) in mechanisms:
                raise WorkbenchInputError(f"{noise_site(v)!r} is reserved for the noise of {v!r}; rename it.")
        _check_tables(mechanisms)
        dev = default_device()
        self._mechanisms = MappingProxyType({v: m.to(dev) for v, m in mechanisms.items()})
        self._graph = dag([(p, v) for v, m in mechanisms.items() for p in m.parents], nodes=mechanisms)
        latent = list(latent)
        for v in latent:
            if v not in mechanisms:
                raise UnknownVariableError(v, list(mechanisms))
        self._latent = frozenset(latent)
        for v in self._graph.nodes:
            self._graph.nodes[v]["latent"] = v in self._latent
        self._order = topological_order(self._graph)
        self._interventions = MappingProxyType(check_interventions(interventions or {}, self._mechanisms))
        self._observations = MappingProxyType(self._check_observations(observations or {}))
        self.name = name

    # ------------------------------------------------------------------ views
    @property
    def mechanisms(self) -> Mapping[str, Mechanism]:
        """``{variable: mechanism}`` (read-only)."""
        return self._mechanisms

    @property
    def variables(self) -> list[str]:
        """All variables in a topological order (latent ones included)."""
        return list(self._order)

    @property
    def observed(self) -> list[str]:
        """The variables :meth:`sample` returns, in topological order (latent ones left out)."""
        return [v for v in self._order if v not in self._latent]

    @property
    def latent(self) -> frozenset:
        """The hidden variables."""
        return self._latent

    @property
    def interventions(self) -> Mapping:
        """The interventions applied by the program (read-only), from :meth:`do`."""
        return self._interventions

    @property
    def observations(self) -> Mapping:
        """The observed values the model is conditioned on (read-only), from :meth:`condition`."""
        return self._observations

    @property
    def graph(self) -> nx.DiGraph:
        """The causal DAG (a copy; latent nodes carry ``latent=True``)."""
        return self._graph.copy()

    def observed_graph(self) -> ADMG:
        """The latent projection: an ADMG over the observed variables
        (:func:`workbench.graphs.latent_projection` of :attr:`graph`).

        Examples
        --------
        >>> from workbench.scm import smoking_front_door
        >>> smoking_front_door().observed_graph()
        ADMG([smoking->tar, tar->cancer], bidirected=[smoking<->cancer])
        """
        return latent_projection(self._graph, self._latent)

    def __repr__(self) -> str:
        extra = f", do={dict(self._interventions)}" if self._interventions else ""
        lat = f", latent={sorted(self._latent)}" if self._latent else ""
        return f"SCM({self.name!r}: {len(self._order)} variables{lat}{extra})"

    # ----------------------------------------------------- copy-returning ops
    def _with(self, **changes) -> "SCM":
        kwargs = dict(mechanisms=self._mechanisms, latent=self._latent,
                      interventions=self._interventions, observations=self._observations,
                      name=self.name)
        kwargs.update(changes)
        return SCM(**kwargs)

    def do(self, actions: Mapping | None = None, /, **kw) -> "SCM":
        """A new model with interventions added: ``m.do(x=1.0)`` or ``m.do({"x": Shift(1)})``.

        Raises :class:`~workbench.errors.UnknownVariableError` for a name the model
        does not have (Pyro alone would silently ignore it).
        """
        new = dict(actions or {}, **kw)
        check_interventions(new, self._mechanisms)
        return self._with(interventions={**self._interventions, **new})

    def replace(self, mechanisms: Mapping[str, Mechanism] | None = None, /, **kw) -> "SCM":
        """A soft intervention: a new model with some mechanisms swapped (same site names)."""
        new = dict(mechanisms or {}, **kw)
        for v in new:
            if v not in self._mechanisms:
                raise UnknownVariableError(v, list(self._mechanisms))
        return self._with(mechanisms={**self._mechanisms, **new})

    def condition(self, data: Mapping | None = None, /, **kw) -> "SCM":
        """A new model conditioned on observed values (sampled by importance resampling)."""
        return self._with(observations={**self._observations, **dict(data or {}, **kw)})

    def _check_observations(self, data: Mapping) -> dict:
        out = {}
        for v, x in data.items():
            if v not in self._mechanisms:
                raise UnknownVariableError(v, list(self._mechanisms))
            t = as_values(f"condition({v}=...)", x)
            if t.dim() > 1:
                raise ShapeError(f"Observation of {v!r} has shape {tuple(t.shape)}; give a scalar "
                                 "or one value per unit.")
            if not all_finite(t):
                raise NonFiniteValueError(f"Observation of {v!r} contains NaN or infinity.")
            if self._mechanisms[v].cardinality is not None:
                t = check_category(f"condition({v}=...)", t, self._mechanisms[v])
            out[v] = t
        return out

    # ------------------------------------------------------------ the program
    def _actions(self, n: int, extra: Mapping | None = None) -> dict:
        acts = dict(self._interventions)
        acts.update(check_interventions(extra or {}, self._mechanisms))
        dev = default_device()
        for v, a in acts.items():
            if isinstance(a, torch.Tensor):
                if a.dim() == 1 and a.shape[0] != n:
                    raise ShapeError(f"do({v}=...) has {a.shape[0]} values but there are {n} units.")
                acts[v] = a.to(dev).expand(n)
        return acts

    def model(self, n: int, *, explicit_noise: bool = True) -> dict[str, torch.Tensor]:
        """The SCM as a Pyro program over ``n`` units; returns ``{variable: values}``.

        With ``explicit_noise=True`` (the default) every variable has a noise site
        ``U_v`` and a deterministic site ``v``. With ``False``, each variable is a
        single site ``v ~ P(v | parents)`` (a ``TransformedDistribution`` of the
        noise for additive mechanisms), the form used for conditioning and for
        ChiRho's own abduction. Apply more handlers (``do``, ``condition``,
        ``MultiWorldCounterfactual``) around a call to this method.
        """
        n = _check_units(n)
        check_memory(self, n, f"model({n})")
        with chirho_do(actions=self._actions(n)):
            return self._program(n, explicit_noise)

    def _program(self, n: int, explicit_noise: bool) -> dict[str, torch.Tensor]:
        values: dict[str, torch.Tensor] = {}
        dev = default_device()
        with pyro.plate(UNITS, n, dim=-1):
            for v in self._order:
                mech = self._mechanisms[v]
                pa = parent_tensor(values, mech, n, dev)
                if not explicit_noise and mech.has_density:
                    values[v] = pyro.sample(v, mech.distribution(pa))
                else:  # the explicit-noise form (also for a mechanism with no density)
                    u = pyro.sample(noise_site(v), mech.noise())
                    values[v] = pyro.deterministic(v, mech(pa, u), event_dim=0)
        return values

    def counterfactual(self, factual: Mapping, do: Mapping, **options):
        """Unit-level counterfactuals; see :func:`workbench.scm.counterfactual`."""
        return counterfactual(self, factual, do, **options)

    # ----------------------------------------------------------- sampling
    def sample(self, n: int, *, include_latent: bool = False, seed: int | None = None,
               particles: int | None = None) -> dict[str, torch.Tensor]:
        """Draw ``n`` units: a dict ``{variable: tensor of shape (n,)}``.

        Latent variables are left out unless ``include_latent=True``. A model with
        observations (see :meth:`condition`) is sampled by importance resampling
        from ``particles`` prior draws (default ``20 * n``).

        Called with no Pyro handler active, the mechanisms are run directly in
        topological order: the same noise draws and values as :meth:`model` under
        ChiRho's ``do``, without the per-site handler work. Inside any handler (a
        trace, a ``do``, a condition) the Pyro program runs, so the handler sees every site.
        """
        n = _check_units(n)
        check_memory(self, n if not self._observations else (particles or 20 * n), f"sample({n})")
        if seed is not None:
            pyro.set_rng_seed(int(seed))
        # inputs were validated up front, so Pyro's own checks of every site can be skipped
        with torch.no_grad(), pyro.validation_enabled(False):
            if self._observations:
                values = self._posterior_sample(n, particles or 20 * n)
            elif fast_worlds.runs_bare(self):  # same draws as the program, no per-site handlers
                values = fast_worlds.run_direct(self, n, self._actions(n))
            else:
                values = self.model(n)
        keep = self._order if include_latent else self.observed
        return {v: values[v].expand(n) for v in keep}

    def _posterior_sample(self, n: int, particles: int) -> dict[str, torch.Tensor]:
        particles = _check_units(particles)
        obs = {}
        for v, x in self._observations.items():
            if x.dim() == 1:
                raise ShapeError("Per-unit observations are for counterfactual(); condition() "
                                 "takes one value per variable.")
            obs[v] = x.to(default_device()).expand(particles)
        draws, logw = likelihood_weighting(self, obs, particles)
        if not torch.isfinite(logw).any():
            raise WorkbenchInputError(
                f"The observations {dict(self._observations)} have probability zero under the model.")
        idx = torch.multinomial(torch.softmax(logw, 0), n, replacement=True)
        return {v: draws[v][idx] for v in self._order}
