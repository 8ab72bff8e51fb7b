"""Gradient-boosted trees for DCI's fast mode: sklearn's algorithm on binned features.

DCI's published estimator is sklearn's ``GradientBoostingClassifier`` (multinomial
deviance, 100 stages of depth-3 regression trees on the residuals ``y - p``, split
criterion ``friedman_mse``, Newton leaf values, learning rate 0.1); its feature
importance is each latent's total weighted impurity decrease. It is slow because it
sorts every feature at every node of every one of ``100 x n_classes`` trees.

This module runs the same algorithm with one change: split thresholds are restricted
to at most ``bins - 1`` quantile cut points per latent (all of them when a latent has
fewer distinct values, in which case the trees are sklearn's, up to ties). Split
search is a histogram: one weighted ``bincount`` gives, for every class's tree, every
node, latent and bin, the residual sums and counts; cumulative sums give every
candidate split's impurity decrease ``n_l n_r / n (mean_l - mean_r)^2`` at once.

Examples
--------
>>> import torch
>>> x = torch.linspace(0, 1, 200, dtype=torch.float64)[:, None].repeat(1, 2)
>>> x[:, 1] = torch.rand(200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
>>> y = (x[:, 0] > 0.5).long()
>>> fit = boosted_importance(x[:150], y[:150], x[150:], y[150:], max_iter=5)
>>> fit.importance[:, 0].argmax().item(), fit.test_accuracy
(0, [1.0])
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch

__all__ = ["bin_features", "boosted_importance", "BoostingFit"]


def bin_features(x_train: torch.Tensor, x_test: torch.Tensor, bins: int = 256):
    """Quantile cut points per column; return binned train and test (long tensors)."""
    n = x_train.shape[0]
    sorted_x = torch.sort(x_train, dim=0).values
    pos = torch.linspace(1, n - 1, min(bins - 1, n - 1)).round().long().unique()
    train_b, test_b = [], []
    for f in range(x_train.shape[1]):
        s = sorted_x[:, f]
        cuts = ((s[pos - 1] + s[pos]) / 2)[s[pos - 1] < s[pos]].unique()
        train_b.append(torch.searchsorted(cuts, x_train[:, f].contiguous(), side="left"))
        test_b.append(torch.searchsorted(cuts, x_test[:, f].contiguous(), side="left"))
    return torch.stack(train_b, 1), torch.stack(test_b, 1)


@dataclass
class BoostingFit:
    importance: torch.Tensor  # (n_features, n_targets); each column sums to 1 (or is 0)
    train_accuracy: list  # one per target
    test_accuracy: list


def _grow_level(base_t, resid, node, n_nodes, n_bins):
    """Best split (feature, bin, gain) of every node of every class's tree.

    Tree-major layout: ``resid`` and ``node`` are (n_trees, n); ``base_t[f, i] =
    f * n_bins + bin of sample i in feature f``.
    """
    n_feat, n = base_t.shape
    n_trees = resid.shape[0]
    block = n_feat * n_bins
    cells = n_trees * n_nodes * block
    tree_node = (torch.arange(n_trees)[:, None] * n_nodes + node) * block  # (n_trees, n)
    sums = torch.zeros(cells, dtype=resid.dtype)
    counts = torch.zeros(cells, dtype=resid.dtype)
    flat_resid, flat_ones = resid.reshape(-1), torch.ones(resid.numel(), dtype=resid.dtype)
    for f in range(n_feat):  # one scatter per latent, over every (tree, sample) pair
        index = (tree_node + base_t[f]).reshape(-1)
        sums.scatter_add_(0, index, flat_resid)
        counts.scatter_add_(0, index, flat_ones)
    sums = sums.reshape(n_trees, n_nodes, n_feat, n_bins)
    counts = counts.reshape(sums.shape)
    s_left, n_left = sums.cumsum(-1)[..., :-1], counts.cumsum(-1)[..., :-1]
    s_all, n_all = sums.sum(-1, keepdim=True), counts.sum(-1, keepdim=True)
    s_right, n_right = s_all - s_left, n_all - n_left
    ok = (n_left > 0) & (n_right > 0)
    diff = s_left / n_left.clamp_min(1) - s_right / n_right.clamp_min(1)
    gain = torch.where(ok, n_left * n_right / n_all.clamp_min(1) * diff ** 2,
                       torch.full_like(diff, -1.0))
    best_gain, best = gain.reshape(n_trees, n_nodes, -1).max(-1)
    return best // (n_bins - 1), best % (n_bins - 1), best_gain


def _route(xb_t, node, feat, cut, split):
    """Send each sample to its child; unsplit nodes send everything left.

    ``xb_t`` is (n_feat, n) bins; ``node`` (n_trees, n); ``feat``, ``cut``,
    ``split`` (n_trees, n_nodes).
    """
    f, c, s = feat.gather(1, node), cut.gather(1, node), split.gather(1, node)
    right = (torch.gather(xb_t, 0, f) > c) & s
    return 2 * node + right.long()


@contextmanager
def _one_thread():
    """Run on one torch thread: the loop's many small ops only lose to thread hand-offs
    (on a busy 2-core machine, 2 threads were 20x slower than 1)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def boosted_importance(x_train, y_train, x_test, y_test, *, max_iter=100, max_depth=3,
                       learning_rate=0.1, bins=256) -> BoostingFit:
    """Fit one boosted classifier per target column; return importances and accuracies.

    ``y_train`` (n, n_targets) and ``y_test`` (m, n_targets) hold labels
    0..n_classes-1 per column, every class present in training (a test label of -1
    marks a class never seen in training: always misclassified). The trees of every
    class of every target grow together, one histogram per level. Runs on one CPU
    thread (see :func:`_one_thread`).
    """
    with _one_thread():
        return _boost(x_train, y_train.reshape(len(y_train), -1),
                      x_test, y_test.reshape(len(y_test), -1), max_iter, max_depth,
                      learning_rate, bins)


def _probabilities(raw, groups):
    """Per target: sigmoid of its single tree (binary) or softmax over its trees.

    ``raw`` is tree-major, (n_trees, n).
    """
    return torch.cat([torch.sigmoid(raw[g]) if binary else torch.softmax(raw[g], 0)
                      for g, binary in groups], 0)


def _boost(x_train, y_train, x_test, y_test, max_iter, max_depth, learning_rate, bins):
    xb, xb_test = bin_features(x_train, x_test, bins)
    n_bins = int(max(xb.max(), xb_test.max())) + 2
    n, n_feat = xb.shape
    groups, targets, raw0, scale, owner = [], [], [], [], []
    start = 0
    for k in range(y_train.shape[1]):  # the trees of target k: columns start..start+t
        n_classes = int(y_train[:, k].max()) + 1
        onehot = torch.nn.functional.one_hot(y_train[:, k], n_classes).to(torch.float64)
        prior = onehot.mean(0).clamp(1e-15, 1.0)
        binary = n_classes == 2
        t = 1 if binary else n_classes
        targets.append(onehot[:, 1:] if binary else onehot)
        raw0.append(torch.log(prior[1:] / prior[0]) if binary else torch.log(prior))
        scale += [1.0 if binary else (n_classes - 1) / n_classes] * t
        owner += [k] * t
        groups.append((slice(start, start + t), binary))
        start += t
    target = torch.cat(targets, 1).T.contiguous()  # tree-major: (n_trees, n)
    raw = torch.cat(raw0)[:, None].repeat(1, n)
    raw_test = torch.cat(raw0)[:, None].repeat(1, x_test.shape[0])
    scale = torch.tensor(scale, dtype=torch.float64)
    owner = torch.tensor(owner)
    n_trees = target.shape[0]
    xb_t, xb_test_t = xb.T.contiguous(), xb_test.T.contiguous()
    base_t = torch.arange(n_feat)[:, None] * n_bins + xb_t
    importance = torch.zeros(y_train.shape[1] * n_feat, dtype=torch.float64)
    leaves = 2 ** max_depth
    for _ in range(max_iter):
        p = _probabilities(raw, groups)
        resid = target - p
        node = torch.zeros(n_trees, n, dtype=torch.long)
        node_test = torch.zeros(n_trees, x_test.shape[0], dtype=torch.long)
        for depth in range(max_depth):
            feat, cut, gain = _grow_level(base_t, resid, node, 2 ** depth, n_bins)
            split = gain > 0
            tree_of = owner[:, None].expand_as(feat)
            importance.index_add_(0, (tree_of * n_feat + feat)[split], gain[split])
            node = _route(xb_t, node, feat, cut, split)
            node_test = _route(xb_test_t, node_test, feat, cut, split)
        idx = (torch.arange(n_trees)[:, None] * leaves + node).reshape(-1)
        num = torch.bincount(idx, weights=resid.reshape(-1), minlength=n_trees * leaves)
        den = torch.bincount(idx, weights=(p * (1 - p)).reshape(-1), minlength=n_trees * leaves)
        num = num * scale.repeat_interleave(leaves)
        ok = den.abs() > 1e-150
        value = torch.where(ok, num / torch.where(ok, den, 1.0), 0.0).reshape(n_trees, leaves)
        raw = raw + learning_rate * value.gather(1, node)
        raw_test = raw_test + learning_rate * value.gather(1, node_test)

    def accuracy(r, y):
        out = []
        for k, (g, binary) in enumerate(groups):
            pred = (r[g][0] > 0).long() if binary else r[g].argmax(0)
            out.append(float((pred == y[:, k]).to(torch.float64).mean()))
        return out

    importance = importance.reshape(-1, n_feat).T
    total = importance.sum(0, keepdim=True)
    importance = torch.where(total > 0, importance / torch.where(total > 0, total, 1.0), 0.0)
    return BoostingFit(importance, accuracy(raw, y_train), accuracy(raw_test, y_test))
