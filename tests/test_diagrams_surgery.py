"""Surgery and comb disintegration against independent routes.

The front-door shape of Jacobs, Kissinger & Zanasi (smoking -> tar -> cancer)::

        h (hidden)
       / \\
      v   v
      x -> z -> y

For random discrete SCMs of this shape, comb disintegration of the observational joint
must equal (1) the front-door formula written out below with einsum, (2) the exact
interventional distribution of the generating model computed by hand from its tables,
and (3) Pyro / ChiRho ``do`` on the generating SCM.
"""

import pytest
import torch
from hypothesis import given, settings, strategies as st

from workbench.diagrams import (
    SupportError, SurgeryConditionsError, comb_disintegrate, from_observational, from_scm,
    random_front_door, smoking_example, state, surgery_conditions, Wire,
)
from workbench.diagrams.compare import do_calculus_kernel, pyro_do_kernel, three_ways
from workbench.diagrams.models import interventional_kernel, joint_kernel
from workbench.graphs import admg, dag
from workbench.scm import discrete_scm, random_discrete_scm

SETTINGS = settings(max_examples=12, deadline=None)


def _table(gen, *shape):
    e = -torch.log1p(-torch.rand(shape, generator=gen, dtype=torch.float64))
    return e / e.sum(-1, keepdim=True)


def random_front_door_scm(seed, nh, nx, nz, ny):
    """A discrete SCM h -> x, x -> z, (z, h) -> y; y's table axes deliberately (z, h)."""
    g = torch.Generator().manual_seed(seed)
    return discrete_scm({
        "h": ([], _table(g, nh)),
        "x": (["h"], _table(g, nh, nx)),
        "z": (["x"], _table(g, nx, nz)),
        "y": (["z", "h"], _table(g, nz, nh, ny)),
    }, latent=["h"])


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 3), st.integers(2, 3), st.integers(2, 3),
       st.integers(2, 3))
def test_comb_disintegration_is_the_front_door_formula_and_the_truth(seed, nh, nx, nz, ny):
    scm = random_front_door_scm(seed, nh, nx, nz, ny)
    model = from_scm(scm)
    joint = joint_kernel(model)                                        # P(x, z, y), hidden h summed out
    assert joint.output_names == ["x", "z", "y"]
    surgery = from_observational(model.graph, joint, "x", outcome=["y"]).table

    # (1) the front-door formula, directly: sum_z P(z|x) sum_x' P(x') P(y|x',z)
    p = joint.table
    p_x = p.sum((1, 2))
    p_z_given_x = p.sum(2) / p_x[:, None]
    p_y_given_xz = p / p.sum(2, keepdim=True)
    front_door = torch.einsum("xz,a,azy->xy", p_z_given_x, p_x, p_y_given_xz)
    assert torch.allclose(surgery, front_door, atol=1e-10)

    # (2) the generating model's interventional law by hand: sum_h P(h) sum_z P(z|x) P(y|z,h)
    t = {v: m.table.to(torch.float64) for v, m in scm.mechanisms.items()}
    truth = torch.einsum("h,xz,zhy->xy", t["h"], t["z"], t["y"])
    assert torch.allclose(surgery, truth, atol=1e-5)           # SCM tables are float32
    assert torch.allclose(interventional_kernel(model, "x", ["y"]).table, truth, atol=1e-5)

    # (3) Pyro / ChiRho do on the generating SCM, enumerated exactly
    assert torch.allclose(pyro_do_kernel(model, "x", ["y"], scm=scm).table, truth, atol=1e-5)


def test_front_door_with_two_mediators_and_a_further_outcome():
    for seed in range(4):
        m = random_front_door(seed, extra=True, sizes={"z": 3, "w": 3})
        shape = surgery_conditions(m.graph, "x")
        assert shape.kind == "front door" and shape.mediators == ("z", "z2")
        assert shape.rest == ("y", "w")
        got = from_observational(m.graph, joint_kernel(m), "x")
        assert got.output_names == ["z", "z2", "y", "w"]
        assert got.allclose(interventional_kernel(m, "x", got.output_names), atol=1e-10)


def test_the_smoking_example_three_ways():
    answers = three_ways(smoking_example(), "smoking", ["cancer"])
    truth = answers["truth"].table
    for route in ("surgery", "do-calculus", "pyro do"):
        assert torch.allclose(answers[route].table, truth, atol=1e-6), route
    # the naive conditional P(cancer | smoking) is confounded and differs
    naive = joint_kernel(smoking_example()).marginal(["smoking", "cancer"]).disintegrate(["smoking"])
    assert (naive.table - truth).abs().max() > 0.05


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_surgery_without_hidden_variables_equals_pyro_do(seed):
    scm = random_discrete_scm(4, n_categories=2 + seed % 2, n_latent=0, seed=seed, edge_prob=0.6)
    model = from_scm(scm)
    x = model.observed[seed % 2]
    shape = surgery_conditions(model.graph, x)
    assert shape.kind == "no hidden"
    surgery = from_observational(model.graph, joint_kernel(model), x)
    pyro_exact = pyro_do_kernel(model, x, surgery.output_names, scm=scm)
    assert surgery.allclose(pyro_exact, atol=1e-5)


def test_surgery_without_hidden_variables_matches_chirho_samples():
    scm = random_discrete_scm(3, n_latent=0, seed=7, edge_prob=1.0)      # x0 -> x1 -> x2, x0 -> x2
    model = from_scm(scm)
    surgery = from_observational(model.graph, joint_kernel(model), "x1", outcome=["x2"]).table
    n = 40_000
    for value in (0, 1):
        draws = scm.do(x1=torch.tensor(value)).sample(n, seed=11 + value)["x2"]
        freq = torch.bincount(draws.long(), minlength=2).double() / n
        se = (surgery[value] * (1 - surgery[value]) / n).sqrt()
        assert ((freq - surgery[value]).abs() < 5 * se + 1e-9).all()


def test_admg_input_is_accepted():
    g = admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")])
    shape = surgery_conditions(g, "x")
    assert shape.kind == "front door" and shape.mediators == ("z",)


# -- when the sufficient conditions fail -----------------------------------------------
def _latent(g, *names):
    for n in names:
        g.nodes[n]["latent"] = True
    return g


@pytest.mark.parametrize("edges, hidden, condition, identifiable", [
    ([("h", "x"), ("h", "y"), ("x", "y")], ["h"], "condition 3", False),          # the bow
    ([("w", "x"), ("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")], ["h"], "condition 1", True),
    ([("h", "x"), ("h", "y"), ("x", "m"), ("m", "y")], ["h", "m"], "condition 2", False),
    ([("h", "x"), ("h", "z"), ("x", "z"), ("z", "y")], ["h"], "condition 3", False),
    ([("w", "h"), ("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")], ["h"], "condition 4", True),
])
def test_uncovered_interventions_raise_a_typed_error(edges, hidden, condition, identifiable):
    """The refusal names the failed condition and what the ID algorithm says instead."""
    g = _latent(dag(edges), *hidden)
    with pytest.raises(SurgeryConditionsError, match=condition) as info:
        surgery_conditions(g, "x")
    verdict = "does identify" if identifiable else "is not identifiable"
    assert verdict in str(info.value)
    assert isinstance(info.value, ValueError)


def test_bow_graph_routes_say_why_they_do_not_apply():
    g = _latent(dag([("h", "x"), ("h", "y"), ("x", "y")]), "h")
    from workbench.diagrams import causal_tables
    gen = torch.Generator().manual_seed(0)
    model = causal_tables(g, {"h": 2, "x": 2, "y": 2},
                         {"h": _table(gen, 2), "x": _table(gen, 2, 2), "y": _table(gen, 2, 2, 2)})
    answers = three_ways(model, "x", ["y"])
    assert isinstance(answers["surgery"], SurgeryConditionsError)
    assert isinstance(answers["do-calculus"], ValueError)          # the hedge
    assert answers["pyro do"].allclose(answers["truth"], atol=1e-5)


def test_missing_support_and_bad_joint_raise():
    m = random_front_door(0)
    x, z, y = (Wire(n, 2) for n in "xzy")
    t = joint_kernel(m).table.clone()
    t[1, 0, :] = 0.0                                   # (x=1, z=0) never observed
    holed = state([x, z, y], t / t.sum())
    with pytest.raises(SupportError, match="full support"):
        from_observational(m.graph, holed, "x")
    with pytest.raises(SupportError, match="full support"):
        comb_disintegrate(holed, ["x"], ["z"], ["y"])
    with pytest.raises(ValueError, match="observed variables"):
        from_observational(m.graph, joint_kernel(m).marginal(["x", "z"]), "x")
    with pytest.raises(ValueError, match="Did you mean 'y'"):
        from_observational(m.graph, joint_kernel(m), "x", outcome=["yy"])
    with pytest.raises(SurgeryConditionsError, match="hidden"):
        surgery_conditions(m.graph, "h")


def test_do_calculus_route_uses_the_identification_estimand():
    m = random_front_door(5, sizes={"z": 3})
    got = do_calculus_kernel(m, "x", ["y"])
    assert got.allclose(interventional_kernel(m, "x", ["y"]), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_whenever_the_conditions_hold_the_answer_is_the_truth(seed):
    """Soundness over random graphs: hidden roots, random edges, every treatment tried."""
    from workbench.diagrams import causal_tables
    g = torch.Generator().manual_seed(seed)
    n_obs, n_hid = 5, int(torch.randint(0, 3, (), generator=g))
    obs = [f"v{i}" for i in range(n_obs)]
    edges = [(a, b) for i, a in enumerate(obs) for b in obs[i + 1:]
             if torch.rand((), generator=g) < 0.35]
    for k in range(n_hid):
        kids = torch.randperm(n_obs, generator=g)[:2].tolist()
        edges += [(f"h{k}", obs[j]) for j in kids]
    graph = dag(edges, nodes=obs)
    graph = _latent(graph, *[f"h{k}" for k in range(n_hid)])
    sizes = {v: int(torch.randint(2, 4, (), generator=g)) for v in graph.nodes}
    tables = {v: _table(g, *[sizes[p] for p in sorted(graph.predecessors(v))], sizes[v])
              for v in graph.nodes}
    model = causal_tables(graph, sizes, tables)
    for x in obs:
        try:
            surgery_conditions(graph, x)
        except SurgeryConditionsError:
            continue
        got = from_observational(graph, joint_kernel(model), x)
        assert got.allclose(interventional_kernel(model, x, got.output_names), atol=1e-10), (edges, x)
