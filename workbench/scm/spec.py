"""Save an SCM as plain JSON data and load it back, identical bit for bit.

A *spec* is a dict of plain JSON types (str, float, int, list, dict) describing a
model completely::

    {"format": "workbench.scm/1",          # the version of this layout
     "name": "asia",
     "variables": ["asia", "smoke", ...],  # the order the model was built in
     "latent": [],
     "graph": {"edges": [["asia", "tub"], ...]},
     "mechanisms": {"tub": {"kind": "discrete_cpt", "parents": ["asia"],
                            "table": <tensor>, "noise": {"kind": "gumbel_max", ...}}, ...},
     "interventions": {}, "observations": {}}

A ``<tensor>`` is ``{"dtype": "float32", "shape": [2, 2], "data": [[...], [...]]}``.
Every float32 number is also a float64 number, and JSON writes Python floats with
enough digits to read back the same float64, so the nested lists hold every weight
exactly: a loaded model draws the same samples from the same seed. (That is why a
probability 0.7 stored as float32 reads 0.699999988079071: the float32 value, written out.)

Mechanism kinds: ``linear_gaussian`` (:class:`~workbench.scm.LinearGaussian`),
``additive_noise`` (:class:`~workbench.scm.AdditiveNoise` whose ``f`` is an
:class:`~workbench.scm.mechanisms.MLP`, e.g. made by :func:`~workbench.scm.mlp`),
``discrete_cpt`` (:class:`~workbench.scm.DiscreteCPT`).
Additive noise may be normal, Laplace, Gumbel, uniform or Student-t. Code cannot be
saved as data: a :class:`~workbench.scm.FunctionMechanism`, an ``AdditiveNoise``
with a function of your own, or a ``Transform`` intervention raises
:class:`NotSerialisableError` naming the variable.

Examples
--------
>>> import json, os, tempfile
>>> from workbench.scm import SCM, LinearGaussian
>>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, noise_scale=0.5)})
>>> spec = scm_to_spec(m)
>>> spec["format"], spec["graph"]["edges"]
('workbench.scm/1', [['x', 'y']])
>>> spec["mechanisms"]["y"]["weights"], spec["mechanisms"]["y"]["noise"]["scale"]
([2.0], 0.5)
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> from workbench.scm import load_scm, save_scm     # the files: workbench.scm.files
>>> save_scm(m, path) == path
True
>>> again = load_scm(path)
>>> bool((again.sample(5, seed=0)["y"] == m.sample(5, seed=0)["y"]).all())
True
>>> scm_from_spec({**spec, "format": "workbench.scm/9"})
Traceback (most recent call last):
...
workbench.scm.spec.SpecError: Unknown spec format 'workbench.scm/9'; this workbench reads 'workbench.scm/1'. ...
"""

from __future__ import annotations

from typing import Any, Mapping

import pyro.distributions as dist
import torch

from workbench.errors import WorkbenchInputError
from workbench.scm.interventions import Shift, Transform
from workbench.scm.mechanisms import MLP, AdditiveNoise, DiscreteCPT, LinearGaussian
from workbench.scm.model import SCM

__all__ = ["FORMAT", "SpecError", "NotSerialisableError", "scm_to_spec", "scm_from_spec",
           "register_mechanism_kind", "tensor_to_spec", "tensor_from_spec"]

FORMAT = "workbench.scm/1"

# Scalar noise families an additive mechanism may use, with their parameters in order.
NOISE_KINDS = {"normal": (dist.Normal, ("loc", "scale")), "laplace": (dist.Laplace, ("loc", "scale")),
               "gumbel": (dist.Gumbel, ("loc", "scale")), "uniform": (dist.Uniform, ("low", "high")),
               "student_t": (dist.StudentT, ("df", "loc", "scale"))}
_TOP_LEVEL = ("format", "name", "variables", "latent", "graph", "mechanisms", "interventions", "observations")
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


class SpecError(WorkbenchInputError):
    """A spec (or JSON file) that is not a valid ``workbench.scm/1`` model description.

    Examples
    --------
    >>> scm_from_spec({"format": "workbench.scm/1"})
    Traceback (most recent call last):
    ...
    workbench.scm.spec.SpecError: ...
    """


class NotSerialisableError(WorkbenchInputError):
    """A model part that is code rather than data (a user function), so it cannot be saved.

    Examples
    --------
    >>> import torch, pyro.distributions as dist
    >>> from workbench.scm import SCM, FunctionMechanism
    >>> scm_to_spec(SCM({"x": FunctionMechanism([], lambda pa, u: u, dist.Normal(0.0, 1.0))}))
    Traceback (most recent call last):
    ...
    workbench.scm.spec.NotSerialisableError: ...
    """


# Mechanism kinds defined in areas below this one (e.g. flows in workbench.latents), which
# register themselves here on import: kind -> (class, to_spec(m) -> dict, from_spec(d, parents, where)).
_REGISTERED: dict[str, tuple[type, Any, Any]] = {}


def register_mechanism_kind(kind: str, cls: type, to_spec, from_spec) -> None:
    """Teach :func:`scm_to_spec` / :func:`scm_from_spec` a mechanism class of another area.

    ``to_spec(m)`` returns the JSON fields of ``m`` (besides ``kind`` and ``parents``,
    including a ``noise`` entry); ``from_spec(d, parents, where)`` rebuilds it, raising
    :class:`SpecError` for bad fields. Use :func:`tensor_to_spec` / :func:`tensor_from_spec`
    for tensors, so that weights are stored exactly.

    Examples
    --------
    >>> import workbench.latents  # registers the flow kind
    >>> "flow" in _REGISTERED
    True
    """
    _REGISTERED[str(kind)] = (cls, to_spec, from_spec)


# ------------------------------------------------------------------ tensors and noise
def _tensor_to_spec(t: torch.Tensor) -> dict:
    t = t.detach().cpu()
    name = {v: k for k, v in DTYPES.items()}.get(t.dtype)
    if name is None:
        raise NotSerialisableError(
            f"Tensors of dtype {t.dtype} cannot be saved; use float32, float64 or int64.")
    return {"dtype": name, "shape": list(t.shape), "data": t.tolist()}


def _tensor_from_spec(d, where: str) -> torch.Tensor:
    d = _fields(d, where, "dtype", "shape", "data")
    if d["dtype"] not in DTYPES:
        raise SpecError(f"{where}: unknown dtype {d['dtype']!r}; use one of {sorted(DTYPES)}.")
    try:
        t = torch.tensor(d["data"], dtype=DTYPES[d["dtype"]])
        shape = torch.Size(d["shape"])
    except (TypeError, ValueError, RuntimeError) as exc:
        raise SpecError(f"{where}: data is not a rectangular nested list of numbers ({exc}).") from exc
    if t.numel() == 0 and shape.numel() == 0:
        t = t.reshape(shape)  # an empty list has lost its shape, e.g. (0, 8)
    if t.shape != shape:
        raise SpecError(f"{where}: data has shape {tuple(t.shape)} but shape says {tuple(shape)}.")
    return t


tensor_to_spec, tensor_from_spec = _tensor_to_spec, _tensor_from_spec


def _noise_to_spec(noise: dist.Distribution, where: str) -> dict:
    for kind, (cls, params) in NOISE_KINDS.items():
        if type(noise) is cls:
            values = [getattr(noise, p) for p in params]
            return {"kind": kind, "dtype": _tensor_to_spec(values[0])["dtype"],
                    **{p: float(v) for p, v in zip(params, values)}}
    raise NotSerialisableError(
        f"{where}: noise {type(noise).__name__} cannot be saved; use one of "
        f"{', '.join(c.__name__ for c, _ in NOISE_KINDS.values())} noise.")


def _noise_from_spec(d, where: str) -> dist.Distribution:
    kind = _fields(d, where, "kind")["kind"]
    if kind not in NOISE_KINDS:
        raise SpecError(f"{where}: unknown noise kind {kind!r}; known kinds: {', '.join(NOISE_KINDS)}.")
    cls, params = NOISE_KINDS[kind]
    d = _fields(d, where, "dtype", *params)
    dtype = DTYPES.get(d["dtype"])
    if dtype is None or not dtype.is_floating_point:
        raise SpecError(f"{where}: noise dtype must be float32 or float64, got {d['dtype']!r}.")
    return cls(*[torch.tensor(_number(d[p], f"{where}.{p}"), dtype=dtype) for p in params])


# ------------------------------------------------------------------ mechanisms
def _mechanism_to_spec(v: str, m) -> dict:
    where = f"The mechanism of {v!r}"
    out: dict[str, Any] = {"parents": list(m.parents)}
    for kind, (cls, to_spec, _) in _REGISTERED.items():
        if type(m) is cls:
            return {"kind": kind, **out, **to_spec(m)}
    if type(m) is LinearGaussian:
        return {"kind": "linear_gaussian", **out, "weights": [float(w) for w in m.weights.values()],
                "bias": float(m.bias), "noise": {"kind": "normal", "dtype": "float32", "loc": 0.0,
                                                 "scale": float(m.noise_scale)}}
    if type(m) is DiscreteCPT:
        return {"kind": "discrete_cpt", **out, "table": _tensor_to_spec(m.table),
                "noise": {"kind": "gumbel_max", "categories": m.cardinality}}
    if type(m) is AdditiveNoise:
        if type(m.f) is not MLP:
            raise NotSerialisableError(
                f"{where} is an AdditiveNoise with a function of your own "
                f"({getattr(m.f, '__name__', type(m.f).__name__)!r}), which is code, not data. Use an "
                "MLP (workbench.scm.mlp) or LinearGaussian to save it, or rebuild this variable in "
                "code after loading (model.replace(...)).")
        return {"kind": "additive_noise", **out,
                "f": {"kind": "mlp", "w1": _tensor_to_spec(m.f.w1), "b1": _tensor_to_spec(m.f.b1),
                      "w2": _tensor_to_spec(m.f.w2)},
                "noise": _noise_to_spec(m.noise(), where)}
    raise NotSerialisableError(
        f"{where} is a {type(m).__name__}, which is code, not data, so it cannot be saved. "
        "Built-in kinds save: LinearGaussian, AdditiveNoise with an MLP, DiscreteCPT; "
        "otherwise rebuild this variable in code after loading.")


def _mechanism_from_spec(v: str, d):
    where = f"mechanisms[{v!r}]"
    d = _fields(d, where, "kind", "parents", "noise")
    parents = _string_list(d["parents"], f"{where}.parents")
    kind = d["kind"]
    if kind in _REGISTERED:
        return _REGISTERED[kind][2](d, parents, where)
    if kind == "linear_gaussian":
        d = _fields(d, where, "weights", "bias")
        noise = _fields(d["noise"], f"{where}.noise", "kind", "loc", "scale")
        if noise["kind"] != "normal" or noise["loc"] != 0:
            raise SpecError(f"{where}: a linear_gaussian mechanism has Normal(0, scale) noise.")
        weights = d["weights"]
        if not isinstance(weights, list) or len(weights) != len(parents):
            raise SpecError(f"{where}: give one weight per parent ({len(parents)}).")
        return LinearGaussian(dict(zip(parents, [_number(w, f"{where}.weights") for w in weights])),
                              bias=_number(d["bias"], f"{where}.bias"),
                              noise_scale=_number(noise["scale"], f"{where}.noise.scale"))
    if kind == "discrete_cpt":
        return DiscreteCPT(parents, _tensor_from_spec(_fields(d, where, "table")["table"], f"{where}.table"))
    if kind == "additive_noise":
        f = _fields(_fields(d, where, "f")["f"], f"{where}.f", "kind")
        if f["kind"] != "mlp":
            raise SpecError(f"{where}.f: unknown function kind {f['kind']!r}; only 'mlp' is saved as data.")
        f = _fields(f, f"{where}.f", "w1", "b1", "w2")
        net = MLP(*[_tensor_from_spec(f[k], f"{where}.f.{k}") for k in ("w1", "b1", "w2")])
        return AdditiveNoise(parents, net,
                             noise=_noise_from_spec(d["noise"], f"{where}.noise"))
    raise SpecError(f"{where}: unknown mechanism kind {kind!r}; known kinds: "
                    f"{', '.join(['linear_gaussian', 'additive_noise', 'discrete_cpt', *_REGISTERED])} "
                    "(flow mechanisms register on `import workbench.latents`).")


# ------------------------------------------------------------------ small checks
def _fields(d, where: str, *names) -> dict:
    if not isinstance(d, dict):
        raise SpecError(f"{where} must be a JSON object (a dict), got {type(d).__name__}.")
    missing = [k for k in names if k not in d]
    if missing:
        raise SpecError(f"{where} is missing the field(s) {missing}; see workbench.scm.spec for the layout.")
    return d


def _number(x, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise SpecError(f"{where} must be a number, got {x!r}.")
    return float(x)


def _string_list(x, where: str) -> list[str]:
    if not isinstance(x, list) or not all(isinstance(s, str) for s in x):
        raise SpecError(f"{where} must be a list of variable names (strings), got {x!r}.")
    return x


# ------------------------------------------------------------------ interventions
def _intervention_to_spec(v: str, a) -> dict:
    if isinstance(a, Shift):
        return {"kind": "shift", "delta": float(a.delta)}
    if isinstance(a, torch.Tensor):
        return {"kind": "set", "value": _tensor_to_spec(a)}
    what = "a Transform" if isinstance(a, Transform) else type(a).__name__
    raise NotSerialisableError(
        f"The intervention on {v!r} is {what}, which is code, not data, so it cannot be saved. "
        "Save the model without it (its unintervened form) and apply it again after loading.")


def _intervention_from_spec(v: str, d):
    where = f"interventions[{v!r}]"
    kind = _fields(d, where, "kind")["kind"]
    if kind == "shift":
        return Shift(_number(_fields(d, where, "delta")["delta"], f"{where}.delta"))
    if kind == "set":
        return _tensor_from_spec(_fields(d, where, "value")["value"], f"{where}.value")
    raise SpecError(f"{where}: unknown intervention kind {kind!r}; known kinds: set, shift.")


# ------------------------------------------------------------------ the public API
def scm_to_spec(scm: SCM) -> dict:
    """Describe ``scm`` as a dict of plain JSON types (see the module docstring).

    Raises
    ------
    NotSerialisableError
        If a mechanism, noise or intervention is code rather than data (a user
        function); the message names the variable.

    Examples
    --------
    >>> from workbench.scm import asia
    >>> spec = scm_to_spec(asia())
    >>> spec["format"], spec["mechanisms"]["smoke"]["kind"]
    ('workbench.scm/1', 'discrete_cpt')
    """
    if not isinstance(scm, SCM):
        raise WorkbenchInputError(f"scm_to_spec needs a workbench SCM, got {type(scm).__name__}.")
    variables = list(scm.mechanisms)
    return {
        "format": FORMAT,
        "name": scm.name,
        "variables": variables,
        "latent": [v for v in variables if v in scm.latent],
        "graph": {"edges": [[p, v] for v in variables for p in scm.mechanisms[v].parents]},
        "mechanisms": {v: _mechanism_to_spec(v, scm.mechanisms[v]) for v in variables},
        "interventions": {v: _intervention_to_spec(v, a) for v, a in scm.interventions.items()},
        "observations": {v: _tensor_to_spec(x) for v, x in scm.observations.items()},
    }


def scm_from_spec(spec: Mapping) -> SCM:
    """Build the SCM a spec describes (the inverse of :func:`scm_to_spec`).

    Raises
    ------
    SpecError
        For an unknown ``format``, a missing field, an unknown mechanism, noise or
        intervention kind, or a graph that disagrees with the mechanisms' parents.
    workbench.errors.CycleError
        If the parents form a directed cycle (the cycle is named).

    Examples
    --------
    >>> from workbench.scm import asia
    >>> scm_from_spec(scm_to_spec(asia())).variables == asia().variables
    True
    """
    d = _fields(dict(spec) if isinstance(spec, Mapping) else spec, "The spec", "format")
    if d["format"] != FORMAT:
        raise SpecError(f"Unknown spec format {d['format']!r}; this workbench reads {FORMAT!r}. "
                        "Was the file written by another program or a newer workbench?")
    d = _fields(d, "The spec", "name", "variables", "latent", "graph", "mechanisms")
    unknown = sorted(set(d) - set(_TOP_LEVEL))
    if unknown:
        raise SpecError(f"The spec has unknown field(s) {unknown}; {FORMAT!r} has {list(_TOP_LEVEL)}.")
    variables = _string_list(d["variables"], "variables")
    mechs = _fields(d["mechanisms"], "mechanisms", *variables)
    extra = sorted(set(mechs) - set(variables))
    if extra or len(set(variables)) != len(variables):
        raise SpecError(f"variables must list each mechanism once; extra mechanisms {extra}, "
                        f"variables {variables}.")
    mechanisms = {v: _mechanism_from_spec(v, mechs[v]) for v in variables}
    edges = _fields(d["graph"], "graph", "edges")["edges"]
    if not isinstance(edges, list) or not all(isinstance(e, list) and len(e) == 2 for e in edges):
        raise SpecError("graph.edges must be a list of [parent, child] pairs.")
    implied = {(p, v) for v, m in mechanisms.items() for p in m.parents}
    if {tuple(e) for e in edges} != implied:
        differ = sorted({tuple(e) for e in edges} ^ implied)
        raise SpecError(f"graph.edges disagree with the mechanisms' parents at {differ}; "
                        "each edge [p, v] must match a parent p of v, and every parent needs its edge.")
    scm = SCM(mechanisms, latent=_string_list(d["latent"], "latent"), name=str(d["name"]))
    acts = d.get("interventions") or {}
    obs = d.get("observations") or {}
    if not isinstance(acts, dict) or not isinstance(obs, dict):
        raise SpecError("interventions and observations must be JSON objects {variable: ...}.")
    if acts:
        scm = scm.do({v: _intervention_from_spec(v, a) for v, a in acts.items()})
    if obs:
        scm = scm.condition({v: _tensor_from_spec(x, f"observations[{v!r}]") for v, x in obs.items()})
    return scm
