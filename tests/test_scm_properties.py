"""Property tests over random SCMs (hypothesis): laws every model must obey."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.graphs import descendants
from workbench.scm import (
    counterfactual, counterfactual_by_hand, random_discrete_scm, random_linear_scm,
    random_nonlinear_scm,
)

models = st.builds(
    lambda kind, n, seed: (random_linear_scm if kind else random_nonlinear_scm)(n, edge_prob=0.5, seed=seed),
    st.booleans(), st.integers(2, 8), st.integers(0, 10_000))


@settings(max_examples=15, deadline=None)
@given(models, st.data())
def test_do_sets_the_target_and_spares_non_descendants(m, data):
    target = data.draw(st.sampled_from(m.variables))
    value = data.draw(st.floats(-3, 3))
    base, done = m.sample(64, seed=1), m.do({target: value}).sample(64, seed=1)
    assert torch.all(done[target] == torch.tensor(value, dtype=torch.float32))
    for v in set(m.variables) - descendants(m.graph, [target]):
        assert torch.equal(base[v], done[v]), v   # same seed, same noise, untouched mechanism


@settings(max_examples=15, deadline=None)
@given(models, st.data())
def test_counterfactual_routes_agree_and_a_null_action_changes_nothing(m, data):
    target = data.draw(st.sampled_from(m.variables))
    f = m.sample(32, seed=2)
    hand = counterfactual_by_hand(m, f, {target: 0.5})
    ours = counterfactual(m, f, {target: 0.5})
    for v in m.variables:
        torch.testing.assert_close(ours.counterfactual[v], hand.counterfactual[v])
    same = counterfactual(m, f, {target: f[target]})
    for v in m.variables:
        torch.testing.assert_close(same.counterfactual[v], f[v], atol=1e-5, rtol=1e-5)


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 7), st.integers(0, 3), st.integers(2, 3), st.integers(0, 10_000))
def test_random_discrete_models_are_well_formed(n, n_latent, k, seed):
    m = random_discrete_scm(n, n_latent=n_latent, n_categories=k, seed=seed)
    s = m.sample(50, seed=0)
    assert sorted(s) == sorted(f"x{j}" for j in range(n))
    assert all(x.dtype == torch.int64 and x.min() >= 0 and x.max() < k for x in s.values())
    g = m.observed_graph()
    assert set(g.nodes) == set(m.observed)
    assert g.bidirected.number_of_edges() <= n_latent
    for v in m.variables:
        table = m.mechanisms[v].table
        torch.testing.assert_close(table.sum(-1), torch.ones(table.shape[:-1]))
