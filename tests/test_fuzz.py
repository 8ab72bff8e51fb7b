"""Property-based fuzzing of the public entry points: bad input is refused, never mishandled.

For random, often malformed inputs (wrong types, NaN and infinity, empty, unknown names,
out-of-range values, wrong shapes) every call below must either return a result with
finite numbers or raise a ``ValueError`` subclass from :mod:`workbench.errors`. Never
another exception type, never a NaN score, and never an input altered behind the
caller's back (issue 11). Deterministic: ``derandomize=True`` and no example database,
so the same examples run every time; each test is bounded to a few dozen examples.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench.datasets as wd
from workbench import graphs as wg
from workbench import identification as wi
from workbench import metrics as wm
from workbench.diagrams import from_observational, interventional, state, surgery_conditions
from workbench.diagrams.kernels import Wire
from workbench.errors import WorkbenchError
from workbench.graphs.projection import latent_projection
from workbench.graphs.separators import minimal_d_separators
from workbench.scm import SCM, DiscreteCPT, LinearGaussian

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

# ------------------------------------------------------------------ the contract


def _snapshot(x):
    """A comparable picture of ``x``, to detect inputs altered by a call."""
    if isinstance(x, torch.Tensor):
        return ("tensor", x.dtype, tuple(x.shape), x.detach().cpu().clone())
    if isinstance(x, np.ndarray):
        return ("array", x.dtype, x.shape, x.copy())
    if isinstance(x, wg.ADMG):
        return ("admg", _snapshot(x.directed), _snapshot(x.bidirected))
    if isinstance(x, nx.Graph):
        return ("graph", type(x), sorted(map(repr, x.nodes(data=True))), sorted(map(repr, x.edges(data=True))))
    if isinstance(x, wi.DiscreteTable):
        return ("table", x.variables, _snapshot(x.values))
    if isinstance(x, dict):
        return ("dict", [(repr(k), _snapshot(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple, set, frozenset)):
        items = sorted(x, key=repr) if isinstance(x, (set, frozenset)) else x
        return (type(x).__name__, [_snapshot(v) for v in items])
    return ("value", repr(x))


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape \
            and torch.equal(torch.nan_to_num(a, 7.0), torch.nan_to_num(b, 7.0)) \
            and torch.equal(torch.isnan(a) if a.is_floating_point() else a, torch.isnan(b) if b.is_floating_point() else b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _finite(x, path="result"):
    """Every number reachable in ``x`` is finite (NaN scores are the bug we hunt)."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point():
            assert bool(torch.isfinite(x).all()), f"{path} holds NaN or infinity"
    elif isinstance(x, float):
        assert math.isfinite(x), f"{path} = {x}"
    elif isinstance(x, wi.DiscreteTable):
        _finite(x.values, path)
    elif isinstance(x, wm.MetricResult):
        _finite(x.score, path + ".score")
        for k, v in (x.scores or {}).items():
            _finite(v, f"{path}.scores[{k!r}]")
    elif isinstance(x, dict):
        for k, v in x.items():
            _finite(v, f"{path}[{k!r}]")
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            _finite(v, f"{path}[{i}]")


def outcome(fn, *args, **kwargs):
    """Call ``fn``; return its result or the typed error it raised (anything else fails)."""
    before = _snapshot((args, kwargs))
    try:
        result = fn(*args, **kwargs)
    except WorkbenchError as err:
        assert isinstance(err, ValueError), f"{type(err).__name__} is not a ValueError"
        result = err
    except Exception as err:  # noqa: BLE001 - exactly what this test hunts
        pytest.fail(f"{getattr(fn, '__qualname__', fn)}{args!r:.300} {kwargs!r:.200} raised "
                    f"{type(err).__module__}.{type(err).__name__}: {err}")
    assert _same(_snapshot((args, kwargs)), before), f"{fn} altered its input"
    if not isinstance(result, Exception):
        _finite(result)
    return result


def ok(result) -> bool:
    return not isinstance(result, Exception)


# ------------------------------------------------------------------ strategies

NAMES = st.one_of(st.sampled_from(["x", "y", "z", "w", "ab", "a", "b", "$\\frac$", "a}b"]),
                  st.integers(-1, 3))
JUNK = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-5, 5), st.text(max_size=3), st.lists(st.integers(-1, 3), max_size=3))
EDGE = st.one_of(st.tuples(NAMES, NAMES), st.tuples(NAMES), st.tuples(NAMES, NAMES, NAMES),
                 NAMES.map(str))
NODES_ARG = st.one_of(NAMES, st.lists(NAMES, max_size=3), st.sets(NAMES, max_size=3), JUNK)
FLOATS = st.floats(min_value=-3, max_value=3) | st.sampled_from([math.nan, math.inf, -math.inf, 0.0])


def tensors(max_dims=3, max_side=4, dtype=torch.float64):
    shape = st.lists(st.integers(0, max_side), min_size=0, max_size=max_dims)
    return shape.flatmap(lambda s: st.lists(FLOATS, min_size=int(np.prod(s)), max_size=int(np.prod(s)))
                         .map(lambda v, s=s: torch.tensor(v, dtype=dtype).reshape(s)))


# ------------------------------------------------------------------ graphs

@FUZZ
@given(edges=st.lists(EDGE, max_size=5), bidirected=st.lists(EDGE, max_size=2),
       a=NODES_ARG, b=NODES_ARG, c=NODES_ARG)
def test_graph_entry_points(edges, bidirected, a, b, c):
    g = outcome(wg.dag, edges)
    m = outcome(wg.admg, edges, bidirected)
    for graph in (g, m, "not a graph", None):
        if isinstance(graph, Exception):
            continue
        for fn in (wg.ancestors, wg.descendants, wg.mutilate):
            result = outcome(fn, graph, a)
            if ok(result) and fn is not wg.mutilate:
                assert result <= set(wg.nodes_of(graph))
        for fn in (wg.parents, wg.children):
            outcome(fn, graph, a)
        outcome(wg.topological_order, graph)
        outcome(wg.d_separated, graph, a, b, c)
        found = outcome(minimal_d_separators, graph, a, b)
        if ok(found) and found:
            assert all(wg.d_separated(graph, a, b, s) for s in found[:3])
        outcome(latent_projection, graph, c if isinstance(c, (list, set)) else [])


# ------------------------------------------------------------------ identification

@FUZZ
@given(edges=st.lists(st.tuples(NAMES, NAMES), max_size=5), bidirected=st.lists(st.tuples(NAMES, NAMES), max_size=2),
       x=NODES_ARG, y=NODES_ARG, z=NODES_ARG, max_size=st.one_of(st.none(), JUNK))
def test_identification_entry_points(edges, bidirected, x, y, z, max_size):
    g = outcome(wg.admg, edges, bidirected)
    graph = g if ok(g) else "not a graph"
    result = outcome(wi.identify, graph, x, y)
    outcome(wi.check_backdoor, graph, x, y, z)
    outcome(wi.check_frontdoor, graph, x, y, z)
    outcome(wi.backdoor_sets, graph, x, y, max_size=max_size)
    outcome(wi.minimal_backdoor_set, graph, x, y)
    if ok(result) and result.identifiable:
        model = wi.random_discrete_model(graph, seed=0)
        estimate = outcome(result.evaluate, model.observational())
        if ok(estimate) and result.query.treatments:   # an exact table: the estimand is the truth
            truth = model.interventional(result.query.treatments, result.query.outcomes)
            assert estimate.max_abs_diff(truth) < 1e-9


@FUZZ
@given(values=tensors(), names=st.lists(NAMES, max_size=3), column=tensors(max_dims=1, max_side=6),
       cards=st.one_of(st.none(), st.dictionaries(NAMES, JUNK, max_size=2)))
def test_discrete_tables(values, names, column, cards):
    table = outcome(wi.DiscreteTable, tuple(names), values)
    if ok(table):
        assert (table.values >= 0).all()
        estimand = wi.Probability(names[-1:], names[:-1])
        value = outcome(estimand.evaluate, table)
        if ok(value) and names:
            cond = value.values.sum(-1) if value.variables[-1] == names[-1] else None
            if cond is not None:   # a conditional where defined sums to one
                assert torch.allclose(cond, torch.ones_like(cond), atol=1e-6)
    samples = outcome(wi.DiscreteTable.from_samples, {"c": column}, cards)
    if ok(samples):
        assert float(samples.values.sum()) == pytest.approx(1.0)


# ------------------------------------------------------------------ diagrams

@FUZZ
@given(edges=st.lists(st.tuples(st.sampled_from("hxyz"), st.sampled_from("hxyz")), max_size=5),
       treatment=NAMES, hidden=st.one_of(st.none(), st.lists(NAMES, max_size=2)),
       sizes=st.dictionaries(st.sampled_from("hxyz"), st.one_of(st.integers(-1, 3), JUNK), max_size=4),
       probs=tensors(max_dims=2, max_side=3))
def test_diagram_entry_points(edges, treatment, hidden, sizes, probs):
    g = outcome(wg.dag, edges, nodes=["x", "y"])
    graph = g if ok(g) else "not a graph"
    outcome(surgery_conditions, graph, treatment, hidden=hidden)
    tables = {v: torch.full((2,) * (1 + len(list(graph.predecessors(v)))), 0.5)
              for v in (graph.nodes if ok(g) else [])}
    result = outcome(interventional, graph, sizes, tables, treatment, hidden=hidden)
    if ok(result):
        assert torch.allclose(result.table.sum(-1), torch.ones(()), atol=1e-6) or result.table.dim() == 0
    k = outcome(state, [Wire("x", 2)], probs)
    if ok(k) and ok(g) and set(graph.nodes) == {"x"}:
        outcome(from_observational, graph, k, "x")


# ------------------------------------------------------------------ datasets

@FUZZ
@given(name=st.one_of(st.sampled_from(sorted(wd.DATASETS)), JUNK), n=st.one_of(st.integers(-1, 3), JUNK),
       factor=st.one_of(st.integers(-1, 6), NAMES, JUNK), value_index=st.one_of(st.none(), JUNK),
       variable=st.one_of(st.sampled_from(["shape", "scale", "theta", "phi", "digit", "intensity",
                                            "pos_x", "object_hue", "shadow_length"]), NAMES),
       value=st.one_of(FLOATS, JUNK), factors=tensors(max_dims=2, max_side=6))
def test_dataset_entry_points(name, n, factor, value_index, variable, value, factors):
    ds = outcome(wd.load, name)
    if not ok(ds):
        return
    images = outcome(ds.sample, n, generator=0)
    if ok(images):
        assert images[0].shape[0] == n and bool(((images[0] >= 0) & (images[0] <= 1)).all())
    fixed = outcome(ds.sample_fixed_factor, factor, 2, generator=0, value_index=value_index)
    if ok(fixed):
        k = ds.factor_index(factor)
        assert fixed[1][:, k].unique().numel() == 1
    outcome(ds.render, factors)
    outcome(ds.index_to_factors, factors.reshape(-1)[:3] if factors.dim() else factors)
    drawn = outcome(ds.scm.sample, 2, generator=0, interventions={variable: value})
    if ok(drawn):
        assert torch.allclose(drawn[1][variable], torch.tensor(float(value)).expand(2))


# ------------------------------------------------------------------ metrics

@settings(FUZZ, max_examples=60)
@given(n=st.integers(0, 12), latents=st.integers(0, 3), n_factors=st.integers(0, 2),
       kind=st.sampled_from(["int", "float", "nan", "constant", "mismatch", "1d", "list"]),
       seed=st.integers(0, 3), metric=st.sampled_from(sorted(wm.TABLE_METRICS)))
def test_metric_entry_points(n, latents, n_factors, kind, seed, metric):
    g = torch.Generator().manual_seed(seed)
    codes = torch.randn(n, latents, generator=g)
    factors = torch.randint(0, 3, (n, n_factors), generator=g)
    if kind == "float":
        factors = torch.randn(n, n_factors, generator=g)
    elif kind == "nan" and codes.numel():
        codes[0, 0] = math.nan
    elif kind == "constant":
        factors = torch.zeros(n, n_factors)
    elif kind == "mismatch":
        factors = factors[1:]
    elif kind == "1d":
        codes = codes.reshape(-1)
    elif kind == "list":
        codes = codes.tolist()
    options = {"mode": "fast"} if metric in ("dci", "infomec") else {}
    result = outcome(wm.TABLE_METRICS[metric], codes, factors, **options)
    if ok(result):
        assert -1e-9 <= result.score <= 1 + 1e-9


# ------------------------------------------------------------------ scm

@FUZZ
@given(weight=FLOATS, scale=FLOATS, table=tensors(max_dims=2, max_side=3),
       target=NAMES, value=st.one_of(FLOATS, JUNK), n=st.one_of(st.integers(-1, 4), JUNK),
       n_samples=st.one_of(st.integers(-1, 3), JUNK), factual=st.one_of(FLOATS, st.integers(-1, 3)))
def test_scm_entry_points(weight, scale, table, target, value, n, n_samples, factual):
    linear = outcome(lambda: SCM({"x": LinearGaussian(noise_scale=1.0),
                                  "y": LinearGaussian({"x": weight}, noise_scale=scale)}))
    discrete = outcome(lambda: SCM({"c": DiscreteCPT([], torch.tensor([0.4, 0.6])),
                                    "d": DiscreteCPT(["c"], table)}))
    for m in (linear, discrete):
        if not ok(m):
            continue
        outcome(m.sample, n, seed=0)
        intervened = outcome(m.do, {target: value})
        if ok(intervened):
            outcome(intervened.sample, 3, seed=0)
        conditioned = outcome(m.condition, {target: value})
        if ok(conditioned):
            outcome(conditioned.sample, 2, seed=0, particles=50)
        unit = {v: torch.tensor([factual]) for v in m.variables}
        outcome(m.counterfactual, unit, {m.variables[0]: value}, n_samples=n_samples)


@FUZZ
@given(values=tensors(max_dims=3, max_side=3), fixture=st.sampled_from(sorted(wi.FIXTURES)),
       normalise=st.booleans(), zero=st.integers(0, 7))
def test_estimands_on_arbitrary_tables(values, fixture, normalise, zero):
    """Any table: a typed refusal (shape, NaN, negative, unnormalised, positivity) or finite numbers."""
    f = wi.FIXTURES[fixture]
    names = tuple(v for v in f.graph.nodes)[:values.dim()]
    if normalise and values.numel() and bool(torch.isfinite(values).all()):
        flat = values.abs().reshape(-1).index_fill(0, torch.tensor([zero % values.numel()]), 0.0)
        values = (flat / flat.sum() if flat.sum() > 0 else flat).reshape(values.shape)
    table = outcome(wi.DiscreteTable, names, values)
    if ok(table):
        result = outcome(wi.identify, f.graph, f.treatments, f.outcomes)
        if result.identifiable:
            outcome(result.evaluate, table)
    outcome(wi.frontdoor_effect, values)


METRIC_OPTIONS = {
    "mig": ["bins", "num_points", "factor_bins"], "sap": ["num_train", "num_test", "svm_C", "seed"],
    "dci": ["num_train", "num_test", "max_iter", "max_depth", "learning_rate", "seed"],
    "modularity": ["bins", "num_points"], "explicitness": ["num_train", "num_test", "C", "max_iter"],
    "irs": ["num_points", "diff_quantile", "factor_bins"],
    "infomec": ["num_points", "n_neighbors", "bins", "active_fraction", "max_iter", "seed"],
    "mcc": ["correlation"],
}


@settings(FUZZ, max_examples=60)
@given(metric=st.sampled_from(sorted(METRIC_OPTIONS)), data=st.data(),
       value=st.one_of(JUNK, st.integers(-2, 50), st.sampled_from(["exact", "fast", "spearman", "pearson"])))
def test_metric_options(metric, data, value):
    """An estimator setting of the wrong type or range is refused, never passed to sklearn raw."""
    option = data.draw(st.sampled_from(METRIC_OPTIONS[metric]))
    g = torch.Generator().manual_seed(0)
    codes, factors = torch.randn(40, 3, generator=g), torch.randint(0, 3, (40, 2), generator=g)
    kwargs = {option: value}
    if metric in ("dci", "infomec"):
        kwargs["mode"] = "fast"
    result = outcome(wm.TABLE_METRICS[metric], codes, factors, **kwargs)
    if ok(result):
        assert -1e-9 <= result.score <= 1 + 1e-9
    outcome(wm.gaussian_total_correlation, codes if value != 0 else codes[:, :1] * 0)
