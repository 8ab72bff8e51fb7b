"""Tests of workbench.graphs: validation, surgery, relatives, d-separation."""

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import CycleError, GraphError, UnknownVariableError, WorkbenchInputError
from workbench.graphs import (
    ADMG, admg, ancestors, as_admg, children, d_separated, dag, descendants, mutilate,
    parents, topological_order, validate, would_create_cycle,
)
from tests.fixtures_graphs import ALL, CHAIN, COLLIDER, FORK, FRONT_DOOR, M_BIAS, NAPKIN


# ------------------------------------------------------------------ fixtures
def test_fixtures_are_frozen():
    with pytest.raises(nx.NetworkXError):
        CHAIN.add_edge("y", "x")
    with pytest.raises(nx.NetworkXError):
        FRONT_DOOR.bidirected.add_edge("tar", "cancer")


@pytest.mark.parametrize("name", sorted(ALL))
def test_fixtures_are_valid(name):
    validate(ALL[name])


# ---------------------------------------------------------------- validation
def test_cycle_is_refused_and_named():
    with pytest.raises(CycleError, match="a -> b -> c -> a"):
        dag([("a", "b"), ("b", "c"), ("c", "a")])


def test_self_loop_is_a_cycle():
    with pytest.raises(CycleError):
        dag([("a", "a")])


def test_bidirected_self_loop_is_refused():
    with pytest.raises(GraphError, match="self-loop"):
        admg([("a", "b")], bidirected=[("a", "a")])


def test_not_a_graph_is_refused():
    with pytest.raises(GraphError, match="DiGraph"):
        validate([("a", "b")])
    with pytest.raises(GraphError):
        validate(nx.Graph([("a", "b")]))


def test_errors_are_value_errors():
    assert issubclass(CycleError, WorkbenchInputError) and issubclass(CycleError, ValueError)


def test_unknown_node_suggests_a_name():
    with pytest.raises(UnknownVariableError, match="Did you mean 'smoking'"):
        parents(FRONT_DOOR, "smokin")
    with pytest.raises(UnknownVariableError):
        mutilate(CHAIN, ["z"])


# ------------------------------------------------------------------- surgery
def test_mutilate_removes_incoming_edges_and_returns_a_new_graph():
    cut = mutilate(CHAIN, ["m"])
    assert sorted(cut.edges()) == [("m", "y")]
    assert sorted(CHAIN.edges()) == [("m", "y"), ("x", "m")]  # original untouched
    assert not nx.is_frozen(cut)


def test_mutilate_admg_removes_bidirected_edges_of_targets():
    cut = mutilate(FRONT_DOOR, ["smoking"])
    assert isinstance(cut, ADMG)
    assert not cut.has_bidirected("smoking", "cancer")
    assert FRONT_DOOR.has_bidirected("smoking", "cancer")
    assert sorted(cut.directed.edges()) == [("smoking", "tar"), ("tar", "cancer")]


def test_napkin_districts_and_canonical_dag():
    assert sorted(sorted(c) for c in NAPKIN.c_components()) == [["w1", "x", "y"], ["w2"]]
    g = NAPKIN.to_canonical_dag()
    latent = [v for v, d in g.nodes(data=True) if d.get("latent")]
    assert len(latent) == 2 and all(g.out_degree(u) == 2 for u in latent)


def test_as_admg_of_dag_has_no_bidirected_edges():
    g = as_admg(FORK)
    assert g.bidirected.number_of_edges() == 0 and set(g.nodes) == {"c", "x", "y"}


# ----------------------------------------------------------------- relatives
def test_relatives_on_fixtures():
    assert parents(COLLIDER, "c") == ["x", "y"]
    assert children(FORK, "c") == ["x", "y"]
    assert ancestors(CHAIN, ["y"]) == {"x", "m", "y"}
    assert ancestors(CHAIN, ["y"], inclusive=False) == {"x", "m"}
    assert descendants(M_BIAS, ["u1"]) == {"u1", "x", "m", "y"}
    assert parents(NAPKIN, "x") == ["w2"]  # bidirected edges are not parents


def test_topological_order_is_deterministic():
    assert topological_order(M_BIAS) == ["u1", "u2", "m", "x", "y"]
    assert topological_order(NAPKIN) == ["w1", "w2", "x", "y"]


def test_would_create_cycle():
    assert would_create_cycle(CHAIN, "y", "x") == ["x", "m", "y", "x"]
    assert would_create_cycle(CHAIN, "x", "y") is None
    assert would_create_cycle(CHAIN, "m", "m") == ["m", "m"]


# ------------------------------------------------------------- d-separation
@pytest.mark.parametrize("graph, x, y, z, expected", [
    (CHAIN, "x", "y", set(), False),
    (CHAIN, "x", "y", {"m"}, True),
    (FORK, "x", "y", set(), False),
    (FORK, "x", "y", {"c"}, True),
    (COLLIDER, "x", "y", set(), True),
    (COLLIDER, "x", "y", {"c"}, False),
    (M_BIAS, "u1", "u2", set(), True),
    (M_BIAS, "u1", "u2", {"m"}, False),       # conditioning on the collider opens the path
    (M_BIAS, "u1", "y", {"x"}, True),
    (M_BIAS, "u1", "y", {"x", "m"}, False),
    (FRONT_DOOR, "smoking", "cancer", {"tar"}, False),  # the hidden confounder
    (NAPKIN, "w2", "y", {"w1"}, False),       # w2 -> x -> y is open
    # x is a collider (w2 -> x <-> w1) and so is w1 (x <-> w1 <-> y): given both, open
    (NAPKIN, "w2", "y", {"x", "w1"}, False),
    (NAPKIN, "w1", "x", {"w2"}, False),       # a bidirected edge never separates
])
def test_d_separation_on_fixtures(graph, x, y, z, expected):
    assert d_separated(graph, x, y, z) is expected


def test_d_separation_needs_disjoint_sets():
    with pytest.raises(GraphError, match="disjoint"):
        d_separated(CHAIN, {"x"}, {"x"})


# ---------------------------------------------------------- property tests
@st.composite
def random_dags(draw, max_nodes=7):
    n = draw(st.integers(1, max_nodes))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    perm = draw(st.permutations(range(n)))  # relabel so that names do not reveal the order
    return dag([(f"v{perm[i]}", f"v{perm[j]}") for i, j in chosen], nodes=[f"v{k}" for k in range(n)])


@settings(max_examples=60, deadline=None)
@given(random_dags())
def test_topological_order_respects_every_edge(g):
    order = topological_order(g)
    assert sorted(order) == sorted(g.nodes)
    pos = {v: i for i, v in enumerate(order)}
    assert all(pos[a] < pos[b] for a, b in g.edges())


@settings(max_examples=60, deadline=None)
@given(random_dags(), st.data())
def test_mutilate_cuts_parents_keeps_the_rest_and_is_idempotent(g, data):
    targets = data.draw(st.lists(st.sampled_from(sorted(g.nodes)), unique=True))
    before = sorted(g.edges())
    cut = mutilate(g, targets)
    assert sorted(g.edges()) == before
    assert all(cut.in_degree(t) == 0 for t in targets)
    assert set(cut.edges()) == {(a, b) for a, b in g.edges() if b not in targets}
    assert sorted(mutilate(cut, targets).edges()) == sorted(cut.edges())


@settings(max_examples=60, deadline=None)
@given(random_dags(), st.data())
def test_would_create_cycle_agrees_with_networkx(g, data):
    a = data.draw(st.sampled_from(sorted(g.nodes)))
    b = data.draw(st.sampled_from(sorted(g.nodes)))
    cycle = would_create_cycle(g, a, b)
    h = nx.DiGraph(g)
    h.add_edge(a, b)
    assert (cycle is None) == nx.is_directed_acyclic_graph(h)
    if cycle is not None and a != b:
        assert cycle[0] == b and cycle[-1] == b and cycle[-2] == a
        assert all(g.has_edge(u, v) for u, v in zip(cycle[:-2], cycle[1:-1]))


@settings(max_examples=60, deadline=None)
@given(random_dags(max_nodes=6), st.data())
def test_d_separation_is_symmetric_and_parents_screen_off_non_descendants(g, data):
    nodes = sorted(g.nodes)
    v = data.draw(st.sampled_from(nodes))
    pa = set(parents(g, v))
    others = sorted(set(nodes) - descendants(g, [v]) - pa)
    if others:  # the local Markov property
        assert d_separated(g, {v}, set(others), pa)
    x, y = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
    if x != y:
        rest = [n for n in nodes if n not in (x, y)]
        z = set(data.draw(st.lists(st.sampled_from(rest), unique=True))) if rest else set()
        assert d_separated(g, x, y, z) == d_separated(g, y, x, z)


@pytest.mark.parametrize("bad", [[("a",)], ["ab"], ["abc"], [("a", "b", "c")], [1]])
def test_malformed_edges_are_a_typed_error(bad):
    from workbench.errors import GraphError
    from workbench.graphs import admg, dag

    with pytest.raises(GraphError, match="pair"):
        dag(bad)
    with pytest.raises(GraphError, match="pair"):
        admg(bidirected=bad)
