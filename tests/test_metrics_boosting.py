"""DCI's fast mode against sklearn: the compiled split search grows sklearn's trees,
and ties between equally good splits are broken at random, as sklearn does."""

import numpy as np
import pytest
import torch
from sklearn.tree import DecisionTreeRegressor

from workbench import metrics
from workbench.metrics import tree_kernels
from workbench.metrics.boosting import TIE_TOLERANCE, boosted_importance
from workbench.metrics.synthetic import constructed_codes


def grow_tree(x, target, max_depth, seed=0):
    """One regression tree from our kernels; returns its (n_features,) importances."""
    x = x.astype(np.float32).astype(np.float64)
    n, n_feat = x.shape
    order = np.argsort(x, axis=0, kind="stable").T.copy()
    x_sorted = np.take_along_axis(x, order.T, 0).T.copy()
    resid, node = target[None, :].copy(), np.zeros((1, n), dtype=np.int64)
    active, rng = np.ones((1, 1), dtype=bool), np.random.default_rng(seed)
    importance = np.zeros(n_feat)
    for depth in range(max_depth):
        feature, threshold, gain = tree_kernels.best_splits(
            order, x_sorted, resid, node, active, rng.random((1, 2 ** depth, n_feat)),
            TIE_TOLERANCE)
        np.add.at(importance, feature[feature >= 0], gain[feature >= 0])
        tree_kernels.route(x, node, feature, threshold)
        active = np.repeat(feature >= 0, 2, axis=1)
    return importance / n, node[0]


@pytest.mark.parametrize("seed", range(4))
def test_one_tree_equals_sklearns_regression_tree(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 5))
    target = np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.3 * rng.normal(size=400)
    ours, leaves = grow_tree(x, target, max_depth=3)
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(x, target)
    theirs = tree.tree_.compute_feature_importances(normalize=False)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    # same partition of the samples into leaves
    sk_leaves = tree.apply(x.astype(np.float32))
    pairs = set(zip(leaves.tolist(), sk_leaves.tolist()))
    assert len(pairs) == len(set(sk_leaves.tolist()))


def test_first_boosting_stage_matches_sklearn_without_ties():
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + 0.3 * rng.normal(size=600) > 0).astype(np.int64)
    fit = boosted_importance(x, y[:, None], x[:10], y[:10, None], max_iter=3)
    model = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(x, y)
    np.testing.assert_allclose(fit.importance[:, 0].numpy(), model.feature_importances_,
                               atol=1e-9)
    assert fit.train_accuracy[0] == pytest.approx(model.score(x, y))


def test_ties_between_identical_latents_are_shared_at_random():
    # two copies of one latent: every split ties, so importance splits about evenly
    # (always taking the first feature, as a plain argmax does, would give 1 and 0)
    codes, factors = constructed_codes("disentangled", n_points=900, seed=1)
    twin = torch.cat([codes[:, :1], codes[:, :1]], 1)
    shares = [metrics.dci(twin, factors[:, :1], mode="fast", num_train=600, num_test=300,
                          max_iter=20, seed=s).details["importance"][:, 0] for s in (0, 1)]
    for share in shares:
        assert 0.3 < float(share[0]) < 0.7 and float(share.sum()) == pytest.approx(1.0)
    assert not torch.equal(shares[0], shares[1])  # the seed picks between ties


def test_fast_mode_agrees_with_exact_on_many_valued_factors():
    # 40- and 32-valued factors, where histogram bins used to be 0.02-0.03 off
    codes, factors = constructed_codes("mixed", n_points=900, seed=2, factor_sizes=(3, 40, 32))
    options = dict(num_train=600, num_test=300, max_iter=15)
    fast = metrics.dci(codes, factors, mode="fast", **options)
    exact = metrics.dci(codes, factors, mode="exact", **options)
    for key in ("disentanglement", "completeness"):
        assert fast.scores[key] == pytest.approx(exact.scores[key], abs=0.006), key
    assert fast.scores["informativeness_train"] == pytest.approx(
        exact.scores["informativeness_train"], abs=0.01)
    assert fast.choices["estimator"].startswith("workbench.metrics.boosting")
